// How runs read in the tree, the CodeLens, the panels and the CLI: `dev acc 97.2%`, `3 min ago`,
// `1 min 05 s`. No Node imports: the webviews bundle this file too.
import type { MetricName } from '../spec/types';
import type { RunRecord } from '../train/runStore';
import type { TrackedRun } from './types';

export const METRIC_SHORT: Record<string, string> = { accuracy: 'acc', f1: 'f1', logloss: 'logloss', rmse: 'rmse', mae: 'mae', r2: 'r2' };
const PERCENT = new Set(['accuracy', 'f1']);
/** Metrics where a larger value is better; the others (losses, errors) are better smaller. */
export const HIGHER_IS_BETTER = new Set(['accuracy', 'f1', 'r2']);

export function formatMetricValue(metric: string, value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (PERCENT.has(metric)) return `${(value * 100).toFixed(1)}%`;
  return Math.abs(value) >= 1000 ? value.toFixed(0) : value.toPrecision(4);
}

/** The project's metric on dev (train when there is no dev split), e.g. `dev acc 97.2%`; undefined before the run has metrics. */
export function keyMetric(record: RunRecord, metric: MetricName | string | undefined): string | undefined {
  const metrics = record.metrics;
  if (!metrics) return undefined;
  for (const split of ['dev', 'train'] as const) {
    const m = metrics[split] as Record<string, number> | undefined;
    if (!m) continue;
    const name = metric && metric in m ? metric : Object.keys(m)[0];
    if (name === undefined) continue;
    return `${split} ${METRIC_SHORT[name] ?? name} ${formatMetricValue(name, m[name])}`;
  }
  return undefined;
}

/** `just now`, `3 min ago`, `2 h ago`, `5 days ago`. */
export function timeAgo(then: number, now: number): string {
  const s = Math.max(0, Math.round((now - then) / 1000));
  if (s < 45) return 'just now';
  const min = Math.round(s / 60);
  if (min < 60) return `${min} min ago`;
  const h = Math.round(min / 60);
  if (h < 24) return `${h} h ago`;
  const d = Math.round(h / 24);
  return `${d} day${d === 1 ? '' : 's'} ago`;
}

/** `850 ms`, `12.3 s`, `4 min 05 s`, `2 h 03 min`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const whole = Math.round(s);
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, '0')} s`;
  return `${Math.floor(whole / 3600)} h ${String(Math.floor((whole % 3600) / 60)).padStart(2, '0')} min`;
}

export function runDurationMs(record: RunRecord, now = Date.now()): number {
  return (record.endedAt ? Date.parse(record.endedAt) : now) - Date.parse(record.startedAt);
}

/**
 * The one short name of a run, everywhere it is named (tree, tabs, legends, quick picks, Compare
 * headers): its name when set, else its experiment and the random suffix of its id (`softmax f94b54`).
 * The full id goes in tooltips.
 */
export function runLabel(run: Pick<TrackedRun, 'runId' | 'annotations'> & { record: Pick<RunRecord, 'experiment'> }): string {
  if (run.annotations.name) return run.annotations.name;
  const m = /^\d{8}-\d{6}-\d{3}-([0-9a-f]{6})$/.exec(run.runId);
  return m ? `${run.record.experiment} ${m[1]}` : run.runId;
}

/** The tree's label of a run: the same short name as everywhere else. */
export const shortRunLabel = runLabel;

/** Why test metrics are hidden until asked for (the Training and Compare panels' "Show test" toggle). */
export const TEST_HIDDEN_REASON = 'Test metrics are hidden: the test set estimates the final error, and choosing runs by it makes that estimate optimistic.';

/** The splits a panel shows: train and dev, and test only when the user asked for it. */
export function shownSplits<S extends string>(splits: readonly S[], showTest: boolean): S[] {
  return splits.filter((s) => showTest || s !== 'test');
}

/** A run as a quick-pick row reads like the tree: its short name, key metric and age, its full id below. */
export function runPickRow(run: TrackedRun, metric: string | undefined, now: number): { label: string; description: string; detail: string } {
  const age = timeAgo(Date.parse(run.record.endedAt ?? run.record.startedAt), now);
  return { label: runLabel(run), description: [keyMetric(run.record, metric), age].filter(Boolean).join(' · '), detail: run.runId };
}

/** `last: dev acc 97.2% · 3 min ago` for the CodeLens over an experiment (its newest run). */
export function lastRunSummary(run: TrackedRun, metric: string | undefined, now: number): string {
  const when = timeAgo(Date.parse(run.record.endedAt ?? run.record.startedAt), now);
  if (run.status === 'running') return `running · started ${when}`;
  if (run.status === 'queued') return `queued${run.record.cluster?.reason ? ` (${run.record.cluster.reason})` : ''} · submitted ${when}`;
  if (run.status !== 'completed') return `last: ${run.status} · ${when}`;
  return `last: ${keyMetric(run.record, metric) ?? 'no metrics'} · ${when}`;
}

