import { test } from 'node:test';
import assert from 'node:assert/strict';
import Papa from 'papaparse';
import { bestColumns, buildCompareTable, compareTableCsv, curvesOf } from '../../../src/core/track/compare';
import { EXTRA_SERIES } from '../../../src/core/charts/style';
import { compareChart, seriesStyle, trainingLossChart, trainingMetricChart } from '../../../src/core/track/charts';
import { formatDuration, keyMetric, lastRunSummary, runPickRow, shortRunLabel, shownSplits, TEST_HIDDEN_REASON, timeAgo } from '../../../src/core/track/format';
import type { TrackedRun } from '../../../src/core/track/types';
import type { RunRecord } from '../../../src/core/train/runStore';

function run(runId: string, patch: Partial<RunRecord> = {}, name?: string): TrackedRun {
  const record: RunRecord = { runId, experiment: 'mlp', model: 'mlp', params: {}, status: 'completed', startedAt: '2026-01-01T00:00:00.000Z', endedAt: '2026-01-01T00:01:05.000Z', ...patch };
  return { runId, dir: `/store/${runId}`, record, status: record.status, annotations: name ? { name } : {} };
}

const colors = { foreground: '#ccc', muted: '#999', grid: '#444', series: ['#1', '#2', '#3', '#4', '#5', '#6'], warning: '#ff0' };

test('the compare table marks differences and the best value per metric (max for accuracy, min for losses)', () => {
  const a = run('a', { params: { hidden: [64], epochs: 100 }, metrics: { dev: { accuracy: 0.95, f1: 0.94, logloss: 0.2 } } }, 'narrow');
  const b = run('b', { params: { hidden: [128], epochs: 100 }, metrics: { dev: { accuracy: 0.97, f1: 0.94, logloss: 0.15 } } });
  const c = run('c', { params: { hidden: [128], epochs: 100 }, metrics: { dev: { accuracy: 0.97, f1: 0.93, logloss: 0.3 } } });
  const t = buildCompareTable([a, b, c]);
  assert.deepEqual(t.columns.map((x) => x.label), ['narrow', 'b', 'c']);
  const row = (key: string) => t.rows.find((r) => r.key === key)!;
  assert.equal(row('hidden').differs, true);
  assert.deepEqual(row('hidden').display, ['[64]', '[128]', '[128]']);
  assert.equal(row('epochs').differs, false);
  assert.deepEqual(row('dev accuracy').best, [1, 2]);
  assert.deepEqual(row('dev accuracy').display, ['95.0%', '97.0%', '97.0%']);
  assert.deepEqual(row('dev logloss').best, [1]);
  assert.deepEqual(row('dev f1').best, [0, 1]);
  // The label names no unit: the cells are formatted durations.
  assert.equal(row('duration').display[0], '1 min 05 s');
  assert.throws(() => buildCompareTable([a]), /2 to 20 runs/);
  assert.throws(() => buildCompareTable(Array.from({ length: 21 }, (_, i) => run(`r${i}`))), /2 to 20 runs/);
});

test('best is undefined with fewer than two values and ignores missing ones', () => {
  assert.deepEqual(bestColumns('rmse', [null, 2, 1]), [2]);
  assert.deepEqual(bestColumns('accuracy', [null, 0.5, null]), []);
  // Two values that read the same (97.2%) are a tie: both get the star.
  assert.deepEqual(bestColumns('accuracy', [0.97222222, 0.9722221, 0.95]), [0, 1]);
});

test('the CSV export holds every row with raw values and round-trips through a CSV parser', () => {
  const t = buildCompareTable([run('a', { params: { note: 'has, comma "quoted"' }, metrics: { dev: { rmse: 1.5, mae: 1, r2: 0.5 } } }, 'first'), run('b', { metrics: { dev: { rmse: 1.25, mae: 1, r2: 0.6 } } })]);
  const csv = compareTableCsv(t);
  const parsed = Papa.parse<string[]>(csv.trim()).data;
  assert.deepEqual(parsed[0], ['section', 'key', 'first (a)', 'b']);
  assert.equal(parsed.length, t.rows.length + 1);
  assert.deepEqual(parsed.find((r) => r[1] === 'note' && r[0] === 'param'), ['param', 'note', 'has, comma "quoted"', '']);
  assert.deepEqual(parsed.find((r) => r[1] === 'dev rmse'), ['metric', 'dev rmse', '1.5', '1.25']);
});

test('curves align steps, keep the last value of a repeated step and fill gaps with null', () => {
  const c = curvesOf('a', 'A', {
    steps: [
      { step: 2, trainLoss: 0.5, devLoss: 0.6, devMetric: 0.8, metricName: 'accuracy' },
      { step: 1, trainLoss: 1 },
      { step: 2, trainLoss: 0.4, devLoss: 0.55, devMetric: 0.85, metricName: 'accuracy', totalSteps: 10 },
    ],
  });
  assert.deepEqual(c.steps, [1, 2]);
  assert.deepEqual(c.trainLoss, [1, 0.4]);
  assert.deepEqual(c.devLoss, [null, 0.55]);
  assert.equal(c.metricName, 'accuracy');
  assert.equal(c.totalSteps, 10);
  const loss = trainingLossChart(c, colors);
  assert.deepEqual(loss.data.labels, [1, 2]);
  assert.deepEqual(loss.data.datasets.map((d) => d.label), ['train loss', 'dev loss']);
  assert.equal(loss.options!.animation, false);
  const metric = trainingMetricChart(c, colors);
  assert.deepEqual(metric.data.datasets.map((d) => [d.label, d.data]), [['dev accuracy', [null, 0.85]]]);
});

test('compare curves: one dataset per run on the union of steps; 20 runs get 20 distinct colours', () => {
  const runs = Array.from({ length: 20 }, (_, i) => curvesOf(`r${i}`, `run ${i}`, { steps: Array.from({ length: 3 + (i % 3) }, (_, k) => ({ step: k + 1, devLoss: 1 / (k + 1 + i) })) }));
  const cfg = compareChart(runs, 'devLoss', colors);
  assert.equal(cfg.data.datasets.length, 20);
  assert.deepEqual(cfg.data.labels, [1, 2, 3, 4, 5]);
  assert.deepEqual(cfg.data.datasets[0].data, [1, 0.5, 1 / 3, null, null]);
  assert.equal(new Set(cfg.data.datasets.map((d) => d.borderColor)).size, 20);
  assert.ok(cfg.data.datasets.every((d) => JSON.stringify(d.borderDash) === '[]'));
  assert.deepEqual(seriesStyle(0, colors), { color: '#1', dash: [] });
  assert.deepEqual(seriesStyle(6, colors), { color: EXTRA_SERIES[0], dash: [] });
  // Past the distinct colours, generated hues, dashed.
  assert.match(seriesStyle(20, colors).color, /^hsl\(/);
  assert.deepEqual(seriesStyle(20, colors).dash, [6, 3]);
});

test('key metric, time ago and the CodeLens summary read as the issue shows them', () => {
  const r = run('a', { metrics: { dev: { accuracy: 0.9723, f1: 0.97, logloss: 0.1 } } });
  assert.equal(keyMetric(r.record, 'accuracy'), 'dev acc 97.2%');
  assert.equal(keyMetric(run('b', { metrics: { train: { rmse: 0.1234, mae: 0.1, r2: 0.9 } } }).record, 'rmse'), 'train rmse 0.1234');
  assert.equal(keyMetric(run('c').record, 'accuracy'), undefined);
  const end = Date.parse(r.record.endedAt!);
  assert.equal(timeAgo(end, end + 3 * 60_000), '3 min ago');
  assert.equal(timeAgo(end, end + 10_000), 'just now');
  assert.equal(timeAgo(end, end + 26 * 3600_000), '1 day ago');
  assert.equal(lastRunSummary(r, 'accuracy', end + 3 * 60_000), 'last: dev acc 97.2% · 3 min ago');
  assert.equal(lastRunSummary({ ...r, status: 'interrupted' }, 'accuracy', end + 3 * 60_000), 'last: interrupted · 3 min ago');
  const queued = { ...r, status: 'queued' as const, record: { ...r.record, endedAt: undefined, cluster: { cluster: 'gpu', jobId: '7', script: 'job.sbatch', reason: 'Priority' } } };
  assert.equal(lastRunSummary(queued, 'accuracy', Date.parse(r.record.startedAt) + 60_000), 'queued (Priority) · submitted 1 min ago');
  // One short name everywhere: the experiment and the id's random suffix (the full id in tooltips).
  assert.equal(shortRunLabel(run('20261127-115012-382-f94b54')), 'mlp f94b54');
  assert.equal(shortRunLabel(run('20261127-115012-382-f94b54', {}, 'wide')), 'wide');
  // Quick picks (deploy, diagnose) read like the tree, the full id below.
  const picked = run('20261127-115012-382-f94b54', { metrics: { dev: { accuracy: 0.972, f1: 0.97, logloss: 0.1 } } });
  assert.deepEqual(runPickRow(picked, 'accuracy', Date.parse(picked.record.endedAt!) + 3 * 60_000), { label: 'mlp f94b54', description: 'dev acc 97.2% · 3 min ago', detail: '20261127-115012-382-f94b54' });
  assert.equal(shortRunLabel(run('imported-1')), 'imported-1');
  assert.equal(formatDuration(850), '850 ms');
  assert.equal(formatDuration(12_340), '12.3 s');
});

test('Training and Compare show train and dev; test only behind "Show test", with its reason', () => {
  assert.deepEqual(shownSplits(['train', 'dev', 'test'], false), ['train', 'dev']);
  assert.deepEqual(shownSplits(['train', 'dev', 'test'], true), ['train', 'dev', 'test']);
  assert.match(TEST_HIDDEN_REASON, /choosing runs by it makes that estimate optimistic/);
});
