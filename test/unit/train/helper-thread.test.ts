// The helper thread's handshake (kernels/helperThread.ts): each posted job runs exactly once, whatever
// wakes the helper, and a job that throws is reported with its error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  HELPER_FIRST_WORD,
  HELPER_JOB,
  HelperThread,
  helperSource,
} from '../../../src/core/train/kernels/helperThread';
import { strayWakeups } from './stray-wakeups';

/** Control word counting the helper's runs of a job body. */
const RUNS = HELPER_FIRST_WORD;

function countingHelper(): HelperThread {
  const helper = HelperThread.start(helperSource('', `Atomics.add(control, ${RUNS}, 1);`), {}, RUNS + 1, 10_000);
  assert.ok(helper, 'the helper thread started');
  return helper;
}

/** Blocks this thread for `ms` (the helper runs meanwhile). */
function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

test('a notify that reaches the helper after it ran the job (it took it without sleeping) does not run it again', () => {
  const helper = countingHelper();
  try {
    helper.await(helper.post());
    assert.equal(Atomics.load(helper.control, RUNS), 1);
    // The late notify: wake the helper once it sleeps again, with no new job posted.
    let woken = 0;
    for (let i = 0; i < 10_000 && woken === 0; i++) {
      woken = Atomics.notify(helper.control, HELPER_JOB);
      if (woken === 0) sleep(1);
    }
    assert.equal(woken, 1, 'the helper was asleep waiting for a job');
    sleep(50);
    assert.equal(Atomics.load(helper.control, RUNS), 1, 'the wake-up alone ran the job again');
    helper.await(helper.post());
    assert.equal(Atomics.load(helper.control, RUNS), 2);
  } finally {
    helper.stop();
  }
});

test('jobs posted back to back run exactly once each while another thread keeps waking the helper', async () => {
  const helper = countingHelper();
  const stopWakeups = strayWakeups(helper.control, HELPER_JOB);
  try {
    for (let job = 1; job <= 20_000; job++) {
      assert.equal(helper.await(helper.post()), false);
      assert.equal(Atomics.load(helper.control, RUNS), job, `runs after job ${job}`);
    }
  } finally {
    await stopWakeups();
    helper.stop();
  }
});

test("a job that throws is reported as failed, with the job's error", () => {
  const source = helperSource(
    '',
    `if (Atomics.load(control, ${RUNS}) === 1) throw new RangeError('bad job parameters');`,
  );
  const helper = HelperThread.start(source, {}, RUNS + 1, 10_000);
  assert.ok(helper);
  try {
    assert.equal(helper.await(helper.post()), false);
    Atomics.store(helper.control, RUNS, 1);
    assert.equal(helper.await(helper.post()), true);
    assert.match(helper.failure(), /RangeError: bad job parameters/);
  } finally {
    helper.stop();
  }
});
