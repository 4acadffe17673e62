// The error-analysis jobs in a worker thread (src/worker/errors.ts): loading a 50,000-row data
// version, predicting it and finding slices takes seconds, which must not block the extension host.
// Two jobs: one run's analysis (the Error Analysis panel) and the error changes across runs (the
// Compare panel). The result comes back by structured clone, typed arrays transferred. Aborting
// rejects at once; the worker is ended when its job is done.
import { Worker } from 'node:worker_threads';
import type { ProjectInput } from '../data/dataset';
import { workerScript } from '../runtime/worker';
import type { RunErrorAnalysis } from './analysis';
import type { ErrorChanges } from './compareErrors';
import type { Slice, SliceOptions } from './slices';

export interface AnalysisWorkerInput {
  /** The project's folder, or better its parsed spec: the worker then skips compiling the schema (half a second). */
  projectDir: ProjectInput;
  run: string;
  slices?: SliceOptions;
  historyRuns?: number;
  /** Post the analysis before its slices ('table'), then only the slices ('slices'), instead of one 'done'. */
  progressive?: boolean;
}

export type ErrorsWorkerInput = ({ job: 'analyse' } & AnalysisWorkerInput) | { job: 'compare'; projectDir: ProjectInput; runIds: string[] };

/** Worker → host. A progressive analysis sends 'table' (its arrays copied: the worker still slices them) and then 'slices'. */
export type ErrorsWorkerMessage =
  | { type: 'done'; result: RunErrorAnalysis | ErrorChanges }
  | { type: 'table'; result: RunErrorAnalysis }
  | { type: 'slices'; slices: Slice[]; timings: RunErrorAnalysis['timings'] }
  | { type: 'error'; message: string };

export class AnalysisCancelledError extends Error {
  constructor() {
    super('The error analysis was cancelled.');
    this.name = 'AnalysisCancelledError';
  }
}

/** The distinct buffers behind the analysis' typed arrays (views of one buffer are listed once). */
export function transferablesOf(a: RunErrorAnalysis): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  const add = (v: ArrayBufferView) => {
    if (v.buffer instanceof ArrayBuffer) buffers.add(v.buffer);
  };
  for (const rows of [a.dataset.train, a.dataset.dev, a.dataset.test]) [rows.features.numeric, rows.y, rows.rowIndex].forEach(add);
  [a.table.truth, a.table.predicted, a.table.confidence, a.table.loss, a.table.wrong].forEach(add);
  return [...buffers];
}

function runInWorker<T>(input: ErrorsWorkerInput, signal: AbortSignal | undefined, workerPath: string | undefined, onTable?: (a: RunErrorAnalysis) => void): Promise<T> {
  if (signal?.aborted) return Promise.reject(new AnalysisCancelledError());
  const script = workerPath ? { source: workerPath, eval: false } : workerScript('errors');
  return new Promise((resolve, reject) => {
    // A bundled worker needs no loader: the caller's (tsx, in the benchmark) would parse the bundle through its hooks.
    const worker = new Worker(script.source, { workerData: input, eval: script.eval, ...(workerPath ? { execArgv: [] } : {}) });
    let settled = false;
    const settle = (fn: () => void, terminate = true) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      fn();
      if (terminate) void worker.terminate();
    };
    // An abort answers at once but lets the worker reach its end (or its next message) before it is
    // terminated: stopping a thread while onnxruntime runs in it natively is not safe.
    const onAbort = () => settle(() => reject(new AnalysisCancelledError()), false);
    signal?.addEventListener('abort', onAbort, { once: true });
    let table: RunErrorAnalysis | undefined;
    worker.on('message', (m: ErrorsWorkerMessage) => {
      if (settled) return void worker.terminate();
      if (m.type === 'table') {
        table = m.result;
        onTable?.(table);
        return;
      }
      if (m.type === 'slices') return settle(() => (table ? resolve({ ...table, slices: m.slices, timings: m.timings } as T) : reject(new Error('The error analysis sent slices before its table.'))));
      settle(() => (m.type === 'done' ? resolve(m.result as T) : reject(new Error(m.message))));
    });
    worker.on('error', (e) => settle(() => reject(e)));
    worker.on('exit', (code) => settle(() => reject(new Error(`The error analysis stopped (worker exit code ${code}) before answering.`))));
  });
}

/**
 * analyseRun in a worker. `workerPath`: a bundled worker to use instead of the one beside this module
 * (the benchmark runs from source but times dist/worker-errors.js). `onTable`: called with the analysis
 * before its slices (slices []), as soon as the worker has it; the promise resolves with the whole.
 */
export function analyseRunInWorker(input: AnalysisWorkerInput, signal?: AbortSignal, workerPath?: string, onTable?: (a: RunErrorAnalysis) => void): Promise<RunErrorAnalysis> {
  return runInWorker({ job: 'analyse', ...input, ...(onTable ? { progressive: true } : {}) }, signal, workerPath, onTable);
}

/** errorChangesOfRuns in a worker. */
export function errorChangesInWorker(input: { projectDir: ProjectInput; runIds: string[] }, signal?: AbortSignal): Promise<ErrorChanges> {
  return runInWorker({ job: 'compare', ...input }, signal, undefined);
}
