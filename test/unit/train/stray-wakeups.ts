// A test tool for the helper thread's handshake (kernels/helperThread.ts): stray wake-ups of a waiting thread.
import { Worker } from 'node:worker_threads';

/**
 * A thread that keeps waking whoever waits on control[index] (as a job's notify arriving late
 * does) until the returned function stops it.
 */
export function strayWakeups(control: Int32Array, index: number): () => Promise<void> {
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(
    `const { control, index, stop } = require('node:worker_threads').workerData;
     while (Atomics.load(stop, 0) === 0) Atomics.notify(control, index);`,
    { eval: true, workerData: { control, index, stop } },
  );
  return async () => {
    Atomics.store(stop, 0, 1);
    await new Promise((resolve) => worker.once('exit', resolve));
  };
}
