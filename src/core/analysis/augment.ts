// Augmentation: synthetic TRAINING examples of one kind (a tag or a slice), seeded and reproducible.
// Images (data.image): small shifts, rotations and pixel noise of source images. Tabular: SMOTE-like
// interpolation between a source and one of its nearest same-class sources, or Gaussian noise scaled
// to each feature's spread in the training split. Dev and test are never read for sources' rows
// (tagged dev examples only point at their nearest training neighbours) and never changed; tagged
// production examples of the review queue point at their nearest training neighbours the same way.
import { mulberry32 } from '../data/prng';
import type { Rows, SplitDataset } from '../data/types';
import type { DataSpec } from '../spec/types';
import { selectRows } from '../data/rows';
import { inSlice, parseSliceKey, type SliceCondition } from './slices';
import type { TagStore } from './tags';

export type AugmentMethod = 'image' | 'smote' | 'noise';

export type AugmentSource = { slice: string } | { tag: string };

export interface AugmentRecipe {
  source: AugmentSource;
  method: AugmentMethod;
  count: number;
  seed: number;
  /** Image: largest rotation (degrees, default 12), shift (pixels, default 10 % of the width) and noise (share of the pixel range, default 0.03). */
  maxRotation?: number;
  maxShift?: number;
  noise?: number;
  /** Tabular noise: σ as a share of each feature's standard deviation (default 0.1). */
  noiseScale?: number;
  /** SMOTE neighbours (default 5). */
  neighbours?: number;
}

function standardDeviations(rows: Rows, F: number): Float64Array {
  const mean = new Float64Array(F);
  const sq = new Float64Array(F);
  const cnt = new Float64Array(F);
  for (let i = 0; i < rows.features.n; i++) {
    for (let f = 0; f < F; f++) {
      const v = rows.features.numeric[i * F + f];
      if (Number.isNaN(v)) continue;
      cnt[f]++;
      const d = v - mean[f];
      mean[f] += d / cnt[f];
      sq[f] += d * (v - mean[f]);
    }
  }
  return sq.map((s, f) => (cnt[f] > 1 ? Math.sqrt(s / (cnt[f] - 1)) : 0));
}

function distance(a: Float32Array, i: number, b: Float32Array, j: number, F: number, scale: Float64Array): number {
  let d = 0;
  for (let f = 0; f < F; f++) {
    const x = a[i * F + f];
    const y = b[j * F + f];
    if (Number.isNaN(x) || Number.isNaN(y)) continue;
    const z = (x - y) / (scale[f] || 1);
    d += z * z;
  }
  return d;
}

/** Nearest `k` rows of `candidates` (same class; any class when row j of `from` has no label, y NaN) to row j of `from`. */
function nearestSameClass(
  train: Rows,
  candidates: number[],
  from: Rows,
  j: number,
  F: number,
  scale: Float64Array,
  k: number,
): number[] {
  const any = Number.isNaN(from.y[j]);
  return candidates
    .filter((i) => any || train.y[i] === from.y[j])
    .map((i) => [i, distance(train.features.numeric, i, from.features.numeric, j, F, scale)] as const)
    .sort((a, b) => a[1] - b[1])
    .slice(0, k)
    .map(([i]) => i);
}

/**
 * Training rows that stand for the source: for a slice, the training rows in it; for a tag, the
 * tagged training rows, or when none is tagged, the 5 nearest same-class training rows of each
 * tagged dev example (tags usually sit on dev errors, which must never enter training) and of each
 * tagged production example (`production`: the review queue's, y NaN when unlabelled — then the
 * nearest of any class; they may be held out to evaluate a retrained model, so they never enter
 * training here either).
 */
export function sourceRows(dataset: SplitDataset, source: AugmentSource, tags: TagStore, production?: Rows): number[] {
  const { schema, train, dev } = dataset;
  const n = train.features.n;
  if ('slice' in source) {
    const conditions: SliceCondition[] = parseSliceKey(source.slice);
    const out: number[] = [];
    for (let i = 0; i < n; i++) if (inSlice(schema, train, i, conditions)) out.push(i);
    return out;
  }
  const has = (id: string) => tags[id]?.includes(source.tag) ?? false;
  const tagged = train.ids.flatMap((id, i) => (has(id) ? [i] : []));
  if (tagged.length) return tagged;
  const F = schema.numeric.length;
  const scale = standardDeviations(train, F);
  const all = Array.from({ length: n }, (_, i) => i);
  const near = new Set<number>();
  for (const anchors of production ? [dev, production] : [dev]) {
    anchors.ids.forEach((id, j) => {
      if (has(id)) for (const i of nearestSameClass(train, all, anchors, j, F, scale, 5)) near.add(i);
    });
  }
  return [...near].sort((a, b) => a - b);
}

export function defaultMethod(spec: DataSpec): AugmentMethod {
  return spec.image ? 'image' : 'smote';
}

/** Standard normal from two uniforms (Box–Muller). */
function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/** A shifted, rotated, noisy copy of one image (bilinear resampling about the centre). */
function transformImage(
  src: Float32Array,
  out: Float32Array,
  image: NonNullable<DataSpec['image']>,
  rand: () => number,
  r: AugmentRecipe,
  lo: number,
  hi: number,
): void {
  const { width: W, height: H } = image;
  const ch = image.channels ?? 1;
  const angle = ((rand() * 2 - 1) * (r.maxRotation ?? 12) * Math.PI) / 180;
  const maxShift = r.maxShift ?? Math.max(1, Math.round(W * 0.1));
  const dx = Math.round((rand() * 2 - 1) * maxShift);
  const dy = Math.round((rand() * 2 - 1) * maxShift);
  const sigma = (r.noise ?? 0.03) * (hi - lo);
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const cx = (W - 1) / 2;
  const cy = (H - 1) / 2;
  const at = (x: number, y: number, c: number) => (x < 0 || y < 0 || x >= W || y >= H ? lo : src[(y * W + x) * ch + c]);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      // Inverse map: where in the source this output pixel comes from.
      const ux = x - dx - cx;
      const uy = y - dy - cy;
      const sx = cos * ux + sin * uy + cx;
      const sy = -sin * ux + cos * uy + cy;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      for (let c = 0; c < ch; c++) {
        const v =
          at(x0, y0, c) * (1 - fx) * (1 - fy) +
          at(x0 + 1, y0, c) * fx * (1 - fy) +
          at(x0, y0 + 1, c) * (1 - fx) * fy +
          at(x0 + 1, y0 + 1, c) * fx * fy;
        out[(y * W + x) * ch + c] = Math.min(hi, Math.max(lo, v + sigma * gaussian(rand)));
      }
    }
  }
}

/**
 * `recipe.count` synthetic rows made from the training rows `sources` (labels kept). Deterministic
 * for a given dataset, sources and recipe (seed included).
 */
export function augmentRows(
  dataset: SplitDataset,
  sources: number[],
  recipe: AugmentRecipe,
  image?: DataSpec['image'],
): Rows {
  const { schema, train } = dataset;
  if (!sources.length) throw new Error('Nothing to augment: no training examples match the source');
  if (!Number.isInteger(recipe.count) || recipe.count < 1)
    throw new Error(`The count must be a whole number ≥ 1, not ${recipe.count}`);
  const F = schema.numeric.length;
  const K = schema.categorical.length;
  const rand = mulberry32(recipe.seed ^ 0x2f6b1d3);
  const picks = Array.from({ length: recipe.count }, () => sources[Math.floor(rand() * sources.length)]);
  const out = selectRows(train, picks, F, K);
  out.ids = out.ids.map(() => '');
  const x = out.features.numeric;
  if (recipe.method === 'image') {
    if (!image || image.width * image.height * (image.channels ?? 1) !== F)
      throw new Error('Image augmentation needs data.image matching the numeric features');
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of train.features.numeric) if (!Number.isNaN(v)) ((lo = Math.min(lo, v)), (hi = Math.max(hi, v)));
    const src = new Float32Array(F);
    for (let k = 0; k < picks.length; k++) {
      src.set(x.subarray(k * F, (k + 1) * F));
      transformImage(src, x.subarray(k * F, (k + 1) * F), image, rand, recipe, lo, hi);
    }
    return out;
  }
  const std = standardDeviations(train, F);
  const neighbours = recipe.neighbours ?? 5;
  const neighbourCache = new Map<number, number[]>();
  for (let k = 0; k < picks.length; k++) {
    const a = picks[k];
    let near: number[] = [];
    if (recipe.method === 'smote') {
      near =
        neighbourCache.get(a) ??
        nearestSameClass(train, sources, train, a, F, std, neighbours + 1).filter((i) => i !== a);
      neighbourCache.set(a, near);
    }
    if (near.length) {
      const b = near[Math.floor(rand() * near.length)];
      const u = rand();
      for (let f = 0; f < F; f++) {
        const va = train.features.numeric[a * F + f];
        const vb = train.features.numeric[b * F + f];
        x[k * F + f] = Number.isNaN(va) || Number.isNaN(vb) ? va : va + u * (vb - va);
      }
      if (u >= 0.5)
        for (let c = 0; c < K; c++) out.features.categories[k * K + c] = train.features.categories[b * K + c];
    } else {
      // No same-class neighbour (or method 'noise'): jitter scaled to each feature's spread.
      const scale = recipe.noiseScale ?? 0.1;
      for (let f = 0; f < F; f++) {
        const v = x[k * F + f];
        if (!Number.isNaN(v)) x[k * F + f] = v + scale * std[f] * gaussian(rand);
      }
    }
  }
  return out;
}
