// Retrain with Production Data: closing the loop from a deployment back to training.
//   1. the labelled production examples of the deployment (its consented request log joined to the
//      feedback labels, deduplicated by example id — productionData.ts);
//   2. a held-out part of them (by a hash of the example id, so the same examples always fall on the
//      same side) is kept for evaluation; the rest join the training split of the production run's
//      data version as a new content-versioned data version (src/core/data/dataVersions);
//   3. the chosen experiment trains on that version (trainExperiment: in a worker thread);
//   4. the production run and the new run are evaluated on the SAME sets — the original dev split
//      and the held-out production examples — overall, per tracked slice and per tag (gate.ts).
// The comparison is written to the new run's folder as promotion.json.
// Image deployments: the labelled production pictures join training as image FILES of the new data
// version (copied from the log's images/, labels from the feedback, provenance naming the logged
// file), and the held-out ones are listed in production-holdout.json.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { dirname, extname, join } from 'node:path';
import { resolveProject } from '../data/dataset';
import type { Rows, SplitDataset } from '../data/types';
import { findRun } from '../track/findRun';
import { OnnxPredictor } from '../onnx/onnxPredictor';
import { selectRows } from '../data/rows';
import {
  emptyRows,
  loadDataVersion,
  readRowsCsv,
  rowsToCsv,
  writeDataVersion,
  type NewVersionImage,
  type VersionRecipe,
} from '../data/dataVersions';
import { ScriptModel } from '../scripts/scriptModel';
import { buildErrorTable, type ErrorTable } from '../analysis/errorTable';
import { findSlices } from '../analysis/slices';
import { readTags } from '../analysis/tags';
import { trainExperiment, type TrainOutcome } from '../experiment/trainExperiment';
import type { ProgressEvent } from '../train/types';
import {
  comparePromotion,
  type EvaluationSet,
  type GateOptions,
  type PromotionComparison,
  type TrackedSlice,
} from './gate';
import { readProductionExamples, withUnlabelledTags, type ProductionExamples } from './productionData';
import { deploymentDir, runsDir, versionsDir } from '../spec/layout';

export const HOLDOUT_FILE = 'production-holdout.csv';
/** Image deployments: the held-out production pictures ({file, label, id}, files relative to the project). */
export const HOLDOUT_IMAGES_FILE = 'production-holdout.json';
export const PROMOTION_FILE = 'promotion.json';
export const DEFAULT_HOLDOUT = 0.3;
/** Tracked slices: the production model's worst dev slices, at most this many. */
export const TRACKED_SLICES = 10;

export interface RetrainOptions extends GateOptions {
  projectDir: string;
  /** The deployment (model name) whose logs and feedback are read from .mlloop/deployments/<name>/. */
  deployment: string;
  /** The run production serves: its data version is the one extended, its model the one compared against. */
  productionRun: string;
  /** The experiment to train (default: the production run's). */
  experiment?: string;
  /** Share of the labelled production examples held out for evaluation (default 0.3). */
  holdout?: number;
  signal?: AbortSignal;
  onProgress?: (e: ProgressEvent) => void;
  /** A line of what is happening (CLI stderr, the extension's progress). */
  onStep?: (message: string) => void;
}

export interface ProductionDataSummary {
  requests: number;
  feedback: number;
  labelled: number;
  duplicates: number;
  skipped: ProductionExamples['skipped'];
  /** Distinct labelled examples added to training. */
  train: number;
  /** Distinct labelled examples held out for evaluation. */
  heldOut: number;
}

export interface RetrainResult {
  deployment: string;
  productionRunId: string;
  candidateRunId: string;
  candidateStatus: TrainOutcome['status'];
  candidateModel?: string;
  dataVersion: string;
  production: ProductionDataSummary;
  comparison?: PromotionComparison;
  error?: string;
}

/** Whether example `id` is held out: a stable hash of the id against the fraction. */
export function isHeldOut(id: string, fraction: number): boolean {
  const h = createHash('sha256').update(id).digest().readUInt32BE(0);
  return h / 0x100000000 < fraction;
}

/** Splits labelled production rows into training and held-out rows (both non-empty when there are ≥ 2 rows and 0 < fraction < 1). */
export function splitHoldout(rows: Rows, fraction: number, F: number, K: number): { train: Rows; heldOut: Rows } {
  const n = rows.features.n;
  const held: number[] = [];
  const kept: number[] = [];
  for (let i = 0; i < n; i++) (isHeldOut(rows.ids[i], fraction) ? held : kept).push(i);
  if (n >= 2 && fraction > 0 && fraction < 1) {
    if (held.length === 0) held.push(kept.pop()!);
    else if (kept.length === 0) kept.push(held.pop()!);
  }
  const train = selectRows(rows, kept, F, K);
  const heldOut = selectRows(rows, held, F, K);
  train.ids = kept.map((i) => rows.ids[i]);
  heldOut.ids = held.map((i) => rows.ids[i]);
  return { train, heldOut };
}

async function errorTable(modelPath: string, dataset: SplitDataset, rows: Rows[]): Promise<ErrorTable[]> {
  if (dataset.schema.image) {
    // Image models take the pixels (ScriptModel reads any image model's outputs, built-in or script).
    const model = await ScriptModel.load(modelPath, dataset.schema);
    try {
      const out: ErrorTable[] = [];
      for (const r of rows) out.push(buildErrorTable(dataset.schema, r, await model.predictRows(r)));
      return out;
    } finally {
      await model.release();
    }
  }
  const predictor = await OnnxPredictor.load(modelPath, dataset.schema);
  try {
    const out: ErrorTable[] = [];
    for (const r of rows) out.push(buildErrorTable(dataset.schema, r, await predictor.predict(r.features)));
    return out;
  } finally {
    await predictor.release();
  }
}

/** Evaluates two models on the dev split and the held-out production rows, with the tracked slices and tags. */
export async function evaluateForPromotion(opts: {
  projectDir: string;
  dataset: SplitDataset;
  heldOut: Rows;
  productionModel: string;
  candidateModel: string;
  gate?: GateOptions;
  /** Labelled production rows: their example ids and the ids they had unlabelled (tags given in the review queue before the label came follow them). */
  production?: { ids: readonly string[]; unlabelledIds: readonly string[] };
}): Promise<PromotionComparison> {
  const { dataset, heldOut } = opts;
  const rows = [dataset.dev, heldOut];
  const [prodDev, prodHeld] = await errorTable(opts.productionModel, dataset, rows);
  const [candDev, candHeld] = await errorTable(opts.candidateModel, dataset, rows);
  const slices: TrackedSlice[] = findSlices(dataset.schema, dataset.dev, prodDev, { limit: TRACKED_SLICES }).map(
    (s) => ({ key: s.key, label: s.label, conditions: s.conditions }),
  );
  const stored = await readTags(opts.projectDir);
  const tags = opts.production
    ? withUnlabelledTags(stored, opts.production.ids, opts.production.unlabelledIds)
    : stored;
  const sets: EvaluationSet[] = [{ name: 'dev', rows: dataset.dev, production: prodDev, candidate: candDev }];
  if (heldOut.features.n > 0)
    sets.push({ name: 'production', rows: heldOut, production: prodHeld, candidate: candHeld });
  return comparePromotion(dataset.schema, sets, { slices, tags }, opts.gate);
}

/** The held-out production rows stored with a data version made by retrainWithProductionData. */
export async function readHoldout(projectDir: string, dataset: SplitDataset, versionId: string): Promise<Rows> {
  const file = join(versionsDir(projectDir), versionId, HOLDOUT_FILE);
  return readRowsCsv(dataset.schema, file);
}

export async function retrainWithProductionData(opts: RetrainOptions): Promise<RetrainResult> {
  const step = opts.onStep ?? (() => undefined);
  const ref = await resolveProject(opts.projectDir);
  const projectDir = dirname(ref.projectFile);
  const prodRecord = await findRun(projectDir, opts.productionRun);
  const prodModel = join(runsDir(projectDir), prodRecord.runId, 'model.onnx');
  if (!existsSync(prodModel)) throw new Error(`Run ${prodRecord.runId} has no model.onnx`);
  const experiment = opts.experiment ?? prodRecord.experiment;
  const dataset = await loadDataVersion(ref, prodRecord.dataVersion?.id);
  const dir = deploymentDir(projectDir, opts.deployment);
  step(`reading the request log and feedback of ${opts.deployment}`);
  const prod = await readProductionExamples(dir, dataset.schema);
  if (prod.requests === 0)
    throw new Error(
      `No logged requests in ${dir}: deploy with request logging on (mlLoop.deploy.logRequests, with consent) first`,
    );
  if (prod.rows.features.n === 0) {
    throw new Error(
      `None of the ${prod.requests} logged requests of ${opts.deployment} has a usable feedback label (${prod.feedback} feedback records; send labels to POST /v2/models/${opts.deployment}/feedback)`,
    );
  }
  const F = dataset.schema.numeric.length;
  const K = dataset.schema.categorical.length;
  const { train, heldOut } = splitHoldout(prod.rows, opts.holdout ?? DEFAULT_HOLDOUT, F, K);
  const summary: ProductionDataSummary = {
    requests: prod.requests,
    feedback: prod.feedback,
    labelled: prod.labelled,
    duplicates: prod.duplicates,
    skipped: prod.skipped,
    train: train.features.n,
    heldOut: heldOut.features.n,
  };
  step(
    `${prod.rows.features.n} labelled production examples: ${train.features.n} join training, ${heldOut.features.n} held out`,
  );
  const label = (y: number) => (dataset.schema.classes ? dataset.schema.classes[y] : String(y));
  // Image deployments: the pictures as files (the logged bytes), not pixels in rows.csv.
  const images: NewVersionImage[] | undefined = train.images
    ? await Promise.all(
        train.images.files.map(async (file, i) => ({
          bytes: await readFile(join(projectDir, file)),
          ext: extname(file),
          label: label(train.y[i]),
          source: { file, id: train.ids[i] },
        })),
      )
    : undefined;
  const recipe: VersionRecipe = await writeDataVersion(projectDir, dataset, {
    kind: 'add',
    rows: images ? emptyRows() : train,
    ...(images ? { images } : {}),
    details: {
      source: 'production',
      deployment: opts.deployment,
      productionRun: prodRecord.runId,
      heldOut: heldOut.features.n,
      holdoutFraction: opts.holdout ?? DEFAULT_HOLDOUT,
      requests: prod.requests,
      feedback: prod.feedback,
    },
  });
  const heldImages = heldOut.images;
  const holdoutFile = join(versionsDir(projectDir), recipe.id, heldImages ? HOLDOUT_IMAGES_FILE : HOLDOUT_FILE);
  if (!existsSync(holdoutFile))
    await writeFile(
      holdoutFile,
      heldImages
        ? JSON.stringify(
            {
              images: heldImages.files.map((file, i) => ({ file, label: label(heldOut.y[i]), id: heldOut.ids[i] })),
            },
            null,
            1,
          ) + '\n'
        : rowsToCsv(dataset.schema, heldOut),
    );
  step(`training ${experiment} on data version ${recipe.id}`);
  const outcome = await trainExperiment({
    projectDir,
    experimentName: experiment,
    dataVersion: recipe.id,
    signal: opts.signal,
    onProgress: opts.onProgress,
  });
  const result: RetrainResult = {
    deployment: opts.deployment,
    productionRunId: prodRecord.runId,
    candidateRunId: outcome.runId,
    candidateStatus: outcome.status,
    ...(outcome.model ? { candidateModel: outcome.model } : {}),
    dataVersion: recipe.id,
    production: summary,
  };
  if (outcome.status !== 'completed' || !outcome.model)
    return { ...result, error: outcome.error?.message ?? `training ${outcome.status}` };
  step(
    `evaluating run ${prodRecord.runId} (production) and run ${outcome.runId} (candidate) on dev and the held-out production examples`,
  );
  const comparison = await evaluateForPromotion({
    projectDir,
    dataset,
    heldOut,
    productionModel: prodModel,
    candidateModel: outcome.model,
    gate: opts,
    production: { ids: prod.rows.ids, unlabelledIds: prod.unlabelledIds },
  });
  const full = { ...result, comparison };
  await writeFile(join(outcome.runDir, PROMOTION_FILE), JSON.stringify(full, null, 2) + '\n');
  return full;
}
