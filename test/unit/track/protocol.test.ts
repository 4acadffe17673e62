import { test } from 'node:test';
import assert from 'node:assert/strict';
import { curvesOf, buildCompareTable } from '../../../src/core/track/compare';
import { isTrainingHostMessage, isTrainingWebviewMessage } from '../../../src/protocol/training';
import { isCompareHostMessage, isCompareWebviewMessage } from '../../../src/protocol/compare';
import type { TrackedRun } from '../../../src/core/track/types';

const curves = curvesOf('r1', 'r1', {
  steps: [{ step: 1, trainLoss: 1, devLoss: 1.2, devMetric: 0.5, metricName: 'accuracy' }],
});
const run = {
  runId: 'r1',
  label: 'r1',
  experiment: 'mlp',
  model: 'mlp',
  status: 'running',
  startedAt: '2026-01-01T00:00:00Z',
  params: {},
  cancellable: true,
};

test('Training panel messages: complete snapshots pass, malformed ones are refused', () => {
  assert.ok(isTrainingHostMessage({ type: 'state', seq: 1, state: { status: 'loaded', run, curves } }));
  assert.ok(isTrainingHostMessage({ type: 'state', seq: 2, state: { status: 'loading', runId: 'r1' } }));
  assert.ok(!isTrainingHostMessage({ type: 'state', state: { status: 'loading', runId: 'r1' } }), 'no seq');
  assert.ok(
    !isTrainingHostMessage({
      type: 'state',
      seq: 1,
      state: { status: 'loaded', run, curves: { ...curves, devLoss: [] } },
    }),
    'series shorter than steps',
  );
  assert.ok(
    !isTrainingHostMessage({
      type: 'state',
      seq: 1,
      state: { status: 'loaded', run: { ...run, cancellable: 'yes' }, curves },
    }),
  );
  assert.ok(isTrainingWebviewMessage({ type: 'cancel' }) && isTrainingWebviewMessage({ type: 'ready' }));
  assert.ok(!isTrainingWebviewMessage({ type: 'delete' }));
});

test('Compare panel messages: the table must have one cell per run in every row', () => {
  const tracked = (id: string): TrackedRun => ({
    runId: id,
    dir: '/x',
    status: 'completed',
    annotations: {},
    record: {
      runId: id,
      experiment: 'e',
      model: 'mlp',
      params: { a: 1 },
      status: 'completed',
      startedAt: '2026-01-01T00:00:00Z',
    },
  });
  const table = buildCompareTable([tracked('a'), tracked('b')]);
  assert.ok(isCompareHostMessage({ type: 'state', state: { status: 'loaded', table, curves: [curves] } }));
  const broken = { ...table, rows: [{ ...table.rows[0], display: ['only one'] }] };
  assert.ok(!isCompareHostMessage({ type: 'state', state: { status: 'loaded', table: broken, curves: [] } }));
  assert.ok(isCompareWebviewMessage({ type: 'exportCsv' }) && !isCompareWebviewMessage({ type: 'exportXls' }));
});

test('Compare panel messages: error changes have one count per run in every line', () => {
  const tracked = (id: string): TrackedRun => ({
    runId: id,
    dir: '/x',
    status: 'completed',
    annotations: {},
    record: {
      runId: id,
      experiment: 'e',
      model: 'mlp',
      params: { a: 1 },
      status: 'completed',
      startedAt: '2026-01-01T00:00:00Z',
    },
  });
  const table = buildCompareTable([tracked('a'), tracked('b')]);
  const changes = {
    runIds: ['a', 'b'],
    devRows: 359,
    errors: [20, 17],
    tags: [{ tag: 'thin', tagged: 3, errors: [3, 2] }],
    slices: [{ key: 'px1>3', label: 'px1 > 3', support: 40, errors: [7, 5] }],
  };
  const state = (errors: unknown) => ({ type: 'state', state: { status: 'loaded', table, curves: [curves], errors } });
  for (const ok of [
    { status: 'loading' },
    { status: 'unavailable', message: 'different dev splits' },
    { status: 'loaded', changes },
  ])
    assert.ok(isCompareHostMessage(state(ok)), JSON.stringify(ok));
  for (const bad of [
    { status: 'loaded', changes: { ...changes, errors: [20] } },
    { status: 'loaded', changes: { ...changes, tags: [{ tag: 'thin', errors: [3] }] } },
    { status: 'loaded', changes: { ...changes, slices: [{ key: 'k', errors: [1, 2] }] } },
    { status: 'unavailable' },
    { status: 'done' },
  ])
    assert.ok(!isCompareHostMessage(state(bad)), JSON.stringify(bad));
});
