// Permutation feature importance on the dev split: how much the project's error grows when one
// feature's values are shuffled across rows (breaking its link to the target). Features whose
// shuffling costs nothing are candidates to drop; the rest are what the model relies on.

import { mulberry32 } from '../data/prng';
import type { RawFeatures, Rows } from '../data/types';
import type { MetricName } from '../spec/types';
import { splitMetrics } from '../train/metrics';
import type { Prediction } from '../train/types';
import { errorOf } from './biasVariance';

export interface FeatureImportance {
  feature: string;
  /** Mean increase of the error over the repeats (negative: shuffling helped, i.e. noise). */
  importance: number;
  std: number;
}

export interface ImportanceReport {
  metric: MetricName;
  /** Error of the unshuffled dev rows. */
  baseError: number;
  repeats: number;
  /** Dev rows used (a seeded sample when the split is large). */
  rows: number;
  /** Most important first. */
  features: FeatureImportance[];
}

export interface ImportanceInput {
  rows: Rows;
  numeric: string[];
  categorical: string[];
  task: 'classification' | 'regression';
  classes: number;
  metric: MetricName;
  predict: (x: RawFeatures) => Promise<Prediction>;
  repeats?: number;
  seed?: number;
  /** At most this many dev rows are used. */
  maxRows?: number;
}

function shuffled(n: number, rand: () => number): Uint32Array {
  const p = Uint32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

export async function permutationImportance(input: ImportanceInput): Promise<ImportanceReport> {
  const { numeric, categorical, metric } = input;
  const repeats = input.repeats ?? 5;
  const rand = mulberry32(input.seed ?? 0);
  const F = numeric.length;
  const K = categorical.length;
  let { features: x, y } = input.rows;
  const maxRows = input.maxRows ?? 5000;
  if (x.n > maxRows) {
    const keep = shuffled(x.n, rand).subarray(0, maxRows).sort();
    x = {
      n: maxRows,
      numeric: Float32Array.from(
        { length: maxRows * F },
        (_, k) => input.rows.features.numeric[keep[Math.floor(k / F)] * F + (k % F)],
      ),
      categories: Array.from(
        { length: maxRows * K },
        (_, k) => input.rows.features.categories[keep[Math.floor(k / K)] * K + (k % K)],
      ),
    };
    y = Float64Array.from(keep, (i) => input.rows.y[i]);
  }
  const errorFor = async (features: RawFeatures) =>
    errorOf(metric, splitMetrics(input.task, y, await input.predict(features), input.classes));
  const baseError = await errorFor(x);
  const out: FeatureImportance[] = [];
  for (let j = 0; j < F + K; j++) {
    const drops: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const perm = shuffled(x.n, rand);
      let changed: RawFeatures;
      if (j < F) {
        const numericCopy = x.numeric.slice();
        for (let i = 0; i < x.n; i++) numericCopy[i * F + j] = x.numeric[perm[i] * F + j];
        changed = { ...x, numeric: numericCopy };
      } else {
        const k = j - F;
        const cats = x.categories.slice();
        for (let i = 0; i < x.n; i++) cats[i * K + k] = x.categories[perm[i] * K + k];
        changed = { ...x, categories: cats };
      }
      drops.push((await errorFor(changed)) - baseError);
    }
    const mean = drops.reduce((a, b) => a + b, 0) / repeats;
    const std = Math.sqrt(drops.reduce((a, d) => a + (d - mean) ** 2, 0) / repeats);
    out.push({ feature: j < F ? numeric[j] : categorical[j - F], importance: mean, std });
  }
  out.sort((a, b) => b.importance - a.importance);
  return { metric, baseError, repeats, rows: x.n, features: out };
}
