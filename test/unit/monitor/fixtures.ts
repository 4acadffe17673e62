// A MonitoringReport as src/core/monitor produces it, built by hand for the panel's and the alerts' tests.
import { DEFAULT_THRESHOLDS } from '../../../src/core/monitor/index';
import type { FeatureDrift, MonitoringReport } from '../../../src/core/monitor/types';

export function feature(name: string, over: Partial<FeatureDrift> = {}): FeatureDrift {
  return {
    name,
    kind: 'numeric',
    test: 'ks',
    statistic: 0.05,
    pValue: 0.5,
    threshold: 0.05,
    drifted: false,
    score: 0.1,
    stats: { ks: 0.05, ksPValue: 0.5 },
    count: 100,
    missingRate: 0,
    referenceMissingRate: 0,
    outOfRangeRate: 0,
    histogram: { edges: [0, 1, 2], reference: [0.5, 0.5], current: [0.4, 0.6] },
    ...over,
  };
}

export function report(over: Partial<MonitoringReport> = {}): MonitoringReport {
  const features = [
    feature('petal_length', {
      statistic: 0.6,
      pValue: 1e-9,
      drifted: true,
      score: 0.99,
      histogram: { edges: [1, 3, 5, 7], reference: [0.3, 0.4, 0.3], current: [0, 0.2, 0.8] },
    }),
    feature('sepal_width'),
    feature('petal_width', {
      test: 'wasserstein',
      statistic: 0.25,
      pValue: undefined,
      threshold: 0.1,
      drifted: true,
      score: 0.7,
    }),
    feature('sepal_length', { score: 0.05 }),
  ];
  return {
    deployment: 'iris',
    model: 'iris',
    version: '1',
    runId: 'r1',
    window: {
      kind: 'requests',
      size: 1000,
      requests: 100,
      rows: 100,
      from: '2026-11-27T10:00:00.000Z',
      to: '2026-11-27T10:05:00.000Z',
    },
    reference: { source: 'training', rows: 90 },
    thresholds: DEFAULT_THRESHOLDS,
    features,
    dataset: { drifted: 2, total: 4, share: 0.5, threshold: 0.5, drift: true },
    prediction: {
      kind: 'classes',
      test: 'chisquare',
      statistic: 40,
      pValue: 1e-6,
      threshold: 0.05,
      drifted: true,
      current: { setosa: 0.1, versicolor: 0.2, virginica: 0.7 },
      reference: { setosa: 0.33, versicolor: 0.33, virginica: 0.34 },
      count: 100,
    },
    live: {
      metric: 'accuracy',
      value: 0.7,
      labelled: 40,
      dev: 0.97,
      change: -0.27,
      series: [
        { time: '2026-11-27T10:00:00.000Z', value: 0.9, n: 20 },
        { time: '2026-11-27T10:02:00.000Z', value: 0.5, n: 20 },
      ],
    },
    estimated: {
      estimate: true,
      method: 'cbpe',
      metric: 'accuracy',
      value: 0.8,
      rows: 100,
      dev: 0.97,
      series: [
        { time: '2026-11-27T10:00:00.000Z', value: 0.95, n: 50 },
        { time: '2026-11-27T10:01:00.000Z', value: 0.85, n: 25 },
        { time: '2026-11-27T10:02:00.000Z', value: 0.7, n: 25 },
      ],
    },
    operational: {
      requests: 100,
      errors: 2,
      errorRate: 0.02,
      p50: 0.4,
      p90: 0.9,
      p99: 2.5,
      rps: 3.3,
      bucketSeconds: 60,
      series: [
        { time: '2026-11-27T10:00:00.000Z', requests: 60, rps: 1, errorRate: 0, p50: 0.4, p90: 0.8, p99: 2 },
        { time: '2026-11-27T10:01:00.000Z', requests: 40, rps: 0.67, errorRate: 0.05, p50: 0.5, p90: 1, p99: 3 },
      ],
    },
    drift: true,
    issues: [],
    reader: 'jsonl',
    computedAt: '2026-11-27T10:05:01.000Z',
    elapsedMs: 12,
    ...over,
  };
}
