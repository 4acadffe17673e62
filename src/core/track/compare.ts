// The comparison of 2–20 runs as plain data: a table of parameters and metrics (differences and
// the best value per metric marked), the per-epoch curves of each run, and the table as CSV.
import { toCsv } from '../data/reader';
import { formatDuration, formatMetricValue, HIGHER_IS_BETTER, runDurationMs, runLabel } from './format';
import type { HistoryStep, RunHistory, TrackedRun } from './types';

export const MIN_COMPARE = 2;
export const MAX_COMPARE = 20;

export type CompareSection = 'run' | 'param' | 'metric';

export interface CompareRow {
  section: CompareSection;
  /** `l2`, `dev accuracy`, `status`, … */
  key: string;
  /** One cell per run, in column order; null where the run has no value. */
  values: (string | number | null)[];
  /** The cells as shown. */
  display: string[];
  /** The runs do not all have the same value. */
  differs: boolean;
  /** Columns holding the best value (metrics only; ties all marked). */
  best: number[];
}

export interface CompareColumn {
  runId: string;
  label: string;
  experiment: string;
  status: string;
}

export interface CompareTable {
  columns: CompareColumn[];
  rows: CompareRow[];
}

function valueText(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

function sameValues(values: unknown[]): boolean {
  const first = JSON.stringify(values[0] ?? null);
  return values.every((v) => JSON.stringify(v ?? null) === first);
}

function scalar(v: unknown): string | number | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number' || typeof v === 'string') return v;
  return JSON.stringify(v);
}

/**
 * The best columns of a metric row: max or min depending on the metric; none when fewer than two runs
 * have it. Values that read the same as the best (97.2% and 97.2%) are ties and all marked.
 */
export function bestColumns(metric: string, values: (number | null)[]): number[] {
  const present = values.map((v, i) => [v, i] as const).filter((p): p is readonly [number, number] => typeof p[0] === 'number' && Number.isFinite(p[0]));
  if (present.length < 2) return [];
  const higher = HIGHER_IS_BETTER.has(metric);
  const target = present.reduce((best, [v]) => (higher ? Math.max(best, v) : Math.min(best, v)), higher ? -Infinity : Infinity);
  const shown = formatMetricValue(metric, target);
  return present.filter(([v]) => v === target || formatMetricValue(metric, v) === shown).map(([, i]) => i);
}

export function buildCompareTable(runs: TrackedRun[]): CompareTable {
  if (runs.length < MIN_COMPARE || runs.length > MAX_COMPARE) throw new Error(`compare takes ${MIN_COMPARE} to ${MAX_COMPARE} runs, not ${runs.length}`);
  const columns = runs.map((r) => ({ runId: r.runId, label: runLabel(r), experiment: r.record.experiment, status: r.status }));
  const rows: CompareRow[] = [];
  const infoRow = (key: string, values: (string | number | null)[], display?: string[]) =>
    rows.push({ section: 'run', key, values, display: display ?? values.map(valueText), differs: !sameValues(values), best: [] });
  infoRow('experiment', runs.map((r) => r.record.experiment));
  infoRow('model', runs.map((r) => r.record.model));
  infoRow('status', runs.map((r) => r.status));
  infoRow('started', runs.map((r) => r.record.startedAt));
  const durations = runs.map((r) => (r.record.endedAt ? runDurationMs(r.record) : null));
  infoRow('duration', durations, durations.map((d) => (d === null ? '—' : formatDuration(d))));
  infoRow('data version', runs.map((r) => r.record.dataVersion?.id ?? null));
  infoRow('model size (bytes)', runs.map((r) => r.record.modelSize ?? null));
  infoRow('git commit', runs.map((r) => (r.record.git ? `${r.record.git.commit.slice(0, 10)}${r.record.git.dirty ? ' (dirty)' : ''}` : null)));
  infoRow('note', runs.map((r) => r.annotations.note ?? null));

  const paramKeys = [...new Set(runs.flatMap((r) => Object.keys(r.record.params ?? {})))].sort();
  for (const key of paramKeys) {
    const raw = runs.map((r) => r.record.params?.[key]);
    rows.push({ section: 'param', key, values: raw.map(scalar), display: raw.map(valueText), differs: !sameValues(raw), best: [] });
  }

  for (const split of ['train', 'dev', 'test'] as const) {
    const names = [...new Set(runs.flatMap((r) => Object.keys((r.record.metrics?.[split] as Record<string, number> | undefined) ?? {})))];
    for (const metric of names) {
      const values = runs.map((r) => {
        const v = (r.record.metrics?.[split] as Record<string, number> | undefined)?.[metric];
        return typeof v === 'number' ? v : null;
      });
      rows.push({
        section: 'metric',
        key: `${split} ${metric}`,
        values,
        display: values.map((v) => (v === null ? '—' : formatMetricValue(metric, v))),
        differs: !sameValues(values),
        best: bestColumns(metric, values),
      });
    }
  }
  return { columns, rows };
}

/** The table as CSV: one line per row (section, key, then one cell per run, raw values); best cells are not marked. */
export function compareTableCsv(table: CompareTable): string {
  const header = ['section', 'key', ...table.columns.map((c) => (c.label === c.runId ? c.runId : `${c.label} (${c.runId})`))];
  const body = table.rows.map((r) => [r.section, r.key, ...r.values.map((v) => (v === null ? '' : v))]);
  return toCsv([header, ...body]);
}

/** One run's per-epoch series, aligned on `steps` (null where a step lacks that value). */
export interface RunCurves {
  runId: string;
  label: string;
  metricName?: string;
  steps: number[];
  trainLoss: (number | null)[];
  devLoss: (number | null)[];
  devMetric: (number | null)[];
  totalSteps?: number;
}

/** Builds the curves from a run's history; a step logged twice keeps its last value. */
export function curvesOf(runId: string, label: string, history: Pick<RunHistory, 'steps'>): RunCurves {
  const byStep = new Map<number, HistoryStep>();
  for (const s of history.steps) byStep.set(s.step, s);
  const ordered = [...byStep.values()].sort((a, b) => a.step - b.step);
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  return {
    runId,
    label,
    metricName: ordered.find((s) => s.metricName)?.metricName,
    steps: ordered.map((s) => s.step),
    trainLoss: ordered.map((s) => num(s.trainLoss)),
    devLoss: ordered.map((s) => num(s.devLoss)),
    devMetric: ordered.map((s) => num(s.devMetric)),
    totalSteps: ordered.at(-1)?.totalSteps,
  };
}
