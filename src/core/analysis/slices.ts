// Automatic slices: where the errors concentrate. Numeric features are binned by quantiles of the dev
// values, categorical ones by value, then pairs of the most error-dense features are crossed. Slices
// are ranked by their excess errors (errors beyond what the average error rate predicts for their
// size), which weighs both how much of the error a slice holds and how much worse than average it is.
import type { FeatureSchema, Rows } from '../data/types';
import type { ErrorTable } from './errorTable';

/** One condition on a feature: a numeric range (gt < v ≤ le, either side open), missing, or a category. */
export type SliceCondition =
  | { feature: string; kind: 'range'; gt?: number; le?: number }
  | { feature: string; kind: 'missing' }
  | { feature: string; kind: 'value'; value: string };

export interface Slice {
  /** Stable key, e.g. "px12>3&px20<=0" (used to filter and to name an augmentation source). */
  key: string;
  label: string;
  conditions: SliceCondition[];
  /** Dev examples in the slice. */
  support: number;
  errors: number;
  errorRate: number;
  /** errors / all dev errors. */
  shareOfErrors: number;
  /** errorRate / overall error rate. */
  lift: number;
  /** errors − support × overall error rate. */
  excessErrors: number;
}

export interface SliceOptions {
  /** Quantile bins per numeric feature (default 4). */
  bins?: number;
  /** Smallest slice reported (default max(5, 1 % of dev)). */
  minSupport?: number;
  /** Features crossed in pairs: the best this many by single-slice excess (default 8). */
  pairFeatures?: number;
  /** Most values per categorical feature (default 20). */
  maxValues?: number;
  /** Slices returned (default 50). */
  limit?: number;
  /** Image projects: the pixel features are never thresholded ("8 < px50 ≤ 13" means nothing); slices come from the other columns. */
  pixelFeatures?: readonly string[];
}

/** The features of an image project that are pixels: every numeric feature (the image size is checked against them). */
export function pixelFeaturesOf(schema: FeatureSchema, image: unknown): string[] {
  return image ? [...schema.numeric] : [];
}

function fmt(v: number): string {
  return String(Number(v.toPrecision(4)));
}

export function conditionLabel(c: SliceCondition): string {
  if (c.kind === 'missing') return `${c.feature} missing`;
  if (c.kind === 'value') return `${c.feature} = ${c.value}`;
  if (c.gt !== undefined && c.le !== undefined) return `${fmt(c.gt)} < ${c.feature} ≤ ${fmt(c.le)}`;
  if (c.gt !== undefined) return `${c.feature} > ${fmt(c.gt)}`;
  return `${c.feature} ≤ ${fmt(c.le!)}`;
}

function conditionKey(c: SliceCondition): string {
  if (c.kind === 'missing') return `${c.feature}=?`;
  if (c.kind === 'value') return `${c.feature}=${JSON.stringify(c.value)}`;
  return `${c.feature}${c.gt !== undefined ? `>${c.gt}` : ''}${c.le !== undefined ? `<=${c.le}` : ''}`;
}

export function sliceKey(conditions: SliceCondition[]): string {
  return conditions.map(conditionKey).join('&');
}

/** Whether row i of `rows` satisfies every condition. */
export function inSlice(schema: FeatureSchema, rows: Rows, i: number, conditions: SliceCondition[]): boolean {
  const F = schema.numeric.length;
  const K = schema.categorical.length;
  for (const c of conditions) {
    if (c.kind === 'value') {
      const k = schema.categorical.indexOf(c.feature);
      if (k < 0 || rows.features.categories[i * K + k] !== c.value) return false;
      continue;
    }
    const f = schema.numeric.indexOf(c.feature);
    if (f < 0) return false;
    const v = rows.features.numeric[i * F + f];
    if (c.kind === 'missing') {
      if (!Number.isNaN(v)) return false;
    } else if (Number.isNaN(v) || (c.gt !== undefined && !(v > c.gt)) || (c.le !== undefined && !(v <= c.le))) return false;
  }
  return true;
}

/** Row numbers of `rows` in the slice. */
export function sliceRows(schema: FeatureSchema, rows: Rows, conditions: SliceCondition[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < rows.features.n; i++) if (inSlice(schema, rows, i, conditions)) out.push(i);
  return out;
}

/** A feature's bins: the condition of each bin code, each code's dev support and errors, and (on demand, for pairs) the code of every row. */
interface Binned {
  feature: string;
  conditions: SliceCondition[];
  support: Int32Array;
  errors: Int32Array;
  codes(): Uint16Array;
}

const QUANTILE_SAMPLE = 4096;

/** Cut points of numeric feature f: quantiles of an evenly strided sample of at most QUANTILE_SAMPLE dev values. */
function cutsOf(values: Float32Array, n: number, F: number, f: number, bins: number): number[] {
  // Bins for slicing need not be exact, and sorting every value of every feature dominated the panel's open time.
  const step = Math.max(1, Math.floor(n / QUANTILE_SAMPLE));
  const sample = new Float32Array(Math.ceil(n / step));
  let m = 0;
  for (let i = 0; i < n; i += step) {
    const v = values[i * F + f];
    if (!Number.isNaN(v)) sample[m++] = v;
  }
  const finite = sample.subarray(0, m).sort();
  const cuts: number[] = [];
  for (let q = 1; q < bins; q++) {
    if (!finite.length) break;
    const c = finite[Math.min(finite.length - 1, Math.floor((q * finite.length) / bins))];
    // A cut at the maximum would leave an empty top bin; ties collapse into one cut.
    if (c < finite[finite.length - 1] && (cuts.length === 0 || c > cuts[cuts.length - 1])) cuts.push(c);
  }
  return cuts;
}

/** The bin of a value: its range among the cuts, or the code after the last range when missing. */
function binOf(v: number, cuts: number[]): number {
  if (v !== v) return cuts.length + 1;
  let b = 0;
  while (b < cuts.length && v > cuts[b]) b++;
  return b;
}

/**
 * Every numeric feature binned in one row-major pass over the dev values (a pass per feature would
 * read the whole matrix once per feature): conditions, support and errors per bin.
 */
function binNumeric(schema: FeatureSchema, rows: Rows, wrong: Uint8Array, n: number, bins: number): Binned[] {
  const F = schema.numeric.length;
  const values = rows.features.numeric;
  const cuts = schema.numeric.map((_, f) => cutsOf(values, n, F, f, bins));
  const B = bins + 1; // at most bins ranges and the missing code
  const support = new Int32Array(F * B);
  const errors = new Int32Array(F * B);
  for (let i = 0; i < n; i++) {
    const w = wrong[i];
    const base = i * F;
    for (let f = 0; f < F; f++) {
      const cell = f * B + binOf(values[base + f], cuts[f]);
      support[cell]++;
      errors[cell] += w;
    }
  }
  return schema.numeric.map((name, f) => {
    const c = cuts[f];
    const conditions: SliceCondition[] = [];
    for (let b = 0; b <= c.length; b++) conditions.push({ feature: name, kind: 'range', ...(b > 0 ? { gt: c[b - 1] } : {}), ...(b < c.length ? { le: c[b] } : {}) });
    conditions.push({ feature: name, kind: 'missing' });
    const codes = () => {
      const code = new Uint16Array(n);
      for (let i = 0; i < n; i++) code[i] = binOf(values[i * F + f], c);
      return code;
    };
    return { feature: name, conditions, support: support.subarray(f * B, f * B + conditions.length), errors: errors.subarray(f * B, f * B + conditions.length), codes };
  });
}

function binCategorical(name: string, values: string[], stride: number, offset: number, n: number, maxValues: number, wrong: Uint8Array): Binned {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const v = values[i * stride + offset];
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  const kept = [...counts].sort((a, b) => b[1] - a[1]).slice(0, maxValues).map(([v]) => v);
  const index = new Map(kept.map((v, i) => [v, i]));
  const other = kept.length;
  const code = new Uint16Array(n);
  const support = new Int32Array(kept.length + 1);
  const errors = new Int32Array(kept.length + 1);
  for (let i = 0; i < n; i++) {
    const c = (code[i] = index.get(values[i * stride + offset]) ?? other);
    support[c]++;
    errors[c] += wrong[i];
  }
  // Rows of values beyond maxValues get a code with no condition: they form no slice.
  return { feature: name, conditions: kept.map((value) => ({ feature: name, kind: 'value', value }) as SliceCondition), support, errors, codes: () => code };
}

export function findSlices(schema: FeatureSchema, rows: Rows, table: ErrorTable, opts: SliceOptions = {}): Slice[] {
  const n = table.n;
  if (n === 0 || table.errorCount === 0) return [];
  const bins = opts.bins ?? 4;
  const minSupport = opts.minSupport ?? Math.max(5, Math.ceil(n * 0.01));
  const rate = table.errorCount / n;
  const K = schema.categorical.length;
  const pixels = new Set(opts.pixelFeatures ?? []);
  const binned: Binned[] = [
    ...(pixels.size === schema.numeric.length && pixels.size > 0 ? [] : binNumeric(schema, rows, table.wrong, n, bins).filter((b) => !pixels.has(b.feature))),
    ...schema.categorical.map((name, k) => binCategorical(name, rows.features.categories, K, k, n, opts.maxValues ?? 20, table.wrong)),
  ];
  const make = (conditions: SliceCondition[], support: number, errors: number): Slice => ({
    key: sliceKey(conditions),
    label: conditions.map(conditionLabel).join(' and '),
    conditions,
    support,
    errors,
    errorRate: errors / support,
    shareOfErrors: errors / table.errorCount,
    lift: errors / support / rate,
    excessErrors: errors - support * rate,
  });
  const singles: Slice[] = [];
  const bestOfFeature = new Float64Array(binned.length).fill(-Infinity);
  binned.forEach((b, fi) => {
    b.conditions.forEach((c, code) => {
      const support = b.support[code];
      if (support < minSupport || support === n) return;
      // Only slices worse than average can rank or pick pair features: the rest cost no label.
      const excess = b.errors[code] - support * rate;
      if (excess > bestOfFeature[fi]) bestOfFeature[fi] = excess;
      if (excess > 0) singles.push(make([c], support, b.errors[code]));
    });
  });
  const top = [...bestOfFeature.keys()].filter((fi) => bestOfFeature[fi] > 0).sort((a, b) => bestOfFeature[b] - bestOfFeature[a]).slice(0, opts.pairFeatures ?? 8);
  const codes = new Map(top.map((fi) => [fi, binned[fi].codes()]));
  const pairs: Slice[] = [];
  for (let a = 0; a < top.length; a++) {
    for (let b = a + 1; b < top.length; b++) {
      const A = binned[top[a]];
      const B = binned[top[b]];
      const codeA = codes.get(top[a])!;
      const codeB = codes.get(top[b])!;
      const width = B.conditions.length + 1;
      const support = new Int32Array((A.conditions.length + 1) * width);
      const errors = new Int32Array(support.length);
      for (let i = 0; i < n; i++) {
        const cell = codeA[i] * width + codeB[i];
        support[cell]++;
        errors[cell] += table.wrong[i];
      }
      for (let ca = 0; ca < A.conditions.length; ca++) {
        for (let cb = 0; cb < B.conditions.length; cb++) {
          const cell = ca * width + cb;
          if (support[cell] < minSupport || errors[cell] - support[cell] * rate <= 0) continue;
          pairs.push(make([A.conditions[ca], B.conditions[cb]], support[cell], errors[cell]));
        }
      }
    }
  }
  // A pair is worth showing only when it is worse than both its halves alone.
  const singleRate = new Map(singles.map((s) => [s.key, s.errorRate]));
  const usefulPairs = pairs.filter((p) => p.conditions.every((c) => p.errorRate > (singleRate.get(sliceKey([c])) ?? 0)));
  return [...singles, ...usefulPairs]
    .filter((s) => s.excessErrors > 0)
    .sort((a, b) => b.excessErrors - a.excessErrors || b.lift - a.lift)
    .slice(0, opts.limit ?? 50);
}

/** Parses a slice key written by sliceKey (CLI --slice, stored filters). */
export function parseSliceKey(key: string): SliceCondition[] {
  // "&" joins conditions; one inside a quoted category value is part of the value.
  return key.split(/&(?=(?:[^"]*"[^"]*")*[^"]*$)/).map((part) => {
    let m = /^(.+?)=\?$/.exec(part);
    if (m) return { feature: m[1], kind: 'missing' } as const;
    m = /^(.+?)=(".*")$/.exec(part);
    if (m) return { feature: m[1], kind: 'value', value: JSON.parse(m[2]) as string } as const;
    m = /^(.+?)(?:>(-?[\d.e+-]+))?(?:<=(-?[\d.e+-]+))?$/.exec(part);
    if (!m || (m[2] === undefined && m[3] === undefined)) throw new Error(`Not a slice: "${part}" (expected e.g. "px12>3", "x<=2.5", "x>1<=4" or 'color="red"')`);
    return { feature: m[1], kind: 'range', ...(m[2] !== undefined ? { gt: Number(m[2]) } : {}), ...(m[3] !== undefined ? { le: Number(m[3]) } : {}) } as const;
  });
}
