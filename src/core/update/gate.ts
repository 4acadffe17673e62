// The promotion gate: the candidate model against the production model on the same evaluation sets
// (the original dev split and the held-out labelled production examples), overall and per tracked
// group — the error-analysis slices of the production model and the tags of the Error Analysis
// panel. The gate needs confirmation when the candidate is worse than production on any group by
// more than the margin, even when it is better overall. Pure: error tables in, a comparison out.
import type { FeatureSchema, Rows } from '../data/types';
import type { ErrorTable } from '../analysis/errorTable';
import { inSlice, type SliceCondition } from '../analysis/slices';
import type { TagStore } from '../analysis/tags';

export type GateMetric = 'accuracy' | 'rmse';

export interface EvaluationSet {
  /** "dev" (the original dev split) or "production" (held-out labelled production requests). */
  name: 'dev' | 'production';
  rows: Rows;
  production: ErrorTable;
  candidate: ErrorTable;
}

export interface TrackedSlice {
  key: string;
  label: string;
  conditions: SliceCondition[];
}

export interface GroupComparison {
  set: EvaluationSet['name'];
  kind: 'overall' | 'slice' | 'tag';
  /** "overall", the slice key or the tag. */
  key: string;
  label: string;
  support: number;
  production: number;
  candidate: number;
  /** candidate − production in the metric's direction of improvement (positive = candidate better). */
  gain: number;
  /** Worse by more than the margin. */
  regression: boolean;
}

export interface PromotionComparison {
  metric: GateMetric;
  /** Classification: largest tolerated accuracy drop (absolute); regression: largest tolerated relative RMSE increase. */
  margin: number;
  /** Groups with fewer examples than this are shown but never block (too noisy to judge). */
  minSupport: number;
  groups: GroupComparison[];
  regressions: GroupComparison[];
  /** Candidate better (or equal) on every evaluation set overall. */
  betterOverall: boolean;
  needsConfirmation: boolean;
}

export interface GateOptions {
  margin?: number;
  minSupport?: number;
}

export const DEFAULT_GATE_MARGIN = 0.02;
export const DEFAULT_GATE_MIN_SUPPORT = 5;

/** Accuracy (classification) or RMSE (regression) of an error table over the rows `idx` (all when omitted). */
export function scoreOf(table: ErrorTable, idx?: number[]): number {
  const rows = idx ?? Array.from({ length: table.n }, (_, i) => i);
  if (rows.length === 0) return NaN;
  let s = 0;
  if (table.task === 'classification') {
    for (const i of rows) s += table.predicted[i] === table.truth[i] ? 1 : 0;
    return s / rows.length;
  }
  for (const i of rows) s += table.loss[i];
  return Math.sqrt(s / rows.length);
}

function compare(
  metric: GateMetric,
  margin: number,
  production: number,
  candidate: number,
): { gain: number; worse: boolean } {
  if (metric === 'accuracy') return { gain: candidate - production, worse: production - candidate > margin + 1e-12 };
  return { gain: production - candidate, worse: candidate > production * (1 + margin) + 1e-12 };
}

export function comparePromotion(
  schema: FeatureSchema,
  sets: EvaluationSet[],
  tracked: { slices: TrackedSlice[]; tags: TagStore },
  opts: GateOptions = {},
): PromotionComparison {
  const metric: GateMetric = schema.task === 'classification' ? 'accuracy' : 'rmse';
  const margin = opts.margin ?? DEFAULT_GATE_MARGIN;
  const minSupport = opts.minSupport ?? DEFAULT_GATE_MIN_SUPPORT;
  const groups: GroupComparison[] = [];
  const add = (
    set: EvaluationSet,
    kind: GroupComparison['kind'],
    key: string,
    label: string,
    idx: number[] | undefined,
  ) => {
    const support = idx ? idx.length : set.rows.features.n;
    if (support === 0) return;
    const p = scoreOf(set.production, idx);
    const c = scoreOf(set.candidate, idx);
    const { gain, worse } = compare(metric, margin, p, c);
    groups.push({
      set: set.name,
      kind,
      key,
      label,
      support,
      production: p,
      candidate: c,
      gain,
      regression: worse && support >= (kind === 'overall' ? 1 : minSupport),
    });
  };
  for (const set of sets) {
    if (set.production.n !== set.rows.features.n || set.candidate.n !== set.rows.features.n)
      throw new Error(`The ${set.name} set's error tables do not match its rows`);
    add(set, 'overall', 'overall', 'All examples', undefined);
    for (const s of tracked.slices) {
      const idx: number[] = [];
      for (let i = 0; i < set.rows.features.n; i++) if (inSlice(schema, set.rows, i, s.conditions)) idx.push(i);
      add(set, 'slice', s.key, s.label, idx);
    }
    const byTag = new Map<string, number[]>();
    set.rows.ids.forEach((id, i) => {
      for (const tag of tracked.tags[id] ?? []) {
        let list = byTag.get(tag);
        if (!list) byTag.set(tag, (list = []));
        list.push(i);
      }
    });
    for (const [tag, idx] of [...byTag].sort((a, b) => a[0].localeCompare(b[0])))
      add(set, 'tag', tag, `tag: ${tag}`, idx);
  }
  const regressions = groups.filter((g) => g.regression);
  const betterOverall = groups.filter((g) => g.kind === 'overall').every((g) => g.gain >= 0);
  return {
    metric,
    margin,
    minSupport,
    groups,
    regressions,
    betterOverall,
    needsConfirmation: regressions.length > 0 || !betterOverall,
  };
}

/** One line per regression, for the confirmation dialog and the CLI. */
export function describeRegressions(c: PromotionComparison): string[] {
  const pct = (v: number) => (c.metric === 'accuracy' ? `${(v * 100).toFixed(1)} %` : v.toPrecision(4));
  return c.regressions.map(
    (g) => `${g.label} (${g.set}, ${g.support} examples): ${c.metric} ${pct(g.production)} → ${pct(g.candidate)}`,
  );
}
