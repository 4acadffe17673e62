// Andrew Ng's recipe from three numbers: avoidable bias = train error − baseline, variance = dev
// error − train error, dev/test mismatch = test error − dev error. The verdict names the largest
// problem that matters, with its size, and the recommendations that fit it; a learning curve, when
// there is one, says whether more data would help. Avoidable bias is never negative: a model below
// the baseline has passed it (human-level is then no proxy of the Bayes error). For accuracy the
// dev/test errors are binomial proportions: each gets a Wilson 95 % interval, and a gap inside it is
// reported as "the split is too small to tell", with the size that would tell, never as a problem.

import type { MetricName } from '../spec/types';
import type { SplitMetrics } from '../train/metrics';
import type { LearningCurve } from './learningCurveTypes';

/** The error form of a metric value: lower is better, 0 is perfect. */
export function errorOf(metric: MetricName, m: SplitMetrics): number {
  const v = (m as unknown as Record<string, number>)[metric];
  return metric === 'accuracy' || metric === 'f1' || metric === 'r2' ? 1 - v : v;
}

/** Whether the error is a fraction (shown as %, gaps in points) rather than in the metric's units. */
export function isRateMetric(metric: MetricName): boolean {
  return metric === 'accuracy' || metric === 'f1' || metric === 'r2';
}

/** Name of the error form of a metric, for sentences. */
export function errorName(metric: MetricName): string {
  return { accuracy: 'error', f1: '1 − F1', logloss: 'log loss', rmse: 'RMSE', mae: 'MAE', r2: '1 − R²' }[metric];
}

export type Dominant = 'bias' | 'variance' | 'mismatch' | 'none';

export type RecommendationId =
  | 'biggerModel'
  | 'trainLonger'
  | 'lessRegularization'
  | 'betterFeatures'
  | 'moreData'
  | 'moreRegularization'
  | 'earlyStopping'
  | 'augmentation'
  | 'fewerFeatures'
  | 'smallerNetwork'
  | 'moreDevData'
  | 'biggerEvalSet'
  | 'errorAnalysis';

export interface Recommendation {
  id: RecommendationId;
  /** Which problem it addresses. */
  for: Exclude<Dominant, 'none'> | 'none';
  text: string;
}

export interface Verdict {
  metric: MetricName;
  baseline: number;
  /** True when mlloop.json gives no baseline.error: it is then taken as 0. */
  baselineAssumed: boolean;
  baselineSource?: string;
  trainError: number;
  devError: number;
  testError?: number;
  /** max(0, train − baseline): a model below the baseline has no avoidable bias left to measure. */
  avoidableBias: number;
  /** Train or dev error is below the baseline: the baseline no longer bounds the Bayes error. */
  passedBaseline: boolean;
  variance: number;
  /** Wilson 95 % intervals of the dev and test errors (accuracy only, when the split sizes are known). */
  devInterval?: ErrorInterval;
  testInterval?: ErrorInterval;
  /** A gap above the tolerance but inside the noise of a split too small to tell: not a problem, and how many examples would tell. */
  undecided?: { gap: 'variance' | 'mismatch'; split: 'dev' | 'test'; examples: number; needed: number };
  /** test − dev; null without a test split. */
  mismatch: number | null;
  dominant: Dominant;
  /** Both bias and variance matter: the dominant one is to be tackled first. */
  both: boolean;
  /** A gap below this is noise, not a problem (1 point for rates, else 5 % of the dev error). */
  tolerance: number;
  severity: 'information' | 'warning';
  /** One line, e.g. "High variance: dev error 8.1% vs train 0.9% (baseline 2.0%)". */
  summary: string;
  /** Sentences that explain the verdict (baseline assumption, learning-curve reading, what to tackle first). */
  notes: string[];
  recommendations: Recommendation[];
  learningCurveReading?: LearningCurveReading;
}

export interface ErrorInterval {
  low: number;
  high: number;
  /** Examples the error was measured on. */
  n: number;
}

/** The 95 % normal quantile. */
const Z95 = 1.959964;

/** Wilson score interval of a proportion p measured on n examples (95 % by default). */
export function wilsonInterval(p: number, n: number, z = Z95): ErrorInterval {
  if (!(n > 0)) return { low: 0, high: 1, n: 0 };
  const z2 = z * z;
  const center = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { low: Math.max(0, center - half), high: Math.min(1, center + half), n };
}

/**
 * The smallest number of examples at which an error rate p would have a Wilson interval wholly
 * above `bound` (the other error plus the tolerance); Infinity when p is not above it.
 */
export function examplesToTell(p: number, bound: number): number {
  if (!(p > bound)) return Infinity;
  const tells = (n: number) => wilsonInterval(p, n).low > bound;
  let hi = 8;
  while (!tells(hi)) hi *= 2;
  let lo = hi / 2;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (tells(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** "2.9% (95% CI 0.5–14.9%, 34 examples)"; the bare error without an interval. */
export function formatErrorWithInterval(metric: MetricName, v: number, ci?: ErrorInterval): string {
  if (!ci) return formatError(metric, v);
  return `${formatError(metric, v)} (95% CI ${(ci.low * 100).toFixed(1)}–${(ci.high * 100).toFixed(1)}%, ${ci.n} examples)`;
}

export type LearningCurveReading = 'more-data-helps' | 'more-data-will-not-help' | 'inconclusive';

const RECOMMENDATIONS: Record<RecommendationId, Omit<Recommendation, 'id'>> = {
  biggerModel: { for: 'bias', text: 'Use a bigger model (more hidden units or layers, more leaves).' },
  trainLonger: { for: 'bias', text: 'Train longer (more epochs or iterations) or with a better optimizer.' },
  lessRegularization: { for: 'bias', text: 'Reduce regularization (lower l2, less dropout).' },
  betterFeatures: { for: 'bias', text: 'Add better features: error analysis shows what the model is missing.' },
  moreData: { for: 'variance', text: 'Get more training data.' },
  moreRegularization: { for: 'variance', text: 'Add regularization (raise l2, add dropout).' },
  earlyStopping: { for: 'variance', text: 'Stop early on the dev error.' },
  augmentation: { for: 'variance', text: 'Augment the data (e.g. shifted or noisy copies of the examples).' },
  fewerFeatures: { for: 'variance', text: 'Use fewer features: drop those the importance ranking says do not help.' },
  smallerNetwork: { for: 'variance', text: 'Use a smaller network (fewer channels or layers).' },
  moreDevData: {
    for: 'mismatch',
    text: 'Make dev and test come from the same distribution, or get a bigger dev set: the model is tuned to the dev set.',
  },
  biggerEvalSet: { for: 'none', text: 'Get a bigger dev (or test) set: it is too small to tell the gap from noise.' },
  errorAnalysis: {
    for: 'none',
    text: 'The model is close to the baseline: check the baseline, or read the errors (error analysis) for what is left.',
  },
};

const BY_PROBLEM: Record<Dominant, RecommendationId[]> = {
  bias: ['biggerModel', 'trainLonger', 'lessRegularization', 'betterFeatures'],
  variance: ['moreData', 'moreRegularization', 'earlyStopping', 'augmentation', 'fewerFeatures'],
  mismatch: ['moreDevData'],
  none: ['errorAnalysis'],
};

/**
 * Image inputs: pixels are not features to drop or engineer, so those two give way to a smaller
 * network, and augmentation and regularization are said the way they are done to images.
 */
const FOR_IMAGES: Partial<Record<RecommendationId, RecommendationId | null>> = {
  fewerFeatures: 'smallerNetwork',
  betterFeatures: null,
};
const IMAGE_TEXT: Partial<Record<RecommendationId, string>> = {
  augmentation: 'Augment the images (flips, crops, small shifts and rotations, brightness changes).',
  moreRegularization: 'Add regularization (weight decay, dropout).',
  lessRegularization: 'Reduce regularization (less weight decay, less dropout).',
};

function recommendation(id: RecommendationId, images: boolean): Recommendation {
  return { id, ...RECOMMENDATIONS[id], ...(images && IMAGE_TEXT[id] ? { text: IMAGE_TEXT[id] } : {}) };
}

function forInputs(ids: RecommendationId[], images: boolean): RecommendationId[] {
  if (!images) return ids;
  return ids.flatMap((id) => {
    const to = FOR_IMAGES[id];
    return to === undefined ? [id] : to === null ? [] : [to];
  });
}

export function formatError(metric: MetricName, v: number): string {
  if (isRateMetric(metric)) return `${(v * 100).toFixed(1)}%`;
  return Number(v.toPrecision(3)).toString();
}

/** A gap in words: "7.2 points" for rates, else in the metric's units. */
export function formatGap(metric: MetricName, v: number): string {
  return isRateMetric(metric) ? `${(v * 100).toFixed(1)} points` : `${Number(v.toPrecision(3))} (${errorName(metric)})`;
}

/**
 * Reads a learning curve: dev error still falling over the last 30 % of the sizes → more data
 * helps; train and dev curves met (gap under the tolerance) above the baseline → more data will not.
 */
export function readLearningCurve(curve: LearningCurve, baseline: number, tolerance: number): LearningCurveReading {
  const pts = curve.points;
  if (pts.length < 3) return 'inconclusive';
  const last = pts[pts.length - 1];
  const earlier = pts[Math.max(0, pts.length - 4)];
  if (Math.abs(last.devError - last.trainError) < tolerance && last.trainError - baseline > tolerance)
    return 'more-data-will-not-help';
  if (earlier.devError - last.devError > tolerance / 2) return 'more-data-helps';
  return 'inconclusive';
}

/** Short form for the CodeLens: "High variance · 2.0 points · dev 8.1% (95% CI …)". */
export function verdictShort(v: Verdict): string {
  const size =
    v.dominant === 'bias'
      ? v.avoidableBias
      : v.dominant === 'variance'
        ? v.variance
        : v.dominant === 'mismatch'
          ? (v.mismatch ?? 0)
          : 0;
  const quiet = v.undecided
    ? `${v.undecided.split === 'dev' ? 'Dev' : 'Test'} set too small to tell`
    : v.passedBaseline
      ? 'Passed the baseline'
      : 'Close to the baseline';
  const name = { bias: 'High avoidable bias', variance: 'High variance', mismatch: 'Dev/test mismatch', none: quiet }[
    v.dominant
  ];
  const dev = `dev ${formatErrorWithInterval(v.metric, v.devError, v.devInterval)}`;
  return v.dominant === 'none' ? `${name} · ${dev}` : `${name} · ${formatGap(v.metric, size)} · ${dev}`;
}

export interface VerdictInput {
  metric: MetricName;
  baseline?: { error: number; source?: string };
  train: SplitMetrics;
  dev?: SplitMetrics;
  test?: SplitMetrics;
  /** Examples in each split (run.json's `rows`): gives the dev/test errors their intervals. */
  rows?: { dev?: number; test?: number };
  learningCurve?: LearningCurve;
  /** The model reads images (data.images / data.imageColumn): the advice fits networks on pixels. */
  images?: boolean;
}

export function verdictOf(input: VerdictInput): Verdict {
  const { metric } = input;
  const baseline = input.baseline?.error ?? 0;
  const baselineAssumed = input.baseline === undefined;
  const trainError = errorOf(metric, input.train);
  // Without a dev split there is no variance to measure: dev = train.
  const devError = input.dev ? errorOf(metric, input.dev) : trainError;
  const testError = input.test ? errorOf(metric, input.test) : undefined;
  const passedBaseline = !baselineAssumed && (trainError < baseline || devError < baseline);
  const avoidableBias = Math.max(0, trainError - baseline);
  const variance = devError - trainError;
  const mismatch = testError === undefined ? null : testError - devError;
  const tolerance = isRateMetric(metric) ? 0.01 : 0.05 * Math.max(Math.abs(devError), 1e-12);
  // Only accuracy's error is a proportion of examples; the other metrics get no interval.
  const interval = (error: number, n: number | undefined) =>
    metric === 'accuracy' && n && n > 0 ? wilsonInterval(error, n) : undefined;
  const devInterval = input.dev ? interval(devError, input.rows?.dev) : undefined;
  const testInterval = testError !== undefined ? interval(testError, input.rows?.test) : undefined;
  // A gap is noise when the error's interval reaches down to within the tolerance of the other error.
  const inside = (ci: ErrorInterval | undefined, other: number) => ci !== undefined && ci.low - other <= tolerance;

  let undecided: Verdict['undecided'];
  const gaps: [Exclude<Dominant, 'none'>, number][] = [
    ['bias', avoidableBias],
    ['variance', variance],
    ['mismatch', mismatch ?? -Infinity],
  ];
  const significant = gaps
    .filter(([which, g]) => {
      if (!(g > tolerance)) return false;
      const noisy =
        which === 'variance'
          ? inside(devInterval, trainError)
          : which === 'mismatch'
            ? inside(testInterval, devError)
            : false;
      if (noisy && !undecided) {
        const split = which === 'variance' ? 'dev' : 'test';
        const ci = (which === 'variance' ? devInterval : testInterval)!;
        undecided = {
          gap: which as 'variance' | 'mismatch',
          split,
          examples: ci.n,
          needed:
            which === 'variance'
              ? examplesToTell(devError, trainError + tolerance)
              : examplesToTell(testError!, devError + tolerance),
        };
      }
      return !noisy;
    })
    .sort((a, b) => b[1] - a[1]);
  const top = significant.length ? significant[0] : undefined;
  const dominant: Dominant = top ? top[0] : 'none';
  const size = top ? top[1] : 0;
  const both = significant.some(([w]) => w === 'bias') && significant.some(([w]) => w === 'variance');
  const severity = dominant !== 'none' && size >= 3 * tolerance ? 'warning' : 'information';

  const f = (v: number) => formatError(metric, v);
  const dev = formatErrorWithInterval(metric, devError, devInterval);
  const test = testError === undefined ? f(NaN) : formatErrorWithInterval(metric, testError, testInterval);
  const name = errorName(metric);
  const base = baselineAssumed ? 'baseline assumed 0' : `baseline ${f(baseline)}`;
  const quiet = undecided
    ? `${undecided.split === 'dev' ? 'Dev' : 'Test'} set too small to tell: ${undecided.split === 'dev' ? `dev ${name} ${dev} vs train ${f(trainError)}` : `test ${name} ${test} vs dev ${f(devError)}`} (${base})`
    : passedBaseline
      ? `Passed the baseline: train ${name} ${f(trainError)}, dev ${dev} (${base})`
      : `Close to the baseline: train ${name} ${f(trainError)}, dev ${dev} (${base})`;
  const summary = {
    bias: `High avoidable bias: train ${name} ${f(trainError)} vs ${base} (dev ${dev})`,
    variance: `High variance: dev ${name} ${dev} vs train ${f(trainError)} (${base})`,
    mismatch: `Dev/test mismatch: test ${name} ${test} vs dev ${f(devError)} (train ${f(trainError)})`,
    none: quiet,
  }[dominant];

  const notes: string[] = [];
  if (baselineAssumed)
    notes.push(
      'mlloop.json gives no baseline.error, so it is assumed 0: estimate human-level (or a known system\'s) error and add it as "baseline": { "error": … }.',
    );
  if (passedBaseline)
    notes.push(
      `The model has passed the baseline (${f(baseline)}): human-level error is no longer a good estimate of the Bayes error, so avoidable bias cannot be measured; variance is judged on its own.`,
    );
  if (undecided) {
    const ci = undecided.split === 'dev' ? devInterval! : testInterval!;
    const gapSize = undecided.gap === 'variance' ? variance : mismatch!;
    const needed = Number.isFinite(undecided.needed)
      ? `about ${undecided.needed} ${undecided.split} examples would tell a gap of ${formatGap(metric, gapSize)} from noise`
      : 'no split size would tell these two errors apart';
    notes.push(
      `The ${undecided.split} set (${undecided.examples} examples) is too small to tell whether the ${undecided.gap === 'variance' ? 'variance' : 'dev/test mismatch'} of ${formatGap(metric, gapSize)} is real: its 95% interval ${(ci.low * 100).toFixed(1)}–${(ci.high * 100).toFixed(1)}% reaches within ${formatGap(metric, tolerance)} of the ${undecided.gap === 'variance' ? 'train' : 'dev'} error; ${needed}.`,
    );
  }
  if (dominant !== 'none')
    notes.push(
      `The dominant problem is ${dominant === 'bias' ? 'avoidable bias' : dominant === 'variance' ? 'variance' : 'the dev/test mismatch'}: ${formatGap(metric, size)}.`,
    );
  if (both) {
    const other = dominant === 'bias' ? 'variance' : 'avoidable bias';
    notes.push(
      `Both avoidable bias (${formatGap(metric, avoidableBias)}) and variance (${formatGap(metric, variance)}) matter: tackle ${dominant === 'bias' ? 'avoidable bias' : 'variance'} first, then ${other}.`,
    );
  }

  let ids =
    undecided && dominant === 'none' ? ['biggerEvalSet' as const, ...BY_PROBLEM.none] : [...BY_PROBLEM[dominant]];
  if (both) ids.push(...BY_PROBLEM[dominant === 'bias' ? 'variance' : 'bias']);
  let learningCurveReading: LearningCurveReading | undefined;
  if (input.learningCurve) {
    learningCurveReading = readLearningCurve(input.learningCurve, baseline, tolerance);
    if (learningCurveReading === 'more-data-helps') {
      notes.push('Learning curve: the dev error is still falling as the training set grows, so more data will help.');
      ids = ['moreData', ...ids.filter((id) => id !== 'moreData')];
    } else if (learningCurveReading === 'more-data-will-not-help') {
      notes.push(
        'Learning curve: train and dev error have converged above the baseline, so more data will not help; reduce bias instead.',
      );
      ids = ids.filter((id) => id !== 'moreData');
      if (!ids.includes('biggerModel')) ids.unshift(...BY_PROBLEM.bias);
    } else {
      notes.push('Learning curve: no clear trend at the largest sizes.');
    }
  }
  return {
    metric,
    baseline,
    baselineAssumed,
    ...(input.baseline?.source ? { baselineSource: input.baseline.source } : {}),
    trainError,
    devError,
    ...(testError !== undefined ? { testError } : {}),
    avoidableBias,
    passedBaseline,
    variance,
    ...(devInterval ? { devInterval } : {}),
    ...(testInterval ? { testInterval } : {}),
    ...(undecided ? { undecided } : {}),
    mismatch,
    dominant,
    both,
    tolerance,
    severity,
    summary,
    notes,
    recommendations: [...new Set(forInputs(ids, input.images === true))].map((id) =>
      recommendation(id, input.images === true),
    ),
    ...(learningCurveReading ? { learningCurveReading } : {}),
  };
}
