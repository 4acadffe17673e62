// chart.js configurations of the Monitoring panel, as plain objects built from a MonitoringReport
// (src/core/monitor) and the theme's colours: drift per feature against its threshold (worst
// first), overlaid reference vs window histograms, prediction drift, live and estimated accuracy
// over time, latency and throughput. The webview only hands them to chart.js. Unit-tested in Node.
import type { ChartConfiguration } from 'chart.js';
import { axis, baseOptions, withAlpha, type ChartPalette } from '../charts/style';
import type { FeatureDrift, FeatureHistogram, MonitoringReport, PredictionDrift, TimePoint } from './types';

/** Features in the drift chart (the worst ones). */
export const DRIFT_CHART_FEATURES = 20;
/** Features whose histograms are overlaid (the worst ones). */
export const HISTOGRAM_FEATURES = 3;

type Config = ChartConfiguration;

function base(p: ChartPalette, title: string, x: Record<string, unknown>, y: Record<string, unknown>): Config['options'] {
  return baseOptions(p, { title, x, y });
}

/**
 * A feature's drift relative to its threshold, so that 1 is the threshold and bars compare across
 * tests: KS by its statistic D over the critical D at the threshold's significance (two-sample,
 * asymptotic: c(α)·√((n+m)/(n·m)), c(α) = √(−ln(α/2)/2)); other p-value tests by ln p / ln α; distances
 * by statistic ÷ threshold.
 */
export function thresholdRatio(f: Pick<FeatureDrift, 'test' | 'statistic' | 'pValue' | 'threshold' | 'count'>, referenceRows?: number): number {
  if (f.test === 'ks' && referenceRows && f.count > 0 && f.threshold > 0 && f.threshold < 1) {
    const critical = Math.sqrt(-Math.log(f.threshold / 2) / 2) * Math.sqrt((f.count + referenceRows) / (f.count * referenceRows));
    return f.statistic / critical;
  }
  if (f.pValue !== undefined) return f.threshold > 0 && f.threshold < 1 ? Math.log(Math.max(f.pValue, 1e-300)) / Math.log(f.threshold) : 0;
  return f.threshold > 0 ? f.statistic / f.threshold : 0;
}

export function testLabel(f: Pick<FeatureDrift, 'test' | 'statistic' | 'pValue' | 'threshold'>): string {
  const s = (v: number) => (Math.abs(v) >= 0.01 || v === 0 ? v.toFixed(3) : v.toExponential(1));
  if (f.pValue !== undefined) return `${f.test} p = ${s(f.pValue)} (drift when < ${f.threshold})`;
  return `${f.test} ${s(f.statistic)} (drift when > ${f.threshold})`;
}

/** Horizontal bars: each feature's statistic relative to its threshold (1 = threshold), worst first; drifted bars in the warning colour. */
export function driftChart(report: MonitoringReport, p: ChartPalette): Config {
  const features = [...report.features].sort((a, b) => b.score - a.score).slice(0, DRIFT_CHART_FEATURES);
  const ratios = features.map((f) => Math.round(thresholdRatio(f, report.reference.rows) * 1000) / 1000);
  return {
    type: 'bar',
    data: {
      labels: features.map((f) => f.name),
      datasets: [
        { label: 'drift ÷ threshold (1 = threshold)', data: ratios, backgroundColor: features.map((f) => (f.drifted ? p.warning : p.series[0])), borderWidth: 0 },
        { type: 'line', label: 'threshold', data: features.map(() => 1), borderColor: p.foreground, borderDash: [4, 3], pointRadius: 0, borderWidth: 1 } as never,
      ],
    },
    options: base(p, `Drift per feature (${report.dataset.drifted} of ${report.dataset.total} drifted)`, axis(p, 'feature'), axis(p, '× threshold', { beginAtZero: true })),
  };
}

function binLabels(h: FeatureHistogram): string[] {
  if (h.categories) return h.categories;
  const e = h.edges ?? [];
  const f = (v: number) => String(Number(v.toPrecision(3)));
  return e.slice(0, -1).map((lo, i) => `${f(lo)}–${f(e[i + 1])}`);
}

function overlaid(title: string, h: FeatureHistogram, p: ChartPalette, xTitle: string): Config {
  return {
    type: 'bar',
    data: {
      labels: binLabels(h),
      datasets: [
        { label: 'reference (training)', data: h.reference, backgroundColor: withAlpha(p.series[0], 0.55), borderColor: p.series[0], borderWidth: 1, grouped: false } as never,
        { label: 'window (production)', data: h.current, backgroundColor: withAlpha(p.series[1], 0.55), borderColor: p.series[1], borderWidth: 1, grouped: false } as never,
      ],
    },
    options: base(p, title, axis(p, xTitle), axis(p, 'share', { beginAtZero: true })),
  };
}

/** Reference vs window distribution of one feature, overlaid. */
export function histogramChart(f: FeatureDrift, p: ChartPalette): Config {
  return overlaid(`${f.name}: ${testLabel(f)}${f.drifted ? ' — drifted' : ''}`, f.histogram, p, f.name);
}

/** The worst features' histograms (at most HISTOGRAM_FEATURES). */
export function worstHistograms(report: MonitoringReport, p: ChartPalette): Config[] {
  return [...report.features]
    .sort((a, b) => b.score - a.score)
    .slice(0, HISTOGRAM_FEATURES)
    .map((f) => histogramChart(f, p));
}

/** Predicted classes (or values) in the window against the model's predictions on dev. */
export function predictionChart(pred: PredictionDrift, p: ChartPalette): Config | undefined {
  const title = `Prediction drift: ${testLabel(pred)}${pred.drifted ? ' — drifted' : ''}`;
  if (pred.histogram) return overlaid(title, pred.histogram, p, 'prediction');
  if (!pred.current || !pred.reference) return undefined;
  const classes = [...new Set([...Object.keys(pred.reference), ...Object.keys(pred.current)])];
  return overlaid(title, { categories: classes, reference: classes.map((c) => pred.reference![c] ?? 0), current: classes.map((c) => pred.current![c] ?? 0) }, p, 'predicted class');
}

/** "HH:MM:SS" of an ISO time (the x labels of the time series). */
export function clock(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().slice(11, 19);
}

/** The union of the series' bucket times, sorted, and each series' values on it (null where it has none). */
export function alignSeries(...series: TimePoint[][]): { times: string[]; values: (number | null)[][] } {
  const times = [...new Set(series.flat().map((x) => x.time))].sort();
  return { times, values: series.map((s) => {
    const m = new Map(s.map((x) => [x.time, x.value]));
    return times.map((t) => m.get(t) ?? null);
  }) };
}

/** Live accuracy (from feedback) and the confidence-based estimate over time, with the dev score. */
export function accuracyChart(report: MonitoringReport, p: ChartPalette): Config | undefined {
  const live = report.live;
  const est = report.estimated;
  if (!live?.series.length && !est?.series.length) return undefined;
  const { times, values } = alignSeries(live?.series ?? [], est?.series ?? []);
  const metric = live?.metric ?? 'accuracy';
  const datasets: Record<string, unknown>[] = [];
  if (live?.series.length) datasets.push({ label: `live ${metric} (feedback)`, data: values[0], borderColor: p.series[2], backgroundColor: p.series[2], spanGaps: true, pointRadius: 2 });
  if (est?.series.length) datasets.push({ label: 'estimated accuracy (CBPE, no labels)', data: values[1], borderColor: p.series[3], backgroundColor: p.series[3], borderDash: [6, 3], spanGaps: true, pointRadius: 2 });
  const dev = live?.dev ?? est?.dev;
  if (dev !== undefined) datasets.push({ label: `dev ${metric}`, data: times.map(() => dev), borderColor: p.muted, borderDash: [2, 2], pointRadius: 0, borderWidth: 1 });
  return { type: 'line', data: { labels: times.map(clock), datasets: datasets as never }, options: base(p, metric === 'rmse' ? 'Live RMSE over time' : 'Accuracy over time', axis(p, 'time'), axis(p, metric)) };
}

/** Latency percentiles over time (ms). */
export function latencyChart(report: MonitoringReport, p: ChartPalette): Config | undefined {
  const s = report.operational.series;
  if (!s.length) return undefined;
  const line = (label: string, data: number[], i: number) => ({ label, data, borderColor: p.series[i], backgroundColor: p.series[i], pointRadius: s.length > 60 ? 0 : 2 });
  return {
    type: 'line',
    data: { labels: s.map((x) => clock(x.time)), datasets: [line('p50', s.map((x) => x.p50), 0), line('p90', s.map((x) => x.p90), 1), line('p99', s.map((x) => x.p99), 5)] as never },
    options: base(p, `Latency (p50 ${report.operational.p50.toFixed(2)} ms, p99 ${report.operational.p99.toFixed(2)} ms)`, axis(p, 'time'), axis(p, 'ms', { beginAtZero: true })),
  };
}

/**
 * The request rate the editor shows for a logging deployment, in the status bar and in the Throughput
 * chart's title alike: requests per second over the monitoring window (one source for both numbers).
 */
export function requestRate(report: MonitoringReport): number {
  return report.operational.rps;
}

/** `12.3 req/s` (`600 req/s` from 10 up). */
export function formatRate(rps: number): string {
  return `${rps.toFixed(rps < 10 ? 1 : 0)} req/s`;
}

/** Requests per second and error rate over time. */
export function throughputChart(report: MonitoringReport, p: ChartPalette): Config | undefined {
  const s = report.operational.series;
  if (!s.length) return undefined;
  return {
    type: 'line',
    data: {
      labels: s.map((x) => clock(x.time)),
      datasets: [
        { label: 'requests/s', data: s.map((x) => x.rps), borderColor: p.series[0], backgroundColor: p.series[0], yAxisID: 'y', pointRadius: s.length > 60 ? 0 : 2 },
        { label: 'error rate', data: s.map((x) => x.errorRate), borderColor: p.warning, backgroundColor: p.warning, yAxisID: 'y1', borderDash: [4, 2], pointRadius: 0 },
      ] as never,
    },
    options: {
      ...base(p, `Throughput (${formatRate(requestRate(report))} over the window, ${(report.operational.errorRate * 100).toFixed(1)} % errors)`, axis(p, 'time'), axis(p, 'requests/s', { beginAtZero: true })),
      scales: { x: axis(p, 'time'), y: axis(p, 'requests/s', { beginAtZero: true }), y1: axis(p, 'error rate', { beginAtZero: true, max: 1, position: 'right', grid: { drawOnChartArea: false } }) },
    },
  };
}
