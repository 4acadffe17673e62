// CSV range worker thread (bundled to dist/worker-table.js): parses and scans one byte range of a
// data file (src/core/data/parallelScan.ts), posting its typed columns back transferred, not copied.
import { parentPort, workerData } from 'node:worker_threads';
import { rangeBuffers, scanRange, type RangeJob } from '../core/data/parallelScan';

scanRange(workerData as RangeJob).then(
  (scan) => parentPort!.postMessage({ scan }, rangeBuffers(scan)),
  (e: unknown) => parentPort!.postMessage({ error: e instanceof Error ? e.message : String(e) }),
);
