// The diagnosis of one run: its model.onnx evaluated on every split (detailed metrics), the
// bias/variance verdict against the project's baseline, permutation importance on dev, and the
// learning curve (cached in the run folder, computed on request).

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { resolveProject } from '../data/dataset';
import { loadDataVersion } from '../data/dataVersions';
import { thumbnail, thumbnailSize } from '../data/images/pixels';
import type { ImageShape, Rows, SplitDataset } from '../data/types';
import type { MetricName, ProjectSpec } from '../spec/types';
import type { SplitMetrics } from '../train/metrics';
import { type RunRecord } from '../train/runStore';
import { verdictOf, type Verdict } from './biasVariance';
import { permutationImportance, type ImportanceReport } from './importance';
import {
  computeValidationCurve,
  learningCurveKey,
  learningCurveOfRun,
  DEFAULT_FRACTIONS,
  type CurveOptions,
} from './learningCurve';
import { readCachedLearningCurve } from './learningCurveCache';
import type { LearningCurve, ValidationCurve } from './learningCurveTypes';
import { splitReport, type SplitReport } from './metrics';
import { OnnxPredictor } from '../onnx/onnxPredictor';
import type { RetrainSpec } from './retrain';
import { ScriptModel } from '../scripts/scriptModel';
import { findRun } from '../track/findRun';
import { listRuns } from '../track/store';
import { runsDir } from '../spec/layout';

export interface RunDiagnosis {
  runId: string;
  experiment: string;
  model: RunRecord['model'];
  params: Record<string, unknown>;
  project: { name: string; file: string; task: ProjectSpec['task']; metric: MetricName };
  dataVersion: string;
  classes?: string[];
  splits: { train: SplitReport; dev?: SplitReport; test?: SplitReport };
  verdict: Verdict;
  importance?: ImportanceReport;
  learningCurve?: LearningCurve;
  validationCurve?: ValidationCurve;
  /** Image projects: thumbnails of a few dev images per confusion-matrix cell ("truth:predicted" class indices). */
  cellImages?: CellImages;
  durationMs: number;
}

export interface CellImages {
  width: number;
  height: number;
  channels: number;
  /** Pixel values channels last, at most CELL_IMAGES per cell. */
  cells: Record<string, number[][]>;
}

/** Dev images kept per confusion-matrix cell, and their longest side. */
export const CELL_IMAGES = 6;
const CELL_THUMBNAIL = 48;

/** A few dev images of each (true class, predicted class) cell, in dev order. */
export function cellImagesOf(rows: Rows, classIndex: Int32Array, shape: ImageShape): CellImages {
  const cells: Record<string, number[][]> = {};
  for (let i = 0; i < rows.features.n; i++) {
    const key = `${rows.y[i]}:${classIndex[i]}`;
    const list = (cells[key] ??= []);
    if (list.length < CELL_IMAGES) list.push(thumbnail(rows.images!.pixels, i, shape, CELL_THUMBNAIL));
  }
  return { ...thumbnailSize(shape, CELL_THUMBNAIL), channels: shape.channels, cells };
}

export interface DiagnoseOptions extends CurveOptions {
  projectDir: string;
  /** A run id, or "latest" (the newest completed run), or "latest:<experiment>". */
  run: string;
  /** 'cached' (default): use a cached learning curve if any; 'compute': compute it when missing; 'none'. */
  learningCurve?: 'cached' | 'compute' | 'none';
  /** Permutation importance on dev (default true). */
  importance?: boolean;
  /** Sweep this parameter around its value (validation curve). */
  validationParam?: string;
}

/** The newest completed run of each experiment (newest first from the store). */
export async function latestCompletedRuns(
  projectDir: string,
): Promise<Map<string, { record: RunRecord; dir: string }>> {
  const latest = new Map<string, { record: RunRecord; dir: string }>();
  for (const r of (await listRuns(projectDir)).runs) {
    if (r.status === 'completed' && r.record.metrics?.train && !latest.has(r.record.experiment))
      latest.set(r.record.experiment, { record: r.record, dir: r.dir });
  }
  return latest;
}

export function retrainSpecOf(record: RunRecord): RetrainSpec {
  // Curves retrain with the built-in engine: a script's training code cannot be re-run that way.
  if (record.model === 'script')
    throw new Error(
      `Run ${record.runId} was trained by a script: learning and validation curves need a built-in model`,
    );
  return { model: record.model, params: record.params, seed: record.seed ?? 0 };
}

function asSplitMetrics(r: SplitReport): SplitMetrics {
  return r.task === 'classification'
    ? { accuracy: r.accuracy, f1: r.f1, logloss: r.logloss }
    : { rmse: r.rmse, mae: r.mae, r2: r.r2 };
}

export async function diagnoseRun(opts: DiagnoseOptions): Promise<RunDiagnosis> {
  const t0 = Date.now();
  const ref = await resolveProject(opts.projectDir);
  const projectDir = dirname(ref.projectFile);
  const record = await findRun(projectDir, opts.run);
  const runDir = join(runsDir(projectDir), record.runId);
  const modelPath = join(runDir, 'model.onnx');
  if (!existsSync(modelPath)) throw new Error(`Run ${record.runId} has no model.onnx`);
  // A run trained on a derived data version (src/core/data/dataVersions) is diagnosed on that version.
  const dataset: SplitDataset = await loadDataVersion(
    ref,
    record.dataVersion?.parent ? record.dataVersion.id : undefined,
  );
  if (record.dataVersion && record.dataVersion.id !== dataset.version.id) {
    throw new Error(
      `Run ${record.runId} was trained on data version ${record.dataVersion.id}, but the data is now ${dataset.version.id}: train again to diagnose the current data`,
    );
  }
  const { schema } = dataset;
  // A script's model may return scores instead of label/probabilities (src/core/scripts/scriptModel).
  // Image models take `image` [N, C, H, W]: the script-model reader feeds them the rows' pixels.
  const predictor =
    record.model === 'script' || schema.image
      ? await ScriptModel.load(modelPath, schema)
      : await OnnxPredictor.load(modelPath, schema);
  try {
    const classes = schema.classes ?? [];
    let cellImages: CellImages | undefined;
    const report = async (split: 'train' | 'dev' | 'test') => {
      const rows = dataset[split];
      if (rows.features.n === 0) return undefined;
      const prediction = await (predictor instanceof ScriptModel
        ? predictor.predictRows(rows)
        : predictor.predict(rows.features));
      if (split === 'dev' && schema.image && rows.images && prediction.classIndex)
        cellImages = cellImagesOf(rows, prediction.classIndex, schema.image);
      return splitReport(schema.task, rows.y, prediction, classes);
    };
    const splits = { train: (await report('train'))!, dev: await report('dev'), test: await report('test') };
    const mode = opts.learningCurve ?? 'cached';
    let learningCurve: LearningCurve | undefined;
    if (mode === 'compute')
      learningCurve = await learningCurveOfRun(runDir, dataset, retrainSpecOf(record), ref.spec.metric, opts);
    else if (mode === 'cached' && record.model !== 'script')
      learningCurve = readCachedLearningCurve(
        runDir,
        learningCurveKey(dataset, retrainSpecOf(record), DEFAULT_FRACTIONS),
      );
    const validationCurve = opts.validationParam
      ? await computeValidationCurve(
          dataset,
          retrainSpecOf(record),
          ref.spec.metric,
          opts.validationParam,
          undefined,
          opts,
        )
      : undefined;
    const verdict = verdictOf({
      metric: ref.spec.metric,
      baseline: ref.spec.baseline,
      train: asSplitMetrics(splits.train),
      dev: splits.dev && asSplitMetrics(splits.dev),
      test: splits.test && asSplitMetrics(splits.test),
      rows: { dev: splits.dev?.n, test: splits.test?.n },
      learningCurve,
      images: !!schema.image,
    });
    const importance =
      // Permutation importance is over feature columns; an image project has none (its pixels are not features to rank).
      opts.importance !== false && dataset.dev.features.n > 0 && !schema.image
        ? await permutationImportance({
            rows: dataset.dev,
            numeric: schema.numeric,
            categorical: schema.categorical,
            task: schema.task,
            classes: classes.length,
            metric: ref.spec.metric,
            predict: (x) => predictor.predict(x),
            seed: record.seed ?? 0,
          })
        : undefined;
    return {
      runId: record.runId,
      experiment: record.experiment,
      model: record.model,
      params: record.params,
      project: { name: ref.spec.name, file: ref.projectFile, task: ref.spec.task, metric: ref.spec.metric },
      dataVersion: dataset.version.id,
      ...(schema.classes ? { classes: schema.classes } : {}),
      splits,
      verdict,
      ...(importance ? { importance } : {}),
      ...(learningCurve ? { learningCurve } : {}),
      ...(validationCurve ? { validationCurve } : {}),
      ...(cellImages ? { cellImages } : {}),
      durationMs: Date.now() - t0,
    };
  } finally {
    await predictor.release();
  }
}
