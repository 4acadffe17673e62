// Sweeps in the run list: the runs of one sweep (same `group.id`) are shown together, as one entry
// at the place of its newest run, with the grid's size, how many finished, and its best run on the
// project's metric. Shared by the Experiments view, the Compare panel's sweep entry and the CLI.
import { formatMetricValue, HIGHER_IS_BETTER, METRIC_SHORT } from './format';
import type { TrackedRun } from './types';

export interface SweepSummary {
  kind: 'sweep';
  id: string;
  experiment: string;
  /** The grid's size (runs still to come, or lost, count too). */
  size: number;
  /** The sweep's runs found in the store, in grid order. */
  runs: TrackedRun[];
  /** The swept parameters, in the grid's order. */
  swept: string[];
  /** Runs per status. */
  statusCounts: Record<string, number>;
  /** The completed run with the best dev (else train) value of the metric, if any. */
  best?: { run: TrackedRun; metric: string; value: number };
}

export type RunListEntry = TrackedRun | SweepSummary;

export function isSweep(entry: RunListEntry): entry is SweepSummary {
  return (entry as SweepSummary).kind === 'sweep';
}

/**
 * Groups the runs of each sweep into one entry, placed where its newest run is in `runs` (which
 * are newest first); runs outside any sweep stay as they are. A sweep with a single run in the
 * store is still a sweep (its grid is larger).
 */
export function groupSweeps(runs: TrackedRun[], metric?: string): RunListEntry[] {
  const members = new Map<string, TrackedRun[]>();
  for (const r of runs) {
    const id = r.record.group?.id;
    if (!id) continue;
    const list = members.get(id);
    if (list) list.push(r);
    else members.set(id, [r]);
  }
  const out: RunListEntry[] = [];
  const placed = new Set<string>();
  for (const r of runs) {
    const id = r.record.group?.id;
    if (!id) {
      out.push(r);
      continue;
    }
    if (placed.has(id)) continue;
    placed.add(id);
    out.push(summarizeSweep(id, members.get(id)!, metric));
  }
  return out;
}

export function summarizeSweep(id: string, runs: TrackedRun[], metric?: string): SweepSummary {
  const ordered = [...runs].sort((a, b) => (a.record.group?.index ?? 0) - (b.record.group?.index ?? 0));
  const swept: string[] = [];
  for (const r of ordered)
    for (const k of Object.keys(r.record.group?.values ?? {})) if (!swept.includes(k)) swept.push(k);
  const statusCounts: Record<string, number> = {};
  for (const r of ordered) statusCounts[r.status] = (statusCounts[r.status] ?? 0) + 1;
  return {
    kind: 'sweep',
    id,
    experiment: ordered[0].record.experiment,
    size: Math.max(ordered.length, ...ordered.map((r) => r.record.group?.size ?? 0)),
    runs: ordered,
    swept,
    statusCounts,
    best: bestRun(ordered, metric),
  };
}

function bestRun(runs: TrackedRun[], metric?: string): SweepSummary['best'] {
  let best: SweepSummary['best'];
  for (const run of runs) {
    if (run.status !== 'completed') continue;
    const m = (run.record.metrics?.dev ?? run.record.metrics?.train) as Record<string, number> | undefined;
    if (!m) continue;
    const name = metric && metric in m ? metric : Object.keys(m)[0];
    const value = name === undefined ? undefined : m[name];
    if (name === undefined || value === undefined || !Number.isFinite(value)) continue;
    const better = HIGHER_IS_BETTER.has(name) ? value > (best?.value ?? -Infinity) : value < (best?.value ?? Infinity);
    if (!best || better) best = { run, metric: name, value };
  }
  return best;
}

/** `lr=0.01 hidden=64`: the swept values of one run of a sweep. */
export function sweepValuesLabel(run: TrackedRun): string {
  return Object.entries(run.record.group?.values ?? {})
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
}

/** `sweep of lr × hidden · 3/4 completed · best dev acc 97.2%`. */
export function sweepDescription(s: SweepSummary): string {
  const completed = s.statusCounts.completed ?? 0;
  const running = s.statusCounts.running ?? 0;
  const parts = [
    `${s.swept.join(' × ') || 'grid'}`,
    `${completed}/${s.size} completed${running ? ` · ${running} running` : ''}`,
  ];
  const split = s.best?.run.record.metrics?.dev ? 'dev' : 'train';
  if (s.best)
    parts.push(
      `best ${split} ${METRIC_SHORT[s.best.metric] ?? s.best.metric} ${formatMetricValue(s.best.metric, s.best.value)}`,
    );
  return parts.join(' · ');
}
