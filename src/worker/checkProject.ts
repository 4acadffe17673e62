// Project-check worker thread (bundled to dist/worker-check.js): runs the data-level checks of
// one project for the editor's diagnostics and posts the problems back.
import { parentPort, workerData } from 'node:worker_threads';
import { checkProject, type ProjectCheckRequest } from '../core/check/projectChecks';
import type { CheckWorkerMessage } from '../core/check/runCheck';

const post = (m: CheckWorkerMessage) => parentPort!.postMessage(m);

checkProject(workerData as ProjectCheckRequest).then(
  (result) => post({ type: 'done', result }),
  (e) => post({ type: 'error', message: e instanceof Error ? e.message : String(e) }),
);
