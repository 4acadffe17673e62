// chart.js configurations of the Training and Compare panels, built as plain objects from the
// curves and the theme's colours (the webviews only hand them to chart.js). Series colours beyond
// the theme palette are generated, so any number of runs gets distinct colours and dash patterns.
import type { ChartConfiguration, ChartDataset } from 'chart.js';
import type { RunCurves } from './compare';

export interface ChartColors {
  foreground: string;
  grid: string;
  /** The theme's series palette, used first. */
  series: string[];
}

const GOLDEN_ANGLE = 137.508;
const DASHES: number[][] = [[], [6, 3], [2, 2], [8, 3, 2, 3]];

/** Colour and dash of the i-th series: the palette, then hues spaced by the golden angle. */
export function seriesStyle(i: number, palette: string[]): { color: string; dash: number[] } {
  const n = palette.length;
  const color = i < n ? palette[i] : `hsl(${Math.round((((i - n) * GOLDEN_ANGLE) % 360) * 10) / 10}, 70%, ${i % 2 ? 62 : 50}%)`;
  return { color, dash: n > 0 ? DASHES[Math.floor(i / Math.max(n, 1)) % DASHES.length] : [] };
}

type LineConfig = ChartConfiguration<'line', (number | null)[], number>;

function lineChart(title: string, steps: number[], datasets: ChartDataset<'line', (number | null)[]>[], colors: ChartColors, yTitle: string): LineConfig {
  return {
    type: 'line',
    data: { labels: steps, datasets },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      // Live updates redraw often: no animation keeps them cheap and the canvas exact for tests.
      animation: false,
      spanGaps: true,
      interaction: { mode: 'index', intersect: false },
      plugins: {
        title: { display: true, text: title, color: colors.foreground },
        legend: { labels: { color: colors.foreground, usePointStyle: true } },
      },
      scales: {
        x: { type: 'linear', title: { display: true, text: 'epoch', color: colors.foreground }, ticks: { color: colors.foreground, precision: 0 }, grid: { color: colors.grid } },
        y: { title: { display: true, text: yTitle, color: colors.foreground }, ticks: { color: colors.foreground }, grid: { color: colors.grid } },
      },
    },
  };
}

function line(label: string, data: (number | null)[], style: { color: string; dash: number[] }, extra: Partial<ChartDataset<'line', (number | null)[]>> = {}): ChartDataset<'line', (number | null)[]> {
  return { label, data, borderColor: style.color, backgroundColor: style.color, borderDash: style.dash, pointRadius: data.length > 60 ? 0 : 2, borderWidth: 2, ...extra };
}

const hasValues = (xs: (number | null)[]) => xs.some((v) => v !== null);

/** The Training panel: loss (train, dev) per epoch. */
export function trainingLossChart(c: RunCurves, colors: ChartColors): LineConfig {
  const datasets = [];
  if (hasValues(c.trainLoss)) datasets.push(line('train loss', c.trainLoss, { color: seriesStyle(0, colors.series).color, dash: [] }));
  if (hasValues(c.devLoss)) datasets.push(line('dev loss', c.devLoss, { color: seriesStyle(1, colors.series).color, dash: [] }));
  return lineChart('Loss', c.steps, datasets, colors, 'loss');
}

/** The Training panel: the project's metric on dev per epoch. */
export function trainingMetricChart(c: RunCurves, colors: ChartColors): LineConfig {
  const name = c.metricName ?? 'metric';
  const datasets = hasValues(c.devMetric) ? [line(`dev ${name}`, c.devMetric, { color: seriesStyle(2, colors.series).color, dash: [] })] : [];
  return lineChart(`Dev ${name}`, c.steps, datasets, colors, name);
}

export type CompareSeries = 'devLoss' | 'trainLoss' | 'devMetric';
const SERIES_TITLE: Record<CompareSeries, string> = { devLoss: 'Dev loss', trainLoss: 'Train loss', devMetric: 'Dev metric' };

/** The Compare panel: one series per run overlaid; runs have different step counts, so x is linear and labels are the union. */
export function compareChart(runs: RunCurves[], series: CompareSeries, colors: ChartColors): LineConfig {
  const steps = [...new Set(runs.flatMap((r) => r.steps))].sort((a, b) => a - b);
  const datasets = runs.map((r, i) => {
    const at = new Map(r.steps.map((s, k) => [s, r[series][k]]));
    return line(r.label, steps.map((s) => at.get(s) ?? null), seriesStyle(i, colors.series));
  });
  const metric = runs.find((r) => r.metricName)?.metricName;
  const title = series === 'devMetric' && metric ? `Dev ${metric}` : SERIES_TITLE[series];
  return lineChart(title, steps, datasets, colors, series === 'devMetric' ? (metric ?? 'metric') : 'loss');
}
