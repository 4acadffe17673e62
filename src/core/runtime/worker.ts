// Starting worker threads: where the entries (src/worker/<name>.ts) are, and the one helper that
// runs a job in a worker with one cancel policy. Every worker job of ML Loop goes through it
// (training runs, curve retraining, script-run data, error analysis, project checks).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { CancelledError } from './cancel';

/** After a cancel request a worker gets this long to stop by itself before it is terminated. */
export const CANCEL_GRACE_MS = 2000;

export type WorkerName = 'train' | 'errors' | 'script' | 'images' | 'dataJobs' | 'csvScan';
/** A worker script: a file, or (eval) code to run. */
export interface WorkerSource {
  source: string;
  eval: boolean;
}

/**
 * How to start a worker (src/worker/<name>.ts; the training worker by default): the bundled
 * dist/worker-<name>.js, or, when this module runs from TypeScript source (unit tests under tsx),
 * the source entry loaded through tsx's require hook.
 */
export function workerScript(name: WorkerName = 'train'): WorkerSource {
  if (__filename.endsWith('.ts')) {
    const entry = join(__dirname, '..', '..', 'worker', `${name}.ts`);
    return { source: `require('tsx/cjs'); require(${JSON.stringify(entry)});`, eval: true };
  }
  // dist/extension.js and dist/cli.js sit beside it; bundled test entries live deeper under dist/.
  for (const dir of [__dirname, join(__dirname, '..'), join(__dirname, '..', '..')]) {
    const file = join(dir, `worker-${name}.js`);
    if (existsSync(file)) return { source: file, eval: false };
  }
  throw new Error(`worker-${name}.js not found next to ${__filename}`);
}

export interface WorkerJobOptions<T, M> {
  /** The worker: an entry of src/worker, or a script (a bundled worker, a test's entry). */
  worker: WorkerName | WorkerSource;
  workerData: unknown;
  /** What the job is, for its errors: "The error analysis" → "The error analysis was cancelled". */
  job: string;
  signal?: AbortSignal;
  /** A flag the worker polls (a synchronous loop never sees messages): set to 1 on abort. */
  cancelFlag?: SharedArrayBuffer;
  /**
   * How long a cancelled worker may keep running before it is terminated (default CANCEL_GRACE_MS;
   * 0: at once). A worker that posts a message or exits first is ended then. Infinity for a worker
   * that runs native code (onnxruntime), which is not safe to stop mid-call: it ends at its next message.
   */
  graceMs?: number;
  /** Extra Node flags for the worker ([] for a bundled worker: the caller's loader would parse it). */
  execArgv?: string[];
  resourceLimits?: ResourceLimits;
  /** Notes for the caller's log (cancel requested, worker terminated). */
  log?: (line: string) => void;
  /** Handles one message from the worker: call `end.resolve`/`end.reject` to finish, or return to wait for more. */
  onMessage: (message: M, end: { resolve: (value: T) => void; reject: (error: unknown) => void }) => void;
}

/**
 * Runs one job in a worker thread and settles with its answer. The cancel policy, the same for every
 * job: an abort (or a signal already aborted, in which case no worker starts) rejects at once with
 * CancelledError; the worker is asked to stop (its cancel flag) and is terminated at its next message
 * or exit, or once `graceMs` has passed. A worker that crashes rejects with its error; one that exits
 * without answering rejects saying so. The worker is terminated once the job has settled.
 */
export function runWorkerJob<T, M>(o: WorkerJobOptions<T, M>): Promise<T> {
  if (o.signal?.aborted) return Promise.reject(new CancelledError(o.job));
  const script = typeof o.worker === 'string' ? workerScript(o.worker) : o.worker;
  return new Promise<T>((resolve, reject) => {
    const worker = new Worker(script.source, {
      workerData: o.workerData,
      eval: script.eval,
      execArgv: o.execArgv,
      resourceLimits: o.resourceLimits,
    });
    let settled = false;
    let cancelled = false;
    let killTimer: NodeJS.Timeout | undefined;
    const stop = () => {
      if (killTimer) clearTimeout(killTimer);
      void worker.terminate();
    };
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      o.signal?.removeEventListener('abort', onAbort);
      fn();
      if (!cancelled) stop();
    };
    const onAbort = () => {
      if (settled) return;
      o.log?.('cancel requested');
      if (o.cancelFlag) Atomics.store(new Int32Array(o.cancelFlag), 0, 1);
      cancelled = true;
      settle(() => reject(new CancelledError(o.job)));
      const graceMs = o.graceMs ?? CANCEL_GRACE_MS;
      if (graceMs <= 0) stop();
      else if (Number.isFinite(graceMs)) {
        killTimer = setTimeout(() => {
          o.log?.(`worker did not stop within ${graceMs} ms: terminated`);
          stop();
        }, graceMs);
      }
    };
    o.signal?.addEventListener('abort', onAbort, { once: true });
    const end = { resolve: (v: T) => settle(() => resolve(v)), reject: (e: unknown) => settle(() => reject(e)) };
    worker.on('message', (m: M) => {
      if (cancelled) return stop();
      if (!settled) o.onMessage(m, end);
    });
    worker.on('error', (e) => settle(() => reject(e)));
    worker.on('exit', (code) => {
      if (killTimer) clearTimeout(killTimer);
      settle(() => reject(new Error(`${o.job} stopped (worker exit code ${code}) before answering.`)));
    });
  });
}
