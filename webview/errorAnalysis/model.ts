// The example list's pure logic (no DOM): which dev rows (or queued production examples) pass the
// filters, in which order, and which of them a scrolled viewport shows. Unit-tested in
// test/unit/analysis/webviewModel.test.ts.
import type { DevColumns, ProductionColumns } from '../../src/protocol/errorAnalysis';

export type SortKey = 'loss' | 'confidence-desc' | 'confidence-asc' | 'truth';

export interface Filters {
  /** Only the examples the model got wrong. */
  errorsOnly: boolean;
  /** Class index, or -1 for any. */
  truth: number;
  predicted: number;
  minConfidence: number;
  maxConfidence: number;
  /** '' = any; '(untagged)' = no tag. */
  tag: string;
  /** Rows of the chosen slice, or undefined for any. */
  sliceRows?: ReadonlySet<number>;
}

export const UNTAGGED = '(untagged)';

export function defaultFilters(): Filters {
  return { errorsOnly: true, truth: -1, predicted: -1, minConfidence: 0, maxConfidence: 1, tag: '' };
}

/** Row numbers passing the filters, in the sort order. */
export function visibleRows(dev: DevColumns, tags: Record<string, string[]>, f: Filters, sort: SortKey): Int32Array {
  const n = dev.ids.length;
  const out = new Int32Array(n);
  let m = 0;
  for (let r = 0; r < n; r++) {
    if (f.errorsOnly && !dev.wrong[r]) continue;
    if (f.truth >= 0 && dev.truth[r] !== f.truth) continue;
    if (f.predicted >= 0 && dev.predicted[r] !== f.predicted) continue;
    const c = dev.confidence[r];
    if (c === c && (c < f.minConfidence || c > f.maxConfidence)) continue; // NaN: regression, no confidence
    if (!tagPasses(tags, dev.ids[r], f.tag)) continue;
    if (f.sliceRows && !f.sliceRows.has(r)) continue;
    out[m++] = r;
  }
  const rows = out.subarray(0, m);
  const conf = (r: number) => (dev.confidence[r] === dev.confidence[r] ? dev.confidence[r] : 0);
  const by: Record<SortKey, (a: number, b: number) => number> = {
    loss: (a, b) => dev.loss[b] - dev.loss[a] || a - b,
    'confidence-desc': (a, b) => conf(b) - conf(a) || a - b,
    'confidence-asc': (a, b) => conf(a) - conf(b) || a - b,
    truth: (a, b) => dev.truth[a] - dev.truth[b] || dev.loss[b] - dev.loss[a] || a - b,
  };
  return rows.sort(by[sort]);
}

function tagPasses(tags: Record<string, string[]>, id: string, tag: string): boolean {
  if (!tag) return true;
  const t = tags[id];
  return tag === UNTAGGED ? !t?.length : !!t?.includes(tag);
}

/**
 * Queued production examples passing the filters, in the sort order. "Errors only" and slices are
 * dev notions and do not apply; a class filter keeps only examples with that (known) class; the
 * loss order (no loss without a label) is the queue's own: lowest confidence first.
 */
export function visibleProductionRows(
  p: ProductionColumns,
  tags: Record<string, string[]>,
  f: Filters,
  sort: SortKey,
): Int32Array {
  const n = p.ids.length;
  const out = new Int32Array(n);
  let m = 0;
  for (let r = 0; r < n; r++) {
    if (f.truth >= 0 && p.truth[r] !== f.truth) continue;
    if (f.predicted >= 0 && p.predicted[r] !== f.predicted) continue;
    const c = p.confidence[r];
    if (c !== null && (c < f.minConfidence || c > f.maxConfidence)) continue;
    if (!tagPasses(tags, p.ids[r], f.tag)) continue;
    out[m++] = r;
  }
  const rows = out.subarray(0, m);
  // Unknown confidence or class sorts last.
  const conf = (r: number, missing: number) => p.confidence[r] ?? missing;
  const by: Record<SortKey, (a: number, b: number) => number> = {
    loss: (a, b) => conf(a, 2) - conf(b, 2) || a - b,
    'confidence-asc': (a, b) => conf(a, 2) - conf(b, 2) || a - b,
    'confidence-desc': (a, b) => conf(b, -1) - conf(a, -1) || a - b,
    truth: (a, b) => (p.truth[a] ?? Infinity) - (p.truth[b] ?? Infinity) || a - b,
  };
  return rows.sort(by[sort]);
}

/** The window of list positions to render for a scroll offset (with `overscan` rows either side). */
/** `tags` with a delta applied in place: each id's new list (an empty one removes the id). */
export function applyTagDelta(
  tags: Record<string, string[]>,
  delta: Record<string, string[]>,
): Record<string, string[]> {
  for (const [id, list] of Object.entries(delta)) {
    if (list.length) tags[id] = list;
    else delete tags[id];
  }
  return tags;
}

export function windowOf(
  scrollTop: number,
  viewportHeight: number,
  rowHeight: number,
  count: number,
  overscan = 6,
): { start: number; end: number } {
  const first = Math.floor(scrollTop / rowHeight);
  const start = Math.max(0, first - overscan);
  const end = Math.min(count, first + Math.ceil(viewportHeight / rowHeight) + overscan);
  return { start, end: Math.max(start, end) };
}

/** Positions selected by a click: plain = just it; ctrl/meta = toggled; shift = the range from the anchor. */
export function selectWith(
  selected: ReadonlySet<string>,
  order: readonly string[],
  clicked: number,
  anchor: number,
  mods: { shift: boolean; toggle: boolean },
): Set<string> {
  if (mods.shift && anchor >= 0) {
    const [a, b] = anchor < clicked ? [anchor, clicked] : [clicked, anchor];
    const out = mods.toggle ? new Set(selected) : new Set<string>();
    for (let i = a; i <= b; i++) out.add(order[i]);
    return out;
  }
  if (mods.toggle) {
    const out = new Set(selected);
    if (out.has(order[clicked])) out.delete(order[clicked]);
    else out.add(order[clicked]);
    return out;
  }
  return new Set([order[clicked]]);
}
