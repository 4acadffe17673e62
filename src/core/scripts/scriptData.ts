// The data side of a script run, done in a worker thread (src/worker/script.ts) so that the extension
// host never parses the data file or runs the model: before the script, the project's split is loaded
// (through the dataset cache) and written as the script's inputs; after it, the script's model.onnx is
// evaluated on every split and the monitoring reference is written beside run.json.
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { imageMetadata } from '../data/images/modelMetadata';
import type { FeatureSchema } from '../data/types';
import { withMetadata } from '../onnx/builder';
import { mlloopVersion } from '../runtime/version';
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

/**
 * What ML Loop writes into a script's model.onnx once it has evaluated it: the contract every ML Loop
 * model carries (task, features, classes in the order of its scores, run, data version) and, for an
 * image project, the preprocessing (../data/images/modelMetadata.ts), so a server or a Triton export of
 * the model knows how to feed it.
 */
export function scriptModelMetadata(schema: FeatureSchema, runId: string, dataVersion: string): Record<string, string> {
  return {
    task: schema.task,
    model: 'script',
    target: schema.target,
    features: JSON.stringify(schema.image ? [] : schema.numeric),
    categories: JSON.stringify(schema.image ? [] : schema.categorical),
    ...(schema.task === 'classification' ? { classes: JSON.stringify(schema.classes ?? []) } : {}),
    run_id: runId,
    data_version: dataVersion,
    mlloop_version: mlloopVersion,
    ...(schema.image ? imageMetadata(schema.image) : {}),
  };
}

/**
 * Evaluates the script's model on the split it was given (`dataVersion`), writes the run's monitoring
 * reference, and stamps the model with ML Loop's metadata (scriptModelMetadata).
 */
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
  writeFileSync(
    modelPath,
    withMetadata(readFileSync(modelPath), scriptModelMetadata(dataset.schema, basename(runDir), dataset.version.id)),
  );
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
