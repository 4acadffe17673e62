// Training worker thread (bundled to dist/worker-train.js). Runs one job from workerData, posts
// progress, then the result or the error. Cancellation arrives through a shared flag because the
// training loop is synchronous and never yields to the message queue.

import { parentPort, workerData } from 'node:worker_threads';
import { executeTrainJob, serializeError, type WorkerInput, type WorkerMessage } from '../core/train/job';

const input = workerData as WorkerInput;
const cancelFlag = new Int32Array(input.cancelFlag);
const post = (m: WorkerMessage, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(m, transfer);

executeTrainJob(input.job, input.meta, {
  onLoaded: (info) => post({ type: 'loaded', info }),
  onProgress: (event) => post({ type: 'progress', event }),
  isCancelled: () => Atomics.load(cancelFlag, 0) === 1,
}).then(
  (result) => post({ type: 'done', result }, [result.onnx.buffer as ArrayBuffer]),
  (e) => post({ type: 'error', error: serializeError(e) }),
);
