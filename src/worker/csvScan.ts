// CSV scan worker thread (bundled to dist/worker-csvScan.js): scans the range of a data file's rows it
// is given (src/core/data/scan.ts, scanInParallel) and posts what it found, its arrays transferred.
import { parentPort } from 'node:worker_threads';
import { scanPartBuffers, scanRange, serializeScanError, type RangeScanJob } from '../core/data/scan';

parentPort!.once('message', (job: RangeScanJob) => {
  scanRange(job).then(
    (part) => parentPort!.postMessage({ part }, scanPartBuffers(part)),
    (e: unknown) => parentPort!.postMessage({ error: serializeScanError(e) }),
  );
});
