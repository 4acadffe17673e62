// Image decoding worker thread (bundled to dist/worker-images.js): reads headers or decodes and
// preprocesses the chunk of image files it is given (src/core/data/images/decodePool.ts), posting the
// pixels and properties back transferred, not copied.
import { parentPort } from 'node:worker_threads';
import { runDecodeJob, type DecodeJob } from '../core/data/images/decodePool';

parentPort!.on('message', (job: DecodeJob) => {
  runDecodeJob(job).then(
    (result) =>
      parentPort!.postMessage(
        { result },
        [result.pixels?.buffer, result.properties?.buffer].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer),
      ),
    (e: unknown) => parentPort!.postMessage({ error: e instanceof Error ? e.message : String(e) }),
  );
});
