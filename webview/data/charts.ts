// chart.js configurations of the Data panel as plain objects (no DOM), unit-tested in Node.
import type { ChartConfiguration } from 'chart.js';
import type { ColumnProfile, DataProfile } from '../../src/core/data/profileTypes';
import { axis, baseOptions, seriesColor, type ChartPalette } from '../../src/core/charts/style';

type BarConfig = ChartConfiguration<'bar', number[], string>;

/** Short label of a number for axis ticks (3 significant digits, no exponent below 1e6). */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e6) return String(v);
  const abs = Math.abs(v);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) return v.toExponential(2);
  return String(Number(v.toPrecision(3)));
}

/** Small untitled axes (the card names the column); a legend only for the stacked class balance. */
function barOptions(colors: ChartPalette, stacked = false): BarConfig['options'] {
  const ticks = { color: colors.muted, font: { size: 10 } };
  return baseOptions(colors, {
    legend: stacked,
    x: axis(colors, '', { ticks, grid: { color: colors.grid, display: false }, stacked }),
    y: axis(colors, '', { ticks, stacked, beginAtZero: true }),
  }) as BarConfig['options'];
}

/** Histogram of a numeric column (one bar per bin, labelled by its lower edge) or top values of a categorical one. */
export function columnChart(column: ColumnProfile, colors: ChartPalette): BarConfig {
  const color = seriesColor(colors, column.role === 'target' ? 1 : 0);
  if (column.stats.kind === 'numeric') {
    const { edges, counts } = column.stats.histogram;
    const labels = counts.map((_, i) => `${formatNumber(edges[i])}–${formatNumber(edges[i + 1])}`);
    const options = barOptions(colors);
    return {
      type: 'bar',
      data: {
        labels,
        datasets: [
          { label: column.name, data: counts, backgroundColor: color, barPercentage: 1, categoryPercentage: 1 },
        ],
      },
      options: {
        ...options,
        scales: {
          ...options!.scales,
          x: {
            ...options!.scales!.x,
            ticks: { color: colors.muted, font: { size: 10 }, maxTicksLimit: 4, maxRotation: 0 },
          },
        },
      },
    };
  }
  const top = column.stats.topValues;
  return {
    type: 'bar',
    data: {
      labels: top.map((t) => t.value),
      datasets: [{ label: column.name, data: top.map((t) => t.count), backgroundColor: color }],
    },
    // Every class label shows (chart.js skips labels that crowd by default).
    options: {
      ...barOptions(colors),
      indexAxis: 'y',
      scales: {
        ...barOptions(colors)!.scales,
        y: { ...barOptions(colors)!.scales!.y, ticks: { color: colors.muted, autoSkip: false, font: { size: 10 } } },
      },
    },
  };
}

/** Rows per class, stacked by split. Undefined when the project is not a classification. */
export function classBalanceChart(profile: DataProfile, colors: ChartPalette): BarConfig | undefined {
  const balance = profile.classBalance;
  if (!balance?.length) return undefined;
  const splits = ['train', 'dev', 'test'] as const;
  return {
    type: 'bar',
    data: {
      labels: balance.map((b) => b.class),
      datasets: splits.map((s, i) => ({
        label: s,
        data: balance.map((b) => b[s]),
        backgroundColor: seriesColor(colors, i),
      })),
    },
    options: barOptions(colors, true),
  };
}

/**
 * RGBA pixels of one image sample, scaled so the sample's own range maps to the theme's
 * foreground-on-transparent (so an 8×8 digit reads in light and dark themes alike).
 */
export function samplePixels(
  pixels: number[],
  width: number,
  height: number,
  channels: number,
  rgb: [number, number, number],
): Uint8ClampedArray<ArrayBuffer> {
  const out = new Uint8ClampedArray(width * height * 4);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of pixels) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const span = hi > lo ? hi - lo : 1;
  for (let p = 0; p < width * height; p++) {
    if (channels >= 3) {
      for (let c = 0; c < 3; c++) out[p * 4 + c] = ((pixels[p * channels + c] - lo) / span) * 255;
      out[p * 4 + 3] = 255;
    } else {
      out[p * 4] = rgb[0];
      out[p * 4 + 1] = rgb[1];
      out[p * 4 + 2] = rgb[2];
      out[p * 4 + 3] = ((pixels[p * channels] - lo) / span) * 255;
    }
  }
  return out;
}

/**
 * RGBA pixels of a decoded image file (uint8 values, channels last) as they are: opaque, a grey
 * channel repeated over red, green and blue, nothing stretched, so a dark or washed-out picture looks
 * dark or washed out (what tags like "dark" and a brightness augmentation are about). samplePixels is
 * for pixel columns of a table (digits' 0–16), whose range says nothing about brightness.
 */
export function photoPixels(
  pixels: number[],
  width: number,
  height: number,
  channels: number,
): Uint8ClampedArray<ArrayBuffer> {
  const out = new Uint8ClampedArray(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 3; c++) out[p * 4 + c] = pixels[p * channels + (channels >= 3 ? c : 0)];
    out[p * 4 + 3] = 255;
  }
  return out;
}

/** Parses a CSS colour of the forms #rgb, #rrggbb, #rrggbbaa or rgb(a)(r, g, b…). */
export function parseCssColor(css: string): [number, number, number] {
  const s = css.trim();
  const hex = /^#([0-9a-f]{3,8})$/i.exec(s)?.[1];
  if (hex) {
    const full = hex.length <= 4 ? [...hex].map((c) => c + c).join('') : hex;
    return [0, 2, 4].map((i) => parseInt(full.slice(i, i + 2), 16)) as [number, number, number];
  }
  const m = /^rgba?\(\s*(\d+)[\s,]+(\d+)[\s,]+(\d+)/i.exec(s);
  if (m) return [Number(m[1]), Number(m[2]), Number(m[3])];
  return [204, 204, 204];
}
