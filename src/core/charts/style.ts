// The look every chart.js configuration shares (Data, Training, Compare, Diagnostics, Run Diagnostics
// and Monitoring panels): the palette the webviews read from the VS Code theme, the series colours,
// the axes and the base options. Plain objects, no DOM: the webview passes its theme colours in
// (webview/shared/theme.ts) and only hands the result to chart.js. Ground level: imports no other core module.
import type { ChartConfiguration } from 'chart.js';

/** The colours a chart needs, read at render time from VS Code's --vscode-* theme variables. */
export interface ChartPalette {
  foreground: string;
  muted: string;
  grid: string;
  /** The theme's series colours (--vscode-charts-blue, -orange, -green, -purple, -yellow, -red). */
  series: string[];
  warning: string;
}

/**
 * Series colours after the theme's six, so that 20 classes or runs get 20 distinct colours: picked
 * from public categorical palettes (Kelly's, Tableau 20, d3's category10) as far as possible from the
 * dark and light themes' chart colours and from each other, and neither too dark nor too light to
 * read on either background.
 */
export const EXTRA_SERIES = [
  '#FFBE7D',
  '#0067A5',
  '#9D7660',
  '#499894',
  '#A1CAF1',
  '#D37295',
  '#17BECF',
  '#008856',
  '#BAB0AC',
  '#8DB600',
  '#B3446C',
  '#86BCB6',
  '#875692',
  '#59A14F',
];

const GOLDEN_ANGLE = 137.508;

/** The i-th series colour: the theme's series, then EXTRA_SERIES (20 colours with the default themes), then hues spaced by the golden angle. */
export function seriesColor(p: Pick<ChartPalette, 'series'>, i: number): string {
  if (i < p.series.length) return p.series[i];
  const extra = i - p.series.length;
  if (extra < EXTRA_SERIES.length) return EXTRA_SERIES[extra];
  const k = extra - EXTRA_SERIES.length;
  return `hsl(${Math.round(((k * GOLDEN_ANGLE) % 360) * 10) / 10}, 70%, ${k % 2 ? 62 : 50}%)`;
}

/** How many series get distinct colours before they repeat as generated hues (the theme's and EXTRA_SERIES). */
export function distinctSeries(p: Pick<ChartPalette, 'series'>): number {
  return p.series.length + EXTRA_SERIES.length;
}

/** An axis in the theme's colours; an empty title shows none. `extra` overrides or adds options (shallowly). */
export function axis(p: ChartPalette, title: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    title: { display: !!title, text: title, color: p.foreground, font: { size: 12 } },
    ticks: { color: p.muted, font: { size: 11 } },
    grid: { color: p.grid },
    border: { color: p.grid },
    ...extra,
  };
}

export interface BaseOptions {
  /** The chart's title; none when absent. */
  title?: string;
  /** Show the legend (default true). */
  legend?: boolean;
  x: Record<string, unknown>;
  y: Record<string, unknown>;
}

/** Options every chart shares: no animation (panels redraw on every update, and tests read exact canvases), sized by its box, theme-coloured title and legend. */
export function baseOptions(p: ChartPalette, o: BaseOptions): NonNullable<ChartConfiguration['options']> {
  return {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    plugins: {
      ...(o.title !== undefined ? { title: { display: true, text: o.title, color: p.foreground } } : {}),
      legend: { display: o.legend ?? true, labels: { color: p.foreground, boxWidth: 14, font: { size: 12 } } },
      tooltip: { enabled: true },
    },
    scales: { x: o.x, y: o.y },
  };
}

/** A CSS colour with alpha: #rgb/#rrggbb become rgba(); others are returned as they are. */
export function withAlpha(color: string, alpha: number): string {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color.trim());
  if (!m) return color;
  const hex = m[1].length === 3 ? [...m[1]].map((c) => c + c).join('') : m[1];
  const [r, g, b] = [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}
