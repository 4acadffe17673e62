// The error-analysis jobs in a worker thread (src/worker/errors.ts): loading a 50,000-row data
// version, predicting it and finding slices takes seconds, which must not block the extension host.
// Two jobs: one run's analysis (the Error Analysis panel) and the error changes across runs (the
// Compare panel). The result comes back by structured clone, typed arrays transferred. Aborting
// rejects at once with CancelledError (src/core/runtime/worker.ts); the worker is ended when its job is done.
import type { ProjectInput } from '../data/dataset';
import { runWorkerJob } from '../runtime/worker';
import type { RunErrorAnalysis } from './analysis';
import type { ErrorChanges } from './compareErrors';
import type { Slice, SliceOptions } from './slices';
import type { Neighbour, NeighbourIndex } from './imageNeighbours';

export interface AnalysisWorkerInput {
  /** The project's folder, or better its parsed spec: the worker then skips compiling the schema (half a second). */
  projectDir: ProjectInput;
  run: string;
  slices?: SliceOptions;
  historyRuns?: number;
  /** Post the analysis before its slices ('table'), then only the slices ('slices'), instead of one 'done'. */
  progressive?: boolean;
}

/** The closest training images of each class to one dev image (the index's rows are SharedArrayBuffers: not copied). */
export interface NeighboursWorkerInput {
  index: NeighbourIndex;
  devRow: number;
  /** Class of each train row. */
  classOf: Int32Array;
  classes: number;
  k: number;
}

export type ErrorsWorkerInput =
  | ({ job: 'analyse' } & AnalysisWorkerInput)
  | { job: 'compare'; projectDir: ProjectInput; runIds: string[] }
  | ({ job: 'neighbours' } & NeighboursWorkerInput);

/** Worker → host. A progressive analysis sends 'table' (its arrays copied: the worker still slices them) and then 'slices'. */
export type ErrorsWorkerMessage =
  | { type: 'done'; result: RunErrorAnalysis | ErrorChanges | Neighbour[][] }
  | { type: 'table'; result: RunErrorAnalysis }
  | { type: 'slices'; slices: Slice[]; timings: RunErrorAnalysis['timings']; neighbours?: NeighbourIndex }
  | { type: 'error'; message: string };

/** The distinct buffers behind the analysis' typed arrays (views of one buffer are listed once). */
export function transferablesOf(a: RunErrorAnalysis): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  const add = (v: ArrayBufferView) => {
    if (v.buffer instanceof ArrayBuffer) buffers.add(v.buffer);
  };
  for (const rows of [a.dataset.train, a.dataset.dev, a.dataset.test])
    [rows.features.numeric, rows.y, rows.rowIndex].forEach(add);
  [a.table.truth, a.table.predicted, a.table.confidence, a.table.loss, a.table.wrong].forEach(add);
  return [...buffers];
}

function runInWorker<T>(
  input: ErrorsWorkerInput,
  signal: AbortSignal | undefined,
  workerPath: string | undefined,
  onTable?: (a: RunErrorAnalysis) => void,
): Promise<T> {
  let table: RunErrorAnalysis | undefined;
  return runWorkerJob<T, ErrorsWorkerMessage>({
    worker: workerPath ? { source: workerPath, eval: false } : 'errors',
    workerData: input,
    job:
      input.job === 'compare'
        ? 'The error comparison'
        : input.job === 'neighbours'
          ? 'The search for the closest training images'
          : 'The error analysis',
    signal,
    // A bundled worker needs no loader: the caller's (tsx, in the benchmark) would parse the bundle through its hooks.
    ...(workerPath ? { execArgv: [] } : {}),
    // A cancelled analysis answers at once but its worker reaches its next message before it is
    // terminated: stopping a thread while onnxruntime runs in it natively is not safe.
    graceMs: Infinity,
    onMessage: (m, end) => {
      if (m.type === 'table') {
        table = m.result;
        onTable?.(table);
      } else if (m.type === 'slices') {
        if (table)
          end.resolve({
            ...table,
            slices: m.slices,
            timings: m.timings,
            ...(m.neighbours ? { neighbours: m.neighbours } : {}),
          } as T);
        else end.reject(new Error('The error analysis sent slices before its table.'));
      } else if (m.type === 'done') end.resolve(m.result as T);
      else end.reject(new Error(m.message));
    },
  });
}

/**
 * analyseRun in a worker. `workerPath`: a bundled worker to use instead of the one beside this module
 * (the benchmark runs from source but times dist/worker-errors.js). `onTable`: called with the analysis
 * before its slices (slices []), as soon as the worker has it; the promise resolves with the whole.
 */
export function analyseRunInWorker(
  input: AnalysisWorkerInput,
  signal?: AbortSignal,
  workerPath?: string,
  onTable?: (a: RunErrorAnalysis) => void,
): Promise<RunErrorAnalysis> {
  return runInWorker(
    { job: 'analyse', ...input, ...(onTable ? { progressive: true } : {}) },
    signal,
    workerPath,
    onTable,
  );
}

/** errorChangesOfRuns in a worker. */
export function errorChangesInWorker(
  input: { projectDir: ProjectInput; runIds: string[] },
  signal?: AbortSignal,
): Promise<ErrorChanges> {
  return runInWorker({ job: 'compare', ...input }, signal, undefined);
}

/** nearestOfEachClass in a worker: a search over 50,000 rows takes tens of milliseconds, off the extension host. */
export function neighboursInWorker(input: NeighboursWorkerInput, signal?: AbortSignal): Promise<Neighbour[][]> {
  return runInWorker({ job: 'neighbours', ...input }, signal, undefined);
}
