// The one worker helper (src/core/runtime/worker.ts): its answer, its errors and its cancel policy
// (reject at once with CancelledError, raise the cancel flag, terminate after the grace period).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CancelledError } from '../../../src/core/runtime/cancel';
import { runWorkerJob } from '../../../src/core/runtime/worker';

const code = (body: string) => ({
  source: `const { parentPort, workerData } = require('node:worker_threads');\n${body}`,
  eval: true,
});
type Answer = { ok: boolean; value: number | string };
const passOn = (m: Answer, end: { resolve: (v: number | string) => void; reject: (e: unknown) => void }) =>
  m.ok ? end.resolve(m.value) : end.reject(new Error(String(m.value)));

test('the job resolves with what the worker answers, and rejects with the error it sends', async () => {
  assert.equal(
    await runWorkerJob<number | string, Answer>({
      worker: code(`parentPort.postMessage({ ok: true, value: workerData * 2 });`),
      workerData: 21,
      job: 'Doubling',
      onMessage: passOn,
    }),
    42,
  );
  await assert.rejects(
    runWorkerJob<number | string, Answer>({
      worker: code(`parentPort.postMessage({ ok: false, value: 'bad row 3' });`),
      workerData: 0,
      job: 'Doubling',
      onMessage: passOn,
    }),
    /bad row 3/,
  );
});

test('a worker that exits without answering is reported with its exit code', async () => {
  await assert.rejects(
    runWorkerJob<number | string, Answer>({
      worker: code(`process.exit(3);`),
      workerData: 0,
      job: 'The check',
      onMessage: passOn,
    }),
    /The check stopped \(worker exit code 3\) before answering/,
  );
});

test('an already aborted signal rejects with CancelledError and starts no worker', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlloop-worker-'));
  const marker = join(dir, 'started');
  const abort = new AbortController();
  abort.abort();
  const pending = runWorkerJob<number | string, Answer>({
    worker: code(`require('node:fs').writeFileSync(workerData, '');`),
    workerData: marker,
    job: 'Training',
    signal: abort.signal,
    onMessage: passOn,
  });
  await assert.rejects(pending, (e: Error) => e instanceof CancelledError && e.message === 'Training was cancelled');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(existsSync(marker), false, 'a worker was started for an aborted job');
});

test('an abort rejects at once, raises the cancel flag, and a worker that ignores it is terminated after the grace period', async () => {
  const cancelFlag = new SharedArrayBuffer(4);
  const log: string[] = [];
  const abort = new AbortController();
  // The worker says it started, then spins without looking at the flag.
  const pending = runWorkerJob<number | string, Answer>({
    worker: code(`parentPort.postMessage({ started: true }); for (;;) {}`),
    workerData: 0,
    job: 'Training',
    signal: abort.signal,
    cancelFlag,
    graceMs: 100,
    log: (line) => log.push(line),
    onMessage: () => abort.abort(),
  });
  await assert.rejects(pending, CancelledError);
  assert.equal(Atomics.load(new Int32Array(cancelFlag), 0), 1, 'the cancel flag was not raised');
  assert.deepEqual(log, ['cancel requested']);
  await new Promise((r) => setTimeout(r, 600));
  assert.deepEqual(log, ['cancel requested', 'worker did not stop within 100 ms: terminated']);
});
