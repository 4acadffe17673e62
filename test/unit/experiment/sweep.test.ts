import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runBounded, sweepCombinations, trainSweep } from '../../../src/core/experiment/sweep';
import { readRun } from '../../../src/core/train/runStore';
import { irisProject, nodeScript, scoresModel } from '../scripts/fixtures';

test('sweepCombinations: the full grid, first key slowest', () => {
  assert.deepEqual(sweepCombinations({ lr: [0.01, 0.001], hidden: [64, 128] }), [
    { lr: 0.01, hidden: 64 },
    { lr: 0.01, hidden: 128 },
    { lr: 0.001, hidden: 64 },
    { lr: 0.001, hidden: 128 },
  ]);
  assert.deepEqual(sweepCombinations({}), [{}]);
  assert.equal(sweepCombinations({ a: [1, 2, 3], b: [1, 2], c: [true, false] }).length, 12);
});

test('runBounded never has more than `limit` tasks in flight, keeps order, stops starting when told', async () => {
  let inFlight = 0;
  let most = 0;
  const tasks = Array.from({ length: 7 }, (_, i) => async () => {
    most = Math.max(most, ++inFlight);
    await new Promise((r) => setTimeout(r, 10 + ((i * 7) % 5)));
    inFlight--;
    return i;
  });
  assert.deepEqual(await runBounded(tasks, 3), [0, 1, 2, 3, 4, 5, 6]);
  assert.equal(most, 3);
  let started = 0;
  const results = await runBounded(
    Array.from({ length: 5 }, () => async () => ++started),
    1,
    () => started >= 2,
  );
  assert.deepEqual(results, [1, 2, undefined, undefined, undefined]);
});

test('a sweep of a script experiment: one run per combination, one group, params merged over the experiment', async () => {
  const dir = irisProject({});
  writeFileSync(join(dir, 'fixture.onnx'), scoresModel());
  const command = nodeScript(
    dir,
    's.js',
    `const fs = require('fs'); const p = JSON.parse(fs.readFileSync(process.env.MLLOOP_PARAMS, 'utf8'));
     console.log(JSON.stringify({ mlloop: 'metric', step: 1, train_loss: p.lr * p.hidden }));
     fs.copyFileSync(process.env.MODEL_SRC, process.env.MLLOOP_RUN_DIR + '/model.onnx');`,
  );
  const spec = JSON.parse(readFileSync(join(dir, 'mlloop.json'), 'utf8'));
  spec.experiments.grid = {
    command,
    env: { MODEL_SRC: join(dir, 'fixture.onnx') },
    params: { lr: 1, hidden: 1, epochs: 5 },
    sweep: { lr: [0.5, 0.25], hidden: [2, 4] },
  };
  writeFileSync(join(dir, 'mlloop.json'), JSON.stringify(spec));
  const created: string[] = [];
  const { groupId, outcomes } = await trainSweep({
    projectDir: dir,
    experimentName: 'grid',
    parallel: 2,
    onRunCreated: (id) => created.push(id),
  });
  assert.equal(outcomes.length, 4);
  assert.equal(created.length, 4);
  const records = outcomes.map((o) => readRun(dir, o.runId));
  assert.deepEqual(
    outcomes.map((o) => o.error?.message),
    [undefined, undefined, undefined, undefined],
  );
  assert.ok(records.every((r) => r.status === 'completed' && r.group?.id === groupId && r.group.size === 4));
  assert.deepEqual(
    records.map((r) => [r.group!.index, r.params]),
    [
      [0, { lr: 0.5, hidden: 2, epochs: 5 }],
      [1, { lr: 0.5, hidden: 4, epochs: 5 }],
      [2, { lr: 0.25, hidden: 2, epochs: 5 }],
      [3, { lr: 0.25, hidden: 4, epochs: 5 }],
    ],
  );
  assert.deepEqual(records[3].group!.values, { lr: 0.25, hidden: 4 });
  // The script saw its own combination.
  const firstStep = JSON.parse(readFileSync(join(outcomes[1].runDir, 'metrics.jsonl'), 'utf8').split('\n')[0]);
  assert.equal(firstStep.trainLoss, 2);
});

test('a sweep of a built-in experiment validates each combination like mlloop.json params', async () => {
  const dir = irisProject({ lr: { model: 'logistic', params: { maxIter: 20 }, sweep: { l2: [0.1, 0.001] } } });
  const { outcomes } = await trainSweep({ projectDir: dir, experimentName: 'lr', parallel: 2 });
  assert.deepEqual(
    outcomes.map((o) => [o.status, o.record.params.l2, o.record.params.maxIter]),
    [
      ['completed', 0.1, 20],
      ['completed', 0.001, 20],
    ],
  );
  assert.equal(outcomes[0].record.group!.id, outcomes[1].record.group!.id);
});

test('ml-loop train --sweep --json: one result per combination; a bad --parallel is a usage error', async () => {
  const { runCli } = await import('../../../src/cli/main');
  const dir = irisProject({ lr: { model: 'logistic', params: { maxIter: 10 }, sweep: { l2: [0.1, 0.01, 0.001] } } });
  let out = '';
  let err = '';
  const code = await runCli(['train', dir, '-e', 'lr', '--sweep', '--parallel', '2', '--json'], {
    cwd: dir,
    out: (s) => (out += s + '\n'),
    err: (s) => (err += s + '\n'),
  });
  assert.equal(code, 0, err);
  const results = JSON.parse(out) as { status: string; runId: string }[];
  assert.deepEqual(
    results.map((r) => r.status),
    ['completed', 'completed', 'completed'],
  );
  assert.deepEqual(
    results.map((r) => readRun(dir, r.runId).params.l2),
    [0.1, 0.01, 0.001],
  );
  const bad = await runCli(['train', dir, '-e', 'lr', '--sweep', '--parallel', '0'], {
    cwd: dir,
    out: () => {},
    err: () => {},
  });
  assert.equal(bad, 2);
});
