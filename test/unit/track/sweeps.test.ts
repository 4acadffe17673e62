import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  groupSweeps,
  isSweep,
  sweepDescription,
  sweepValuesLabel,
  type SweepSummary,
} from '../../../src/core/track/sweeps';
import type { TrackedRun, TrackedStatus } from '../../../src/core/track/types';

function run(
  runId: string,
  startedAt: string,
  opts: {
    group?: [string, number, number, Record<string, unknown>];
    status?: TrackedStatus;
    dev?: Record<string, number>;
  } = {},
): TrackedRun {
  const [id, index, size, values] = opts.group ?? [];
  return {
    runId,
    dir: `/p/.mlloop/runs/${runId}`,
    status: opts.status ?? 'completed',
    annotations: {},
    record: {
      runId,
      experiment: 'mlp',
      model: 'mlp',
      params: {},
      status: opts.status === 'interrupted' ? 'running' : (opts.status ?? 'completed'),
      startedAt,
      ...(opts.dev ? { metrics: { dev: opts.dev as never } } : {}),
      ...(id ? { group: { id, index: index!, size: size!, values: values! } } : {}),
    },
  };
}

test('the runs of a sweep become one entry at the place of its newest run, in grid order', () => {
  // Newest first, as the index lists them; the sweep's runs finished out of grid order.
  const runs = [
    run('solo-new', '2026-01-05T00:00:00Z'),
    run('s-b', '2026-01-04T00:00:00Z', { group: ['sweep-1', 1, 3, { lr: 0.01 }], dev: { accuracy: 0.95 } }),
    run('other', '2026-01-03T12:00:00Z'),
    run('s-a', '2026-01-03T00:00:00Z', { group: ['sweep-1', 0, 3, { lr: 0.1 }], dev: { accuracy: 0.9 } }),
    run('t-a', '2026-01-02T00:00:00Z', { group: ['sweep-2', 0, 2, { hidden: [64] }], status: 'failed' }),
    run('s-c', '2026-01-01T00:00:00Z', { group: ['sweep-1', 2, 3, { lr: 0.001 }], status: 'running' }),
  ];
  const entries = groupSweeps(runs, 'accuracy');
  assert.deepEqual(
    entries.map((e) => (isSweep(e) ? e.id : e.runId)),
    ['solo-new', 'sweep-1', 'other', 'sweep-2'],
  );
  const s1 = entries[1] as SweepSummary;
  assert.deepEqual(
    s1.runs.map((r) => r.runId),
    ['s-a', 's-b', 's-c'],
  );
  assert.deepEqual(s1.swept, ['lr']);
  assert.equal(s1.size, 3);
  assert.deepEqual(s1.statusCounts, { completed: 2, running: 1 });
  assert.equal(s1.best?.run.runId, 's-b');
  assert.equal(sweepDescription(s1), 'lr · 2/3 completed · 1 running · best dev acc 95.0%');
  assert.equal(sweepValuesLabel(s1.runs[0]), 'lr=0.1');
  const s2 = entries[3] as SweepSummary;
  assert.equal(s2.best, undefined, 'a failed run is never the best');
  assert.equal(sweepDescription(s2), 'hidden · 0/2 completed');
  assert.equal(sweepValuesLabel(s2.runs[0]), 'hidden=[64]');
});

test('the best run follows the direction of the metric: the lowest rmse, the highest r2', () => {
  const runs = [
    run('a', '2026-01-02T00:00:00Z', { group: ['g', 0, 2, { l2: 0 }], dev: { rmse: 3.1, r2: 0.4 } }),
    run('b', '2026-01-01T00:00:00Z', { group: ['g', 1, 2, { l2: 1 }], dev: { rmse: 2.9, r2: 0.5 } }),
  ];
  assert.equal((groupSweeps(runs, 'rmse')[0] as SweepSummary).best?.run.runId, 'b');
  const worse = [run('c', '2026-01-02T00:00:00Z', { group: ['g', 0, 2, { l2: 0 }], dev: { rmse: 2.0 } }), runs[1]];
  assert.equal((groupSweeps(worse, 'rmse')[0] as SweepSummary).best?.run.runId, 'c');
  assert.equal((groupSweeps(runs, 'r2')[0] as SweepSummary).best?.run.runId, 'b');
});

test('runs outside any sweep pass through untouched', () => {
  const runs = [run('x', '2026-01-02T00:00:00Z'), run('y', '2026-01-01T00:00:00Z')];
  assert.deepEqual(groupSweeps(runs), runs);
});
