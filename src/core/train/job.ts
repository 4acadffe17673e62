// One training job as it runs inside the training worker (src/worker/train.ts): train the model,
// export ONNX, evaluate it on every split and check the export against it. Pure computation, no files written; the host side
// (run.ts) owns the run folder. Also the typed messages between the worker and the host.

import { dirname } from 'node:path';
import type { BuiltinModel } from '../spec/types';
import type { DataVersion, FeatureSchema, Rows, SplitDataset } from '../data/types';
import type { ProjectRef } from '../data/dataset';
import { loadDataVersion } from '../data/dataVersions';
import type { DatasetSource } from '../data/dataset';
import { checkExportedModel, type CheckedSplit } from './exportCheck';
import { buildReference, type MonitoringReference } from './reference';
import { imageReference } from './imageReference';
import { splitMetrics, type SplitMetrics } from './metrics';
import { getTrainer } from './registry';
import { TrainingError, type ProgressEvent } from './types';
import { CancelledError } from '../runtime/cancel';

export interface TrainJob {
  /** The data: already loaded, or loaded inside the worker from the project (keeps parsing off the host thread). */
  data:
    | { dataset: SplitDataset }
    | {
        project: ProjectRef;
        /** A derived data version (src/core/data/dataVersions); default the data file's own. */ dataVersion?: string;
      };
  model: BuiltinModel;
  /** Resolved parameters (defaults applied). */
  params: Record<string, unknown>;
  seed: number;
}

export interface JobMeta {
  runId: string;
  mlloopVersion: string;
}

/** Wall time of each stage of a job, in ms (written to the run's log.txt; the path benchmark's shares). */
export interface JobStages {
  /** Loading the data (parsing the file, or reading the dataset cache). */
  load: number;
  fit: number;
  /** Predictions and metrics on every split, and the check of the export on a sample (exportCheck.ts). */
  evaluate: number;
  export: number;
  /** The monitoring reference (reference.ts). */
  reference: number;
}

export interface JobResult {
  onnx: Uint8Array;
  metrics: { train: SplitMetrics; dev?: SplitMetrics; test?: SplitMetrics };
  /** The fit alone (stages.fit). */
  trainMs: number;
  stages: JobStages;
  /** Statistics of the training split and dev predictions, for monitoring (src/core/monitor); written as reference.json. */
  reference?: MonitoringReference;
}

export interface LoadedInfo {
  version: DataVersion;
  rows: { train: number; dev: number; test: number };
  /** Where a project's rows came from: the dataset cache, or the data file (absent: rows handed to the job). */
  source?: DatasetSource;
  loadMs: number;
}

export interface SerializedError {
  name: string;
  message: string;
  param?: string;
  step?: number;
}

/** The log line of the loaded data: split sizes, and where the rows came from in how long. */
export function loadedLine(info: LoadedInfo): string {
  const from = info.source === 'cache' ? 'read from the dataset cache' : info.source === 'file' ? 'parsed' : 'given';
  return `data ${info.version.id}: train ${info.rows.train}, dev ${info.rows.dev}, test ${info.rows.test} rows (${from} in ${info.loadMs} ms)`;
}

/** The log line of a finished job: the time of each stage after loading, and the model's size. */
export function finishedLine(r: JobResult): string {
  const s = r.stages;
  return `trained in ${s.fit} ms; model ${r.onnx.byteLength} bytes; evaluated on every split in ${s.evaluate} ms, ONNX export ${s.export} ms, monitoring reference ${s.reference} ms`;
}

/** Worker → host. */
export type WorkerMessage =
  | { type: 'loaded'; info: LoadedInfo }
  | { type: 'progress'; event: ProgressEvent }
  | { type: 'done'; result: JobResult }
  | { type: 'error'; error: SerializedError };

/** Host → worker, via workerData. `cancelFlag` is a SharedArrayBuffer of one Int32: 1 = cancel. */
export interface WorkerInput {
  job: TrainJob;
  meta: JobMeta;
  cancelFlag: SharedArrayBuffer;
}

export function serializeError(e: unknown): SerializedError {
  if (e instanceof TrainingError) return { name: e.name, message: e.message, param: e.param, step: e.step };
  if (e instanceof Error)
    return { name: e.name, message: e.message, ...(e.name === 'DataError' ? { param: 'data' } : {}) };
  return { name: 'Error', message: String(e) };
}

/** The seed of a run: the model's `seed` parameter when it has one, else 0. */
export function runSeed(params: Record<string, unknown>): number {
  return typeof params.seed === 'number' && Number.isInteger(params.seed) ? params.seed : 0;
}

export async function executeTrainJob(
  job: TrainJob,
  meta: JobMeta,
  hooks: {
    onLoaded?: (info: LoadedInfo) => void;
    onProgress?: (e: ProgressEvent) => void;
    isCancelled?: () => boolean;
  } = {},
): Promise<JobResult> {
  // Through the dataset cache: a next run on the same data, and the Error Analysis panel opened on this
  // run, read the split back instead of parsing the file again.
  let t = performance.now();
  const lap = () => {
    const now = performance.now();
    const ms = Math.round(now - t);
    t = now;
    return ms;
  };
  let source: DatasetSource | undefined;
  const dataset =
    'dataset' in job.data
      ? job.data.dataset
      : await loadDataVersion(job.data.project, job.data.dataVersion, { cache: true, onSource: (s) => (source = s) });
  const load = lap();
  hooks.onLoaded?.({
    version: dataset.version,
    rows: { train: dataset.train.features.n, dev: dataset.dev.features.n, test: dataset.test.features.n },
    ...(source ? { source } : {}),
    loadMs: load,
  });
  if (hooks.isCancelled?.()) throw new CancelledError('Training');
  lap();
  const model = await getTrainer(job.model)({
    schema: dataset.schema,
    train: dataset.train,
    dev: dataset.dev,
    params: job.params,
    seed: job.seed,
    onProgress: hooks.onProgress,
    isCancelled: hooks.isCancelled,
  });
  const fit = lap();
  if (hooks.isCancelled?.()) throw new CancelledError('Training');
  const classes = dataset.schema.classes?.length ?? 0;
  const onnx = model.toOnnx({ runId: meta.runId, dataVersion: dataset.version.id, mlloopVersion: meta.mlloopVersion });
  const exported = lap();
  // Every split is predicted in-process (for GBDT the WebAssembly kernel, on two threads: several
  // times ONNX Runtime's speed on a large split); a tabular model's export is then run in ONNX Runtime
  // on a sample of each split and must answer the same (exportCheck.ts), so the metrics are those of
  // the model the server will load. Image models' exports read pixels through their own preprocessing.
  const predicted: CheckedSplit[] = [];
  const evaluate = (name: CheckedSplit['name'], rows: Rows): SplitMetrics | undefined => {
    if (rows.features.n === 0) return undefined;
    // The dev rows' predictions may have come out of the fit (TrainedModel.fitted).
    const prediction =
      (rows === dataset.dev ? model.fitted?.dev : undefined) ?? model.predict(rows.features, rows.images);
    predicted.push({ name, rows, prediction });
    const metrics = splitMetrics(dataset.schema.task, rows.y, prediction, classes);
    for (const [k, v] of Object.entries(metrics)) {
      if (k !== 'r2' && !Number.isFinite(v))
        throw new TrainingError(`The trained model's ${k} is ${v}: its predictions are not finite`);
    }
    return metrics;
  };
  const metrics: JobResult['metrics'] = {
    train: evaluate('train', dataset.train)!,
    dev: evaluate('dev', dataset.dev),
    test: evaluate('test', dataset.test),
  };
  if (!dataset.schema.image) await checkExportedModel(onnx, dataset.schema, predicted);
  const devPrediction = predicted.find((s) => s.name === 'dev')?.prediction;
  const evaluated = lap();
  const reference = buildReference(
    dataset.schema,
    dataset.train,
    devPrediction && { prediction: devPrediction, rows: dataset.dev.features.n, metrics: metrics.dev },
    { dataVersion: dataset.version.id },
  );
  // Image runs: the training images' properties and the model's embeddings (files are read from the project).
  if (dataset.schema.image && 'project' in job.data)
    Object.assign(
      reference,
      await imageReference(dataset.schema.image, dataset.train, dirname(job.data.project.projectFile), onnx),
    );
  const stages: JobStages = { load, fit, evaluate: evaluated, export: exported, reference: lap() };
  return { onnx, metrics, trainMs: fit, stages, reference };
}
