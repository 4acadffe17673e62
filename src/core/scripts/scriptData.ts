// The data side of a script run, done in a worker thread (src/worker/script.ts) so that the extension
// host never parses the data file or runs the model: before the script, the project's split is loaded
// (through the dataset cache) and written as the script's inputs; after it, the script's model.onnx is
// evaluated on every split and the monitoring reference is written beside run.json.
import { dirname } from 'node:path';
import { loadSplitDataset, type ProjectRef } from '../data/dataset';
import { loadDataVersion, readRecipe } from '../data/dataVersions';
import type { DataVersion } from '../data/types';
import { buildReference, writeReference } from '../train/reference';
import { imageReference } from '../train/imageReference';
import type { Prediction } from '../train/types';
import { runWorkerJob } from '../runtime/worker';
import { writeScriptInputs, type ScriptInputs } from './inputs';
import { evaluateScriptModel } from './scriptModel';

export interface PreparedScriptData {
  version: DataVersion;
  rows: { train: number; dev: number; test: number };
  inputs: ScriptInputs;
}

export type ScriptMetrics = Awaited<ReturnType<typeof evaluateScriptModel>>;

export type ScriptDataJob =
  | { job: 'prepare'; ref: ProjectRef; runDir: string; params: Record<string, unknown>; dataVersion?: string }
  | { job: 'evaluate'; ref: ProjectRef; runDir: string; modelPath: string; dataVersion: string };

export type ScriptDataMessage =
  { type: 'done'; result: PreparedScriptData | ScriptMetrics } | { type: 'error'; message: string };

/** Loads the split (or a derived data version of it) and writes it as the script's inputs under the run folder. */
export async function prepareScriptData(
  ref: ProjectRef,
  runDir: string,
  params: Record<string, unknown>,
  dataVersion?: string,
): Promise<PreparedScriptData> {
  const dataset = await loadDataVersion(ref, dataVersion, { cache: true });
  const inputs = writeScriptInputs(runDir, dataset, params, dirname(ref.projectFile));
  return {
    version: dataset.version,
    rows: { train: dataset.train.features.n, dev: dataset.dev.features.n, test: dataset.test.features.n },
    inputs,
  };
}

/** Evaluates the script's model on the split it was given (`dataVersion`) and writes the run's monitoring reference. */
export async function evaluateScriptRun(
  ref: ProjectRef,
  runDir: string,
  modelPath: string,
  dataVersion: string,
): Promise<ScriptMetrics> {
  const base = await loadSplitDataset(ref, { cache: true });
  // A derived version (augmented, added images…) is evaluated as it was trained; its dev and test are the base's.
  const derived = dataVersion !== base.version.id && (await readRecipe(dirname(ref.projectFile), dataVersion));
  const dataset = derived ? await loadDataVersion(ref, dataVersion, { cache: true }) : base;
  if (dataset.version.id !== dataVersion) {
    throw new Error(
      `The data changed while the script ran (data version ${dataVersion} → ${dataset.version.id}): the model cannot be evaluated on the split it was trained with. Train again.`,
    );
  }
  let devPrediction: Prediction | undefined;
  const metrics = await evaluateScriptModel(modelPath, dataset, (p) => (devPrediction = p));
  const reference = buildReference(
    dataset.schema,
    dataset.train,
    devPrediction && { prediction: devPrediction, rows: dataset.dev.features.n, metrics: metrics.dev },
    { dataVersion: dataset.version.id },
  );
  if (dataset.schema.image)
    Object.assign(
      reference,
      await imageReference(dataset.schema.image, dataset.train, dirname(ref.projectFile), modelPath),
    );
  writeReference(runDir, reference);
  return metrics;
}

/**
 * Runs one job in a worker thread and resolves with its result; the worker ends with the job.
 * `signal` stops a 'prepare' at once (it only reads and writes files; an 'evaluate' runs the model
 * natively and is left to finish).
 */
export function inScriptDataWorker(
  input: Extract<ScriptDataJob, { job: 'prepare' }>,
  signal?: AbortSignal,
): Promise<PreparedScriptData>;
export function inScriptDataWorker(input: Extract<ScriptDataJob, { job: 'evaluate' }>): Promise<ScriptMetrics>;
export function inScriptDataWorker(
  input: ScriptDataJob,
  signal?: AbortSignal,
): Promise<PreparedScriptData | ScriptMetrics> {
  return runWorkerJob<PreparedScriptData | ScriptMetrics, ScriptDataMessage>({
    worker: 'script',
    workerData: input,
    job: "The script run's data job",
    signal,
    graceMs: 0,
    onMessage: (m, end) => (m.type === 'done' ? end.resolve(m.result) : end.reject(new Error(m.message))),
  });
}
