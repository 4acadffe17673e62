// Andrew Ng's recipe from three numbers: avoidable bias = train error − baseline, variance = dev
// error − train error, dev/test mismatch = test error − dev error. The verdict names the largest
// problem that matters, with its size, and the recommendations that fit it; a learning curve, when
// there is one, says whether more data would help.

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
  | 'moreDevData'
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
  avoidableBias: number;
  variance: number;
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
  moreDevData: { for: 'mismatch', text: 'Make dev and test come from the same distribution, or get a bigger dev set: the model is tuned to the dev set.' },
  errorAnalysis: { for: 'none', text: 'The model is close to the baseline: check the baseline, or read the errors (error analysis) for what is left.' },
};

const BY_PROBLEM: Record<Dominant, RecommendationId[]> = {
  bias: ['biggerModel', 'trainLonger', 'lessRegularization', 'betterFeatures'],
  variance: ['moreData', 'moreRegularization', 'earlyStopping', 'augmentation', 'fewerFeatures'],
  mismatch: ['moreDevData'],
  none: ['errorAnalysis'],
};

function recommendation(id: RecommendationId): Recommendation {
  return { id, ...RECOMMENDATIONS[id] };
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
  if (Math.abs(last.devError - last.trainError) < tolerance && last.trainError - baseline > tolerance) return 'more-data-will-not-help';
  if (earlier.devError - last.devError > tolerance / 2) return 'more-data-helps';
  return 'inconclusive';
}

export interface VerdictInput {
  metric: MetricName;
  baseline?: { error: number; source?: string };
  train: SplitMetrics;
  dev?: SplitMetrics;
  test?: SplitMetrics;
  learningCurve?: LearningCurve;
}

export function verdictOf(input: VerdictInput): Verdict {
  const { metric } = input;
  const baseline = input.baseline?.error ?? 0;
  const baselineAssumed = input.baseline === undefined;
  const trainError = errorOf(metric, input.train);
  // Without a dev split there is no variance to measure: dev = train.
  const devError = input.dev ? errorOf(metric, input.dev) : trainError;
  const testError = input.test ? errorOf(metric, input.test) : undefined;
  const avoidableBias = trainError - baseline;
  const variance = devError - trainError;
  const mismatch = testError === undefined ? null : testError - devError;
  const tolerance = isRateMetric(metric) ? 0.01 : 0.05 * Math.max(Math.abs(devError), 1e-12);

  const gaps: [Exclude<Dominant, 'none'>, number][] = [
    ['bias', avoidableBias],
    ['variance', variance],
    ['mismatch', mismatch ?? -Infinity],
  ];
  const significant = gaps.filter(([, g]) => g > tolerance).sort((a, b) => b[1] - a[1]);
  const top = significant.length ? significant[0] : undefined;
  const dominant: Dominant = top ? top[0] : 'none';
  const size = top ? top[1] : 0;
  const both = avoidableBias > tolerance && variance > tolerance;
  const severity = dominant !== 'none' && size >= 3 * tolerance ? 'warning' : 'information';

  const f = (v: number) => formatError(metric, v);
  const name = errorName(metric);
  const base = baselineAssumed ? 'baseline assumed 0' : `baseline ${f(baseline)}`;
  const summary = {
    bias: `High avoidable bias: train ${name} ${f(trainError)} vs ${base} (dev ${f(devError)})`,
    variance: `High variance: dev ${name} ${f(devError)} vs train ${f(trainError)} (${base})`,
    mismatch: `Dev/test mismatch: test ${name} ${f(testError ?? NaN)} vs dev ${f(devError)} (train ${f(trainError)})`,
    none: `Close to the baseline: train ${name} ${f(trainError)}, dev ${f(devError)} (${base})`,
  }[dominant];

  const notes: string[] = [];
  if (baselineAssumed) notes.push('mlloop.json gives no baseline.error, so it is assumed 0: estimate human-level (or a known system\'s) error and add it as "baseline": { "error": … }.');
  if (dominant !== 'none') notes.push(`The dominant problem is ${dominant === 'bias' ? 'avoidable bias' : dominant === 'variance' ? 'variance' : 'the dev/test mismatch'}: ${formatGap(metric, size)}.`);
  if (both) {
    const other = dominant === 'bias' ? 'variance' : 'avoidable bias';
    notes.push(`Both avoidable bias (${formatGap(metric, avoidableBias)}) and variance (${formatGap(metric, variance)}) matter: tackle ${dominant === 'bias' ? 'avoidable bias' : 'variance'} first, then ${other}.`);
  }

  let ids = [...BY_PROBLEM[dominant]];
  if (both) ids.push(...BY_PROBLEM[dominant === 'bias' ? 'variance' : 'bias']);
  let learningCurveReading: LearningCurveReading | undefined;
  if (input.learningCurve) {
    learningCurveReading = readLearningCurve(input.learningCurve, baseline, tolerance);
    if (learningCurveReading === 'more-data-helps') {
      notes.push('Learning curve: the dev error is still falling as the training set grows, so more data will help.');
      ids = ['moreData', ...ids.filter((id) => id !== 'moreData')];
    } else if (learningCurveReading === 'more-data-will-not-help') {
      notes.push('Learning curve: train and dev error have converged above the baseline, so more data will not help; reduce bias instead.');
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
    variance,
    mismatch,
    dominant,
    both,
    tolerance,
    severity,
    summary,
    notes,
    recommendations: [...new Set(ids)].map(recommendation),
    ...(learningCurveReading ? { learningCurveReading } : {}),
  };
}

