// The Error Analysis panel's analysis in a worker thread: the same result as in-process (the error
// table, the dataset's rows with their typed arrays, the slices), errors of the run reported, and
// an abort answered at once with CancelledError (the worker itself ends after its job).
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyseRun } from '../../../src/core/analysis/analysis';
import {
  analyseRunInWorker,
  receivedTable,
  tableMessage,
  transferablesOf,
} from '../../../src/core/analysis/analysisWorker';
import { CancelledError } from '../../../src/core/runtime/cancel';
import { writeTags } from '../../../src/core/analysis/tags';
import { trainExperiment } from '../../../src/core/experiment/trainExperiment';

const dir = mkdtempSync(join(tmpdir(), 'mlloop-errors-worker-'));
let runId = '';

before(async () => {
  cpSync(join(__dirname, '..', '..', '..', 'examples', 'digits'), dir, {
    recursive: true,
    filter: (src) => !src.includes('.mlloop'),
  });
  // As a tabular project (no "image"): its pixels are then sliced, and the slices travel with the analysis.
  const file = join(dir, 'mlloop.json');
  writeFileSync(file, readFileSync(file, 'utf8').replace(/"image": \{[^}]*\}/, '"categorical": []'));
  const o = await trainExperiment({ projectDir: dir, experimentName: 'softmax' });
  assert.equal(o.status, 'completed', o.error?.message);
  runId = o.runId;
});

test("the worker's analysis equals the in-process one, typed arrays included", async () => {
  const local = await analyseRun({ projectDir: dir, run: runId });
  await writeTags(dir, { [local.table.ids.find((_, i) => local.table.wrong[i])!]: ['smudged'] });
  const [inProcess, worker] = await Promise.all([
    analyseRun({ projectDir: dir, run: runId }),
    analyseRunInWorker({ projectDir: dir, run: runId }),
  ]);
  assert.ok(worker.table.errorCount > 0);
  assert.ok(
    worker.table.confidence instanceof Float32Array && worker.dataset.dev.features.numeric instanceof Float32Array,
  );
  for (const key of ['ids', 'truth', 'predicted', 'confidence', 'loss', 'wrong', 'errorCount', 'n', 'classes'] as const)
    assert.deepEqual(worker.table[key], inProcess.table[key], key);
  for (const split of ['train', 'dev', 'test'] as const)
    assert.deepEqual(worker.dataset[split], inProcess.dataset[split], split);
  assert.deepEqual(worker.dataset.schema, inProcess.dataset.schema);
  assert.deepEqual(worker.slices, inProcess.slices);
  assert.deepEqual(worker.tagTable, inProcess.tagTable);
  assert.equal(worker.tagTable[0].tag, 'smudged');
  assert.deepEqual(worker.record, inProcess.record);
});

test('a progressive analysis hands over the error table before the slices, then resolves with the same whole as one message', async () => {
  const whole = await analyseRunInWorker({ projectDir: dir, run: runId });
  let early: Awaited<ReturnType<typeof analyseRunInWorker>> | undefined;
  let settledFirst = false;
  let sliced: Awaited<ReturnType<typeof analyseRunInWorker>> | undefined;
  const progressive = analyseRunInWorker(
    { projectDir: dir, run: runId },
    undefined,
    undefined,
    (a) => {
      early = a;
      settledFirst = settled;
    },
    // The slices come before the (image runs') neighbour index, and before the promise settles.
    (a) => (sliced = settled ? undefined : a),
  );
  let settled = false;
  const done = await progressive.finally(() => (settled = true));
  assert.ok(sliced, 'the slices came before the end');
  assert.deepEqual(sliced.slices, whole.slices);
  assert.ok(early, 'the table came before the end');
  assert.equal(settledFirst, false);
  assert.deepEqual(early.slices, []);
  assert.deepEqual(early.table.wrong, whole.table.wrong);
  assert.ok(
    early.dataset.dev.features.numeric instanceof Float32Array && early.dataset.dev.features.numeric.length > 0,
    'copied, not transferred away',
  );
  assert.ok(whole.slices.length > 0);
  assert.deepEqual(done.slices, whole.slices);
  assert.deepEqual(done.tagTable, whole.tagTable);
  assert.deepEqual(done.table.ids, whole.table.ids);
});

test('every typed array of the analysis is backed by a listed buffer, each listed once', async () => {
  const a = await analyseRun({ projectDir: dir, run: runId });
  const buffers = transferablesOf(a);
  assert.equal(new Set(buffers).size, buffers.length);
  for (const v of [
    a.dataset.dev.features.numeric,
    a.dataset.train.y,
    a.dataset.test.rowIndex,
    a.table.loss,
    a.table.wrong,
  ])
    assert.ok(buffers.includes(v.buffer as ArrayBuffer));
});

test('an unknown run is reported as the error it is; an abort answers at once with CancelledError', async () => {
  await assert.rejects(
    analyseRunInWorker({ projectDir: dir, run: 'no-such-run' }),
    (e: Error) => !(e instanceof CancelledError) && /no-such-run/.test(e.message),
  );
  const abort = new AbortController();
  const pending = analyseRunInWorker({ projectDir: dir, run: runId }, abort.signal);
  abort.abort();
  await assert.rejects(pending, CancelledError);
  await assert.rejects(analyseRunInWorker({ projectDir: dir, run: runId }, abort.signal), CancelledError);
});

test("a progressive analysis' table message: each split's ids as one string, a tabular run's train and test arrays transferred", async () => {
  const a = await analyseRun({ projectDir: dir, run: runId });
  const ids = { train: [...a.dataset.train.ids], dev: [...a.dataset.dev.ids], test: [...a.dataset.test.ids] };
  const { message, transfer } = tableMessage(a);
  assert.equal(message.type, 'table');
  if (message.type !== 'table') return;
  for (const split of ['train', 'dev', 'test'] as const) {
    assert.deepEqual(message.result.dataset[split].ids, [], split);
    assert.equal(typeof message.packedIds?.[split], 'string', split);
  }
  const buffers = (split: 'train' | 'dev' | 'test') =>
    [a.dataset[split].features.numeric, a.dataset[split].y, a.dataset[split].rowIndex].map((v) => v.buffer);
  for (const b of [...buffers('train'), ...buffers('test')]) assert.ok(transfer.includes(b as ArrayBuffer));
  // Dev and the error table stay with the worker (its slices read them).
  for (const b of [...buffers('dev'), a.table.truth.buffer, a.table.wrong.buffer])
    assert.ok(!transfer.includes(b as ArrayBuffer));
  const received = structuredClone(message, { transfer });
  const back = receivedTable(received.result, received.packedIds);
  for (const split of ['train', 'dev', 'test'] as const) assert.deepEqual(back.dataset[split].ids, ids[split], split);
  assert.ok(back.dataset.train.features.numeric.length > 0);
  assert.equal(a.dataset.train.features.numeric.length, 0, 'transferred, not copied');
  assert.equal(a.dataset.dev.ids.length, ids.dev.length, "the worker's own rows keep their ids");
});
