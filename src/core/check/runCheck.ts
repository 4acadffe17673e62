// Runs checkProject in a worker thread: the data scan never blocks the extension host, a newer
// edit cancels it by terminating the worker, and a heap limit keeps a huge file from taking the
// host down with it (the worker fails with ERR_WORKER_OUT_OF_MEMORY instead).
// No editor import, so it is tested in plain Node.
import { runWorkerJob } from '../runtime/worker';
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

export function checkProjectInWorker(req: ProjectCheckRequest, o: CheckWorkerOptions): Promise<ProjectCheckResult> {
  return runWorkerJob<ProjectCheckResult, CheckWorkerMessage>({
    worker: { source: o.workerPath, eval: false },
    workerData: req,
    job: 'The project check',
    signal: o.signal,
    // Reading and profiling a file is safe to stop at once.
    graceMs: 0,
    execArgv: o.execArgv,
    resourceLimits: { maxOldGenerationSizeMb: o.maxHeapMb ?? 2048 },
    onMessage: (m, end) => (m.type === 'done' ? end.resolve(m.result) : end.reject(new Error(m.message))),
  });
}
