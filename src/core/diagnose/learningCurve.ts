// Learning curve (the run's experiment retrained on 10 %, 20 %, …, 100 % of the training split, or
// on 20 %, 40 %, …, 100 % of a large one; same seed and parameters) and validation curve (one parameter swept at 100 %). Every point is a
// job of the training worker; the learning curve is cached in the run folder, keyed by what it
// depends on, so a second look costs nothing.

import { createHash } from 'node:crypto';
import type { SplitDataset } from '../data/types';
import type { MetricName } from '../spec/types';
import { errorOf } from './biasVariance';
import type { CurvePoint, LearningCurve, ValidationCurve, ValidationPoint } from './learningCurveTypes';
import { readCachedLearningCurve, writeCachedLearningCurve } from './learningCurveCache';
import { runPool, stratifiedOrder, trainInWorker, withoutTest, withTrainSubset, type RetrainSpec } from './retrain';

export const DEFAULT_FRACTIONS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];
/** Above this many training rows a learning curve has 5 points (3 fits of the whole split's size instead of 5.5). */
export const LARGE_TRAIN_ROWS = 100_000;
export const LARGE_FRACTIONS = [0.2, 0.4, 0.6, 0.8, 1];

/** The fractions of the training split a learning curve of this run's data is trained on. */
export function learningCurveFractions(dataset: SplitDataset): number[] {
  return dataset.train.features.n > LARGE_TRAIN_ROWS ? LARGE_FRACTIONS : DEFAULT_FRACTIONS;
}

export interface CurveOptions {
  signal?: AbortSignal;
  /** Called after each point with the points done so far (in fraction order). */
  onPoint?: (done: number, total: number) => void;
  /** Trainings at once (each in its own worker). Default 1: the machine is shared. */
  concurrency?: number;
}

export function learningCurveKey(dataset: SplitDataset, spec: RetrainSpec, fractions: number[]): string {
  const canonical = JSON.stringify({
    data: dataset.version.id,
    model: spec.model,
    params: sortKeys(spec.params),
    seed: spec.seed,
    fractions,
  });
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

function sortKeys(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.keys(o)
      .sort()
      .map((k) => [k, o[k]]),
  );
}

export async function computeLearningCurve(
  dataset: SplitDataset,
  spec: RetrainSpec,
  metric: MetricName,
  fractions = DEFAULT_FRACTIONS,
  opts: CurveOptions = {},
): Promise<LearningCurve> {
  const t0 = Date.now();
  const n = dataset.train.features.n;
  const order = stratifiedOrder(dataset.train.y, dataset.schema.task === 'classification', spec.seed);
  let done = 0;
  const tasks = fractions.map((fraction) => async (): Promise<CurvePoint> => {
    const size = Math.max(1, Math.min(n, Math.round(fraction * n)));
    const result = await trainInWorker(
      {
        data: { dataset: withTrainSubset(dataset, order, size) },
        model: spec.model,
        params: spec.params,
        seed: spec.seed,
      },
      opts.signal,
    );
    opts.onPoint?.(++done, fractions.length);
    const dev = result.metrics.dev ?? result.metrics.train;
    return {
      fraction,
      trainSize: size,
      trainError: errorOf(metric, result.metrics.train),
      devError: errorOf(metric, dev),
    };
  });
  const points = await runPool(tasks, opts.concurrency ?? 1, opts.signal);
  return { metric, points, durationMs: Date.now() - t0, key: learningCurveKey(dataset, spec, fractions) };
}

/** Cached, else computed and cached. */
export async function learningCurveOfRun(
  runDir: string,
  dataset: SplitDataset,
  spec: RetrainSpec,
  metric: MetricName,
  opts: CurveOptions & { fractions?: number[] } = {},
): Promise<LearningCurve> {
  const fractions = opts.fractions ?? learningCurveFractions(dataset);
  const cached = readCachedLearningCurve(runDir, learningCurveKey(dataset, spec, fractions));
  if (cached) return cached;
  const curve = await computeLearningCurve(dataset, spec, metric, fractions, opts);
  writeCachedLearningCurve(runDir, curve);
  return curve;
}

/** A small sweep around the current value of a parameter the user names. */
export function sweepValues(param: string, current: unknown): unknown[] {
  // Layer sizes (the mlp's hidden, the cnn's dense and channels) scale together.
  const layers = param === 'hidden' || param === 'dense' || param === 'channels';
  if (layers && Array.isArray(current) && current.length > 0 && current.every((v) => typeof v === 'number')) {
    return [0.25, 0.5, 1, 2, 4].map((f) => current.map((u: number) => Math.max(1, Math.round(u * f))));
  }
  if (typeof current === 'number') {
    if (Number.isInteger(current) && current >= 1 && param !== 'l2')
      return [0.25, 0.5, 1, 2, 4].map((f) => Math.max(1, Math.round(current * f)));
    if (current > 0) return [0.01, 0.1, 1, 10, 100].map((f) => Number((current * f).toPrecision(6)));
    if (current === 0) return [0, 1e-4, 1e-3, 1e-2, 1e-1];
  }
  throw new Error(`No automatic sweep for ${param} = ${JSON.stringify(current)}: give the values to try`);
}

export async function computeValidationCurve(
  dataset: SplitDataset,
  spec: RetrainSpec,
  metric: MetricName,
  param: string,
  values = sweepValues(param, spec.params[param]),
  opts: CurveOptions = {},
): Promise<ValidationCurve> {
  const t0 = Date.now();
  let done = 0;
  const tasks = values.map((value) => async (): Promise<ValidationPoint> => {
    const params = { ...spec.params, [param]: value };
    const result = await trainInWorker(
      { data: { dataset: withoutTest(dataset) }, model: spec.model, params, seed: spec.seed },
      opts.signal,
    );
    opts.onPoint?.(++done, values.length);
    return {
      value,
      label: JSON.stringify(value),
      trainError: errorOf(metric, result.metrics.train),
      devError: errorOf(metric, result.metrics.dev ?? result.metrics.train),
    };
  });
  const points = await runPool(tasks, opts.concurrency ?? 1, opts.signal);
  return { metric, param, points, durationMs: Date.now() - t0 };
}
