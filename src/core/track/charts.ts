// chart.js configurations of the Training and Compare panels, built as plain objects from the
// curves and the theme's colours (the webviews only hand them to chart.js). Runs get the shared
// series colours (distinct for 20), then dash patterns.
import type { ChartConfiguration, ChartDataset } from 'chart.js';
import { axis, baseOptions, distinctSeries, seriesColor, type ChartPalette } from '../charts/style';
import type { RunCurves } from './compare';

const DASHES: number[][] = [[], [6, 3], [2, 2], [8, 3, 2, 3]];

/** Colour and dash of the i-th series: distinct colours first (src/core/charts/style), then the same colours dashed. */
export function seriesStyle(i: number, p: Pick<ChartPalette, 'series'>): { color: string; dash: number[] } {
  return { color: seriesColor(p, i), dash: DASHES[Math.floor(i / distinctSeries(p)) % DASHES.length] };
}

type LineConfig = ChartConfiguration<'line', (number | null)[], number>;

function lineChart(
  title: string,
  steps: number[],
  datasets: ChartDataset<'line', (number | null)[]>[],
  colors: ChartPalette,
  yTitle: string,
): LineConfig {
  const options = baseOptions(colors, {
    title,
    x: axis(colors, 'epoch', { type: 'linear', ticks: { color: colors.muted, font: { size: 11 }, precision: 0 } }),
    y: axis(colors, yTitle),
  });
  return {
    type: 'line',
    data: { labels: steps, datasets },
    options: {
      ...options,
      spanGaps: true,
      interaction: { mode: 'index', intersect: false },
      plugins: { ...options.plugins, legend: { labels: { color: colors.foreground, usePointStyle: true } } },
    } as LineConfig['options'],
  };
}

function line(
  label: string,
  data: (number | null)[],
  style: { color: string; dash: number[] },
  extra: Partial<ChartDataset<'line', (number | null)[]>> = {},
): ChartDataset<'line', (number | null)[]> {
  return {
    label,
    data,
    borderColor: style.color,
    backgroundColor: style.color,
    borderDash: style.dash,
    pointRadius: data.length > 60 ? 0 : 2,
    borderWidth: 2,
    ...extra,
  };
}

const hasValues = (xs: (number | null)[]) => xs.some((v) => v !== null);

/** The Training panel: loss (train, dev) per epoch. */
export function trainingLossChart(c: RunCurves, colors: ChartPalette): LineConfig {
  const datasets = [];
  if (hasValues(c.trainLoss))
    datasets.push(line('train loss', c.trainLoss, { color: seriesColor(colors, 0), dash: [] }));
  if (hasValues(c.devLoss)) datasets.push(line('dev loss', c.devLoss, { color: seriesColor(colors, 1), dash: [] }));
  return lineChart('Loss', c.steps, datasets, colors, 'loss');
}

/** The Training panel: the project's metric on dev per epoch. */
export function trainingMetricChart(c: RunCurves, colors: ChartPalette): LineConfig {
  const name = c.metricName ?? 'metric';
  const datasets = hasValues(c.devMetric)
    ? [line(`dev ${name}`, c.devMetric, { color: seriesColor(colors, 2), dash: [] })]
    : [];
  return lineChart(`Dev ${name}`, c.steps, datasets, colors, name);
}

export type CompareSeries = 'devLoss' | 'trainLoss' | 'devMetric';
const SERIES_TITLE: Record<CompareSeries, string> = {
  devLoss: 'Dev loss',
  trainLoss: 'Train loss',
  devMetric: 'Dev metric',
};

/** The Compare panel: one series per run overlaid; runs have different step counts, so x is linear and labels are the union. */
export function compareChart(runs: RunCurves[], series: CompareSeries, colors: ChartPalette): LineConfig {
  const steps = [...new Set(runs.flatMap((r) => r.steps))].sort((a, b) => a - b);
  const datasets = runs.map((r, i) => {
    const at = new Map(r.steps.map((s, k) => [s, r[series][k]]));
    return line(
      r.label,
      steps.map((s) => at.get(s) ?? null),
      seriesStyle(i, colors),
    );
  });
  const metric = runs.find((r) => r.metricName)?.metricName;
  const title = series === 'devMetric' && metric ? `Dev ${metric}` : SERIES_TITLE[series];
  return lineChart(title, steps, datasets, colors, series === 'devMetric' ? (metric ?? 'metric') : 'loss');
}
