// Runs checkProject in a worker thread: the data scan never blocks the extension host, a newer
// edit cancels it by terminating the worker, and a heap limit keeps a huge file from taking the
// host down with it (the worker fails with ERR_WORKER_OUT_OF_MEMORY instead).
// No editor import, so it is tested in plain Node.
import { Worker } from 'node:worker_threads';
import type { ProjectCheckRequest, ProjectCheckResult } from './projectChecks';

/** Worker → host. */
export type CheckWorkerMessage = { type: 'done'; result: ProjectCheckResult } | { type: 'error'; message: string };

export interface CheckWorkerOptions {
  /** Absolute path of the worker script (dist/worker-check.js). */
  workerPath: string;
  signal?: AbortSignal;
  /** Old-generation heap limit of the worker, in MB. */
  maxHeapMb?: number;
  /** Extra Node flags for the worker (tests run the TypeScript entry through tsx). */
  execArgv?: string[];
}

export class CheckCancelledError extends Error {
  constructor() {
    super('The project check was cancelled.');
    this.name = 'CheckCancelledError';
  }
}

export function checkProjectInWorker(req: ProjectCheckRequest, o: CheckWorkerOptions): Promise<ProjectCheckResult> {
  return new Promise((resolve, reject) => {
    if (o.signal?.aborted) return reject(new CheckCancelledError());
    const worker = new Worker(o.workerPath, {
      workerData: req,
      execArgv: o.execArgv,
      resourceLimits: { maxOldGenerationSizeMb: o.maxHeapMb ?? 2048 },
    });
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      o.signal?.removeEventListener('abort', onAbort);
      fn();
      void worker.terminate();
    };
    const onAbort = () => settle(() => reject(new CheckCancelledError()));
    o.signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (m: CheckWorkerMessage) => settle(() => (m.type === 'done' ? resolve(m.result) : reject(new Error(m.message)))));
    worker.on('error', (e) => settle(() => reject(e)));
    worker.on('exit', (code) => settle(() => reject(new Error(`The project check stopped (worker exit code ${code}) before answering.`))));
  });
}
