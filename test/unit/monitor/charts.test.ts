// The Monitoring panel's chart.js configurations, built from a report: worst features first with the
// threshold at 1, overlaid histograms, prediction drift, live vs estimated accuracy, operations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accuracyChart, alignSeries, driftChart, formatRate, latencyChart, predictionChart, requestRate, thresholdRatio, throughputChart, worstHistograms } from '../../../src/core/monitor/charts';
import { report } from './fixtures';

const p = { foreground: '#ccc', muted: '#999', grid: '#444', series: ['#111111', '#222222', '#333333', '#444444', '#555555', '#666666'], warning: '#ff0' };

test('drift per feature: worst first, statistic relative to the threshold, drifted bars in the warning colour', () => {
  const c = driftChart(report(), p) as any;
  assert.equal(c.type, 'bar');
  assert.deepEqual(c.data.labels, ['petal_length', 'petal_width', 'sepal_width', 'sepal_length']);
  const [bars, threshold] = c.data.datasets;
  // KS: D over the critical D at α = 0.05 for n = 100 window values and m = 90 training rows
  // (1.358 · √(190 / 9000) = 0.1973): 0.6 → 3.041, 0.05 → 0.253. Wasserstein 0.25 / 0.1 = 2.5.
  assert.deepEqual(bars.data, [3.041, 2.5, 0.253, 0.253]);
  assert.deepEqual(bars.backgroundColor, ['#ff0', '#ff0', '#111111', '#111111']);
  assert.deepEqual(threshold.data, [1, 1, 1, 1]);
  assert.match(c.options.plugins.title.text, /2 of 4 drifted/);
  assert.equal(thresholdRatio({ test: 'wasserstein', statistic: 0.05, threshold: 0.1, count: 10 }), 0.5);
  // A p-value test without the sample sizes: ln p / ln α, 1 at the threshold.
  assert.equal(thresholdRatio({ test: 'chisquare', statistic: 9, pValue: 0.05, threshold: 0.05, count: 10 }), 1);
  assert.ok(Math.abs(thresholdRatio({ test: 'chisquare', statistic: 9, pValue: 0.0025, threshold: 0.05, count: 10 }) - 2) < 1e-12);
});

test('histograms of the worst three features overlay reference and window shares', () => {
  const hs = worstHistograms(report(), p) as any[];
  assert.equal(hs.length, 3);
  assert.deepEqual(hs[0].data.labels, ['1–3', '3–5', '5–7']);
  assert.deepEqual(hs[0].data.datasets.map((d: any) => [d.label, d.data]), [['reference (training)', [0.3, 0.4, 0.3]], ['window (production)', [0, 0.2, 0.8]]]);
  assert.equal(hs[0].data.datasets[0].grouped, false);
  assert.match(hs[0].options.plugins.title.text, /^petal_length: ks p = 1\.0e-9 \(drift when < 0\.05\) — drifted$/);
  assert.equal(hs[0].data.datasets[0].backgroundColor, 'rgba(17, 17, 17, 0.55)');
});

test('prediction drift: classes of dev vs window', () => {
  const c = predictionChart(report().prediction!, p) as any;
  assert.deepEqual(c.data.labels, ['setosa', 'versicolor', 'virginica']);
  assert.deepEqual(c.data.datasets[1].data, [0.1, 0.2, 0.7]);
});

test('accuracy over time: live and the CBPE estimate on one time axis, the estimate dashed and named, dev as a line', () => {
  const c = accuracyChart(report(), p) as any;
  assert.deepEqual(c.data.labels, ['10:00:00', '10:01:00', '10:02:00']);
  const [live, est, dev] = c.data.datasets;
  assert.deepEqual(live.data, [0.9, null, 0.5]);
  assert.deepEqual(est.data, [0.95, 0.85, 0.7]);
  assert.match(est.label, /estimated.*CBPE/);
  assert.deepEqual(est.borderDash, [6, 3]);
  assert.deepEqual(dev.data, [0.97, 0.97, 0.97]);
  assert.equal(accuracyChart(report({ live: undefined, estimated: undefined }), p), undefined);
  assert.deepEqual(alignSeries([{ time: 'b', value: 1, n: 1 }], [{ time: 'a', value: 2, n: 1 }]).values, [[null, 1], [2, null]]);
});

test('latency percentiles and throughput with error rate', () => {
  const l = latencyChart(report(), p) as any;
  assert.deepEqual(l.data.datasets.map((d: any) => d.label), ['p50', 'p90', 'p99']);
  assert.deepEqual(l.data.datasets[2].data, [2, 3]);
  const t = throughputChart(report(), p) as any;
  assert.deepEqual(t.data.datasets[0].data, [1, 0.67]);
  assert.deepEqual(t.data.datasets[1].data, [0, 0.05]);
  assert.equal(t.options.scales.y1.position, 'right');
  // The title's rate is the one the status bar shows for this deployment (requestRate): one source.
  assert.ok(t.options.plugins.title.text.startsWith(`Throughput (${formatRate(requestRate(report()))} over the window`), t.options.plugins.title.text);
  assert.equal(formatRate(600), '600 req/s');
  assert.equal(formatRate(0.04), '0.0 req/s');
  assert.equal(latencyChart(report({ operational: { ...report().operational, series: [] } }), p), undefined);
});
