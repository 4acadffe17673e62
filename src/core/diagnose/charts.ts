// chart.js configurations of the Diagnostics panel and the Run Diagnostics view, as plain objects
// built from a RunDiagnosis and the theme's colours (the webview passes those in, read from VS
// Code's CSS variables): the host computes, the webview only draws. Unit-tested in Node.

import type { ChartConfiguration } from 'chart.js';
import { axis, baseOptions, seriesColor, type ChartPalette } from '../charts/style';
import { isRateMetric, type Verdict } from './biasVariance';
import type { ImportanceReport } from './importance';
import type { LearningCurve, ValidationCurve } from './learningCurveTypes';
import type { ClassCurve, ClassificationSplitReport, RegressionSplitReport } from './metrics';

type Config = ChartConfiguration;

/** Options of the Diagnostics charts: no title (the card has one), a legend unless `legend` is false. */
function options(
  p: ChartPalette,
  x: Record<string, unknown>,
  y: Record<string, unknown>,
  legend = true,
): Config['options'] {
  return baseOptions(p, { x, y, legend });
}

const pct = (metric: string) => isRateMetric(metric as never);

/** Baseline, train, dev (and test) error as bars, with the gaps between them as the labels say. */
export function biasVarianceChart(v: Verdict, p: ChartPalette): Config {
  const labels = [
    v.baselineAssumed ? 'baseline (assumed 0)' : 'baseline',
    'train',
    'dev',
    ...(v.testError !== undefined ? ['test'] : []),
  ];
  const values = [v.baseline, v.trainError, v.devError, ...(v.testError !== undefined ? [v.testError] : [])];
  const scale = pct(v.metric) ? 100 : 1;
  const highlight = (i: number) =>
    (v.dominant === 'bias' && i === 1) ||
    (v.dominant === 'variance' && i === 2) ||
    (v.dominant === 'mismatch' && i === 3)
      ? p.warning
      : p.series[0];
  return {
    type: 'bar',
    data: {
      labels,
      datasets: [
        {
          label: pct(v.metric) ? 'error (%)' : `error (${v.metric})`,
          data: values.map((x) => x * scale),
          backgroundColor: values.map((_, i) => (i === 0 ? p.muted : highlight(i))),
        },
      ],
    },
    options: options(
      p,
      axis(p, 'split'),
      axis(p, pct(v.metric) ? 'error (%)' : v.metric, { beginAtZero: true }),
      false,
    ),
  };
}

/** Train and dev error against training-set size, with the baseline as a dashed line. */
export function learningCurveChart(c: LearningCurve, baseline: number, p: ChartPalette): Config {
  const scale = pct(c.metric) ? 100 : 1;
  const xy = (key: 'trainError' | 'devError') => c.points.map((pt) => ({ x: pt.trainSize, y: pt[key] * scale }));
  const line = (label: string, data: { x: number; y: number }[], color: string, dashed = false) => ({
    label,
    data,
    borderColor: color,
    backgroundColor: color,
    borderWidth: 2,
    pointRadius: dashed ? 0 : 3,
    borderDash: dashed ? [6, 4] : [],
    showLine: true,
  });
  const first = c.points[0]?.trainSize ?? 0;
  const last = c.points[c.points.length - 1]?.trainSize ?? 1;
  return {
    type: 'scatter',
    data: {
      datasets: [
        line('train', xy('trainError'), p.series[0]),
        line('dev', xy('devError'), p.series[1]),
        line(
          'baseline',
          [
            { x: first, y: baseline * scale },
            { x: last, y: baseline * scale },
          ],
          p.muted,
          true,
        ),
      ],
    },
    options: options(
      p,
      axis(p, 'training examples'),
      axis(p, pct(c.metric) ? 'error (%)' : c.metric, { beginAtZero: true }),
    ),
  };
}

export function validationCurveChart(c: ValidationCurve, baseline: number, p: ChartPalette): Config {
  const scale = pct(c.metric) ? 100 : 1;
  const ds = (label: string, key: 'trainError' | 'devError', color: string) => ({
    label,
    data: c.points.map((pt) => pt[key] * scale),
    borderColor: color,
    backgroundColor: color,
    borderWidth: 2,
    pointRadius: 3,
  });
  return {
    type: 'line',
    data: {
      labels: c.points.map((pt) => pt.label),
      datasets: [
        ds('train', 'trainError', p.series[0]),
        ds('dev', 'devError', p.series[1]),
        {
          label: 'baseline',
          data: c.points.map(() => baseline * scale),
          borderColor: p.muted,
          borderDash: [6, 4],
          pointRadius: 0,
          borderWidth: 2,
        },
      ],
    },
    options: options(p, axis(p, c.param), axis(p, pct(c.metric) ? 'error (%)' : c.metric, { beginAtZero: true })),
  };
}

/** One line per class (one-vs-rest) or the single binary curve, plus the chance diagonal for ROC. */
export function classCurvesChart(curves: ClassCurve[], kind: 'roc' | 'pr', p: ChartPalette): Config {
  const datasets: Record<string, unknown>[] = curves.map((c, i) => {
    const color = seriesColor(p, i);
    const area = c.area === null ? 'n/a' : c.area.toFixed(3);
    return {
      label: `${c.class} (${kind === 'roc' ? 'AUC' : 'AP'} ${area})`,
      data: c.x.map((x, k) => ({ x, y: c.y[k] })),
      borderColor: color,
      backgroundColor: color,
      borderWidth: 1.5,
      pointRadius: 0,
      showLine: true,
      stepped: kind === 'pr' ? 'after' : false,
    };
  });
  if (kind === 'roc') {
    datasets.push({
      label: 'chance',
      data: [
        { x: 0, y: 0 },
        { x: 1, y: 1 },
      ],
      borderColor: p.muted,
      borderDash: [4, 4],
      pointRadius: 0,
      borderWidth: 1,
      showLine: true,
    });
  }
  const unit = { min: 0, max: 1 };
  const opts = options(
    p,
    axis(p, kind === 'roc' ? 'false-positive rate' : 'recall', unit),
    axis(p, kind === 'roc' ? 'true-positive rate' : 'precision', unit),
    curves.length <= 12,
  )!;
  // Many classes: a legend column on the right leaves the plot its height.
  if (curves.length > 4)
    opts.plugins!.legend = {
      ...opts.plugins!.legend,
      position: 'right',
      labels: { color: p.foreground, boxWidth: 8, font: { size: 10 } },
    };
  return { type: 'scatter', data: { datasets } as unknown as Config['data'], options: opts };
}

export function calibrationChart(report: ClassificationSplitReport, p: ChartPalette): Config {
  const bins = report.calibration.bins;
  return {
    type: 'scatter',
    data: {
      datasets: [
        {
          label: `model (ECE ${report.calibration.ece.toFixed(3)})`,
          data: bins.map((b) => ({ x: b.meanPredicted, y: b.observed })),
          borderColor: p.series[0],
          backgroundColor: p.series[0],
          borderWidth: 2,
          pointRadius: 4,
          showLine: true,
        },
        {
          label: 'perfectly calibrated',
          data: [
            { x: 0, y: 0 },
            { x: 1, y: 1 },
          ],
          borderColor: p.muted,
          borderDash: [4, 4],
          pointRadius: 0,
          borderWidth: 1,
          showLine: true,
        },
      ],
    },
    options: options(
      p,
      axis(
        p,
        report.calibration.kind === 'positive-class' ? 'predicted probability' : 'confidence of the predicted class',
        { min: 0, max: 1 },
      ),
      axis(p, report.calibration.kind === 'positive-class' ? 'fraction positive' : 'fraction correct', {
        min: 0,
        max: 1,
      }),
    ),
  };
}

/** The most important features as horizontal bars (error increase when shuffled). */
export function importanceChart(r: ImportanceReport, p: ChartPalette, top = 15): Config {
  const shown = r.features.slice(0, top);
  const scale = pct(r.metric) ? 100 : 1;
  return {
    type: 'bar',
    data: {
      labels: shown.map((f) => f.feature),
      datasets: [
        {
          label: pct(r.metric) ? 'error increase (points)' : `increase of ${r.metric}`,
          data: shown.map((f) => f.importance * scale),
          backgroundColor: shown.map((f) => (f.importance > 0 ? p.series[2] : p.muted)),
        },
      ],
    },
    options: {
      ...options(
        p,
        axis(p, pct(r.metric) ? 'error increase when shuffled (points)' : `${r.metric} increase when shuffled`),
        axis(p, 'feature'),
        false,
      ),
      indexAxis: 'y',
    } as Config['options'],
  };
}

export function residualsChart(r: RegressionSplitReport, p: ChartPalette): Config {
  return {
    type: 'scatter',
    data: {
      datasets: [
        {
          label: 'dev rows',
          data: r.residuals.prediction.map((x, i) => ({ x, y: r.residuals.residual[i] })),
          backgroundColor: p.series[0],
          pointRadius: 2,
        },
      ],
    },
    options: options(p, axis(p, 'prediction'), axis(p, 'residual (truth − prediction)'), false),
  };
}

export function errorHistogramChart(r: RegressionSplitReport, p: ChartPalette): Config {
  const { edges, counts } = r.errorHistogram;
  return {
    type: 'bar',
    data: {
      labels: counts.map((_, i) => Number(((edges[i] + edges[i + 1]) / 2).toPrecision(3)).toString()),
      datasets: [
        { label: 'rows', data: counts, backgroundColor: p.series[0], barPercentage: 1, categoryPercentage: 1 },
      ],
    },
    options: options(p, axis(p, 'residual'), axis(p, 'rows', { beginAtZero: true }), false),
  };
}

export interface HeatCell {
  count: number;
  /** Share of the true class's rows (the row-normalised matrix): 0 … 1. */
  share: number;
  correct: boolean;
}

/** The confusion matrix as heat-map cells, row-normalised so every class reads on the same scale. */
export function confusionHeatmap(confusion: number[][]): HeatCell[][] {
  return confusion.map((row, t) => {
    const total = row.reduce((a, b) => a + b, 0);
    return row.map((count, k) => ({ count, share: total ? count / total : 0, correct: t === k }));
  });
}
