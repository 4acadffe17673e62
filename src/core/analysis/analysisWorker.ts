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

/**
 * Worker → host. A progressive analysis sends 'table' (its arrays copied: the worker still slices
 * them), then 'slices', then 'neighbours' (an image run's neighbour index, or none).
 */
export type ErrorsWorkerMessage =
  | { type: 'done'; result: RunErrorAnalysis | ErrorChanges | Neighbour[][] }
  | { type: 'table'; result: RunErrorAnalysis; packedIds?: PackedIds }
  | { type: 'slices'; slices: Slice[]; timings: RunErrorAnalysis['timings'] }
  | { type: 'neighbours'; neighbours?: NeighbourIndex }
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

/** Each split's row ids joined by newlines (see tableMessage). */
export type PackedIds = Partial<Record<'train' | 'dev' | 'test', string>>;

const SPLITS = ['train', 'dev', 'test'] as const;

/**
 * A progressive analysis' 'table' message, cheap for the extension host to receive: each split's ids
 * as one string instead of a string per row (600,000 strings held the host ~0.2 s as it received
 * them), and a tabular run's train and test arrays transferred, not copied (after the table the worker
 * only reads dev: its slices; an image run's neighbour index reads train).
 */
export function tableMessage(a: RunErrorAnalysis): { message: ErrorsWorkerMessage; transfer: ArrayBuffer[] } {
  const packedIds: PackedIds = {};
  const dataset = { ...a.dataset };
  for (const split of SPLITS) {
    const ids = a.dataset[split].ids;
    if (ids.some((id) => id.includes('\n'))) continue;
    packedIds[split] = ids.join('\n');
    dataset[split] = { ...a.dataset[split], ids: [] };
  }
  const transfer = new Set<ArrayBuffer>();
  if (!a.dataset.schema.image && !a.image) {
    const { dev } = a.dataset;
    const t = a.table;
    const devArrays: ArrayBufferView[] = [dev.features.numeric, dev.y, dev.rowIndex];
    const kept = new Set(devArrays.concat([t.truth, t.predicted, t.confidence, t.loss, t.wrong]).map((v) => v.buffer));
    for (const rows of [a.dataset.train, a.dataset.test])
      for (const v of [rows.features.numeric, rows.y, rows.rowIndex])
        if (v.buffer instanceof ArrayBuffer && !kept.has(v.buffer)) transfer.add(v.buffer);
  }
  return { message: { type: 'table', result: { ...a, dataset }, packedIds }, transfer: [...transfer] };
}

/** The analysis of a 'table' message with its ids back, each split's split out when first read. */
export function receivedTable(a: RunErrorAnalysis, packedIds: PackedIds = {}): RunErrorAnalysis {
  for (const split of SPLITS) {
    const packed = packedIds[split];
    if (packed === undefined) continue;
    let ids: string[] | undefined;
    Object.defineProperty(a.dataset[split], 'ids', {
      configurable: true,
      enumerable: true,
      get: () => (ids ??= packed === '' ? [] : packed.split('\n')),
      set: (v: string[]) => (ids = v),
    });
  }
  return a;
}

function runInWorker<T>(
  input: ErrorsWorkerInput,
  signal: AbortSignal | undefined,
  workerPath: string | undefined,
  onTable?: (a: RunErrorAnalysis) => void,
  onSlices?: (a: RunErrorAnalysis) => void,
): Promise<T> {
  let table: RunErrorAnalysis | undefined;
  let sliced: RunErrorAnalysis | undefined;
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
        table = receivedTable(m.result, m.packedIds);
        onTable?.(table);
      } else if (m.type === 'slices') {
        if (!table) return end.reject(new Error('The error analysis sent slices before its table.'));
        sliced = { ...table, slices: m.slices, timings: m.timings };
        onSlices?.(sliced);
      } else if (m.type === 'neighbours') {
        if (sliced) end.resolve({ ...sliced, ...(m.neighbours ? { neighbours: m.neighbours } : {}) } as T);
        else end.reject(new Error('The error analysis sent its neighbour index before its slices.'));
      } else if (m.type === 'done') end.resolve(m.result as T);
      else end.reject(new Error(m.message));
    },
  });
}

/**
 * analyseRun in a worker. `workerPath`: a bundled worker to use instead of the one beside this module
 * (the benchmark runs from source but times dist/worker-errors.js). `onTable`: called with the analysis
 * before its slices (slices []), as soon as the worker has it; `onSlices` (progressive only): with its
 * slices, before an image run's neighbour index; the promise resolves with the whole.
 */
export function analyseRunInWorker(
  input: AnalysisWorkerInput,
  signal?: AbortSignal,
  workerPath?: string,
  onTable?: (a: RunErrorAnalysis) => void,
  onSlices?: (a: RunErrorAnalysis) => void,
): Promise<RunErrorAnalysis> {
  return runInWorker(
    { job: 'analyse', ...input, ...(onTable ? { progressive: true } : {}) },
    signal,
    workerPath,
    onTable,
    onSlices,
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
