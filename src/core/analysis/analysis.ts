// Error analysis of one run, as the CLI, the panel and tests use it: the run's model.onnx predicts
// the dev split of the data version it was trained on; the error table, tag table (with the same
// tags' counts in the experiment's earlier runs) and slices follow. Plus the actions that turn the
// analysis into data: augment, add rows, fix labels (each a new data version) and export.
import { existsSync } from 'node:fs';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { resolveProject, type ProjectInput } from '../data/dataset';
import { toCsv } from '../data/reader';
import type { SplitDataset } from '../data/types';
import { retrainSpecOf } from '../diagnose/diagnoseRun';
import { findRun } from '../track/findRun';
import { OnnxPredictor } from '../onnx/onnxPredictor';
import { type RunRecord } from '../train/runStore';
import { listRuns } from '../track/store';
import { augmentRows, defaultMethod, sourceRows, type AugmentRecipe, type AugmentSource } from './augment';
import {
  assertInsideProject,
  emptyRows,
  loadDataVersion,
  readRowsCsv,
  writeDataVersion,
  type VersionRecipe,
} from '../data/dataVersions';
import {
  planImageAugmentation,
  previewPlan,
  renderPlan,
  type ImageAugmentPlan,
  type PreviewImage,
  type TransformProposal,
} from './imageAugment';
import { buildErrorTable, type ErrorTable } from './errorTable';
import { imageSliceView, type SliceView } from './imageSlices';
import { featureNeighbourIndex, neighbourIndex, type NeighbourIndex } from './imageNeighbours';
import { ScriptModel } from '../scripts/scriptModel';
import { findLabelIssues, labelIssuesOfPredictions, type LabelIssue } from './labelErrors';
import { findSlices, inSlice, parseSliceKey, pixelFeaturesOf, type Slice, type SliceOptions } from './slices';
import { readTags, tagTable, withHistory, type TagRow, type TagStore } from './tags';
import { productionQueueOf, readReviewQueue } from '../update/reviewQueue';
import { runsDir, versionsDir } from '../spec/layout';

export interface RunErrorAnalysis {
  projectDir: string;
  record: RunRecord;
  dataset: SplitDataset;
  image?: { width: number; height: number; channels?: number };
  table: ErrorTable;
  /** What the slices are over: the dataset's features, or for image projects each dev image's properties. */
  sliceView: SliceView;
  tags: TagStore;
  tagTable: TagRow[];
  slices: Slice[];
  /** Image projects: the train and dev images as feature rows, for the closest training images of an example. */
  neighbours?: NeighbourIndex;
  timings: { loadMs: number; predictMs: number; analyseMs: number };
}

/** The run's error table on the dataset's dev split (its model.onnx predicting it). */
export async function predictDev(runDir: string, dataset: SplitDataset): Promise<ErrorTable> {
  if (dataset.schema.image) {
    // Image models take `image` [N, C, H, W] and may return scores or labels: the script-model reader handles both.
    const model = await ScriptModel.load(join(runDir, 'model.onnx'), dataset.schema);
    try {
      return buildErrorTable(dataset.schema, dataset.dev, await model.predictRows(dataset.dev));
    } finally {
      await model.release();
    }
  }
  const predictor = await OnnxPredictor.load(join(runDir, 'model.onnx'), dataset.schema);
  try {
    return buildErrorTable(dataset.schema, dataset.dev, await predictor.predict(dataset.dev.features));
  } finally {
    await predictor.release();
  }
}

/** Earlier completed runs of the same experiment on the same dev split (oldest first, at most `limit`). */
async function earlierRuns(
  projectDir: string,
  record: RunRecord,
  limit: number,
): Promise<{ record: RunRecord; dir: string }[]> {
  const runs = (await listRuns(projectDir)).runs.filter(
    (r) =>
      r.status === 'completed' &&
      r.record.experiment === record.experiment &&
      r.record.runId !== record.runId &&
      r.record.startedAt < record.startedAt &&
      r.record.dataVersion?.splitHash === record.dataVersion?.splitHash &&
      r.record.dataVersion?.fileHash === record.dataVersion?.fileHash,
  );
  return runs
    .slice(0, limit)
    .reverse()
    .map((r) => ({ record: r.record, dir: r.dir }));
}

/**
 * `projectDir`: the project's folder, or its already-parsed spec (a worker then never compiles the schema).
 * `onTable`: called with the analysis before its slices are found (slices [], analyseMs the tag table's
 * time), so a panel can draw the examples while the slices are still being computed; `onSlices` with
 * its slices, before the neighbour index of an image run is made.
 */
export async function analyseRun(opts: {
  projectDir: ProjectInput;
  run: string;
  slices?: SliceOptions;
  historyRuns?: number;
  onTable?: (a: RunErrorAnalysis) => void;
  /** Called with the analysis and its slices before the neighbour index is made (running an image model over the training set can take a while). */
  onSlices?: (a: RunErrorAnalysis) => void;
}): Promise<RunErrorAnalysis> {
  const t0 = Date.now();
  const ref = await resolveProject(opts.projectDir);
  const projectDir = dirname(ref.projectFile);
  const record = await findRun(projectDir, opts.run);
  const runDir = join(runsDir(projectDir), record.runId);
  if (!existsSync(join(runDir, 'model.onnx'))) throw new Error(`Run ${record.runId} has no model.onnx`);
  // Cached: opening the panel again on the same data reads typed arrays instead of parsing the CSV.
  const dataset = await loadDataVersion(ref, record.dataVersion?.id, { cache: true });
  const t1 = Date.now();
  const table = await predictDev(runDir, dataset);
  const t2 = Date.now();
  const tags = await readTags(projectDir);
  let tagRows = tagTable(table, tags);
  const history = opts.historyRuns ?? 3;
  if (history > 0 && tagRows.length) {
    const earlier: { runId: string; table: ErrorTable }[] = [];
    for (const r of await earlierRuns(projectDir, record, history)) {
      if (!existsSync(join(r.dir, 'model.onnx'))) continue;
      // Dev is the same across derived versions of one data file and split, so the base data will do.
      earlier.push({ runId: r.record.runId, table: await predictDev(r.dir, dataset) });
    }
    tagRows = withHistory(tagRows, earlier, tags);
  }
  const result: RunErrorAnalysis = {
    projectDir,
    record,
    dataset,
    ...(ref.spec.data.image
      ? { image: ref.spec.data.image }
      : dataset.schema.image
        ? { image: dataset.schema.image }
        : {}),
    table,
    sliceView: { schema: dataset.schema, rows: dataset.dev },
    tags,
    tagTable: tagRows,
    slices: [],
    timings: { loadMs: t1 - t0, predictMs: t2 - t1, analyseMs: Date.now() - t2 },
  };
  opts.onTable?.(result);
  const sliceView = await imageSliceView(dataset, projectDir);
  const slices = findSlices(sliceView.schema, sliceView.rows, table, {
    ...opts.slices,
    pixelFeatures: pixelFeaturesOf(dataset.schema, ref.spec.data.image),
  });
  const withSlices = { ...result, sliceView, slices, timings: { ...result.timings, analyseMs: Date.now() - t2 } };
  opts.onSlices?.(withSlices);
  // Image files, or a table of pixel columns (data.image): the closest training images of an example.
  const neighbours = dataset.schema.image
    ? await neighbourIndex(join(runDir, 'model.onnx'), dataset)
    : result.image && dataset.schema.numeric.length
      ? featureNeighbourIndex(dataset)
      : undefined;
  return { ...withSlices, ...(neighbours ? { neighbours } : {}) };
}

/**
 * Likely label errors of the run's data, cached in the run folder: cross-validation of a built-in
 * experiment over train and dev, or a script run's own dev predictions (out-of-sample already).
 */
export async function labelIssuesOfRun(opts: {
  projectDir: string;
  run: string;
  folds?: number;
  signal?: AbortSignal;
  recompute?: boolean;
  onFold?: (done: number, total: number) => void;
}): Promise<{ issues: LabelIssue[]; folds: number; cached: boolean }> {
  const ref = await resolveProject(opts.projectDir);
  const projectDir = dirname(ref.projectFile);
  const record = await findRun(projectDir, opts.run);
  const runDir = join(runsDir(projectDir), record.runId);
  const cacheFile = join(runDir, 'label-errors.json');
  // A script model is not retrained here: its dev predictions are out-of-sample (folds 0).
  const script = record.model === 'script';
  const folds = script ? 0 : (opts.folds ?? 5);
  if (!opts.recompute && existsSync(cacheFile)) {
    const cached = JSON.parse(await readFile(cacheFile, 'utf8')) as { folds: number; issues: LabelIssue[] };
    // Older caches named rows by their pooled index only: recomputed to name the data file's row.
    if (cached.folds === folds && cached.issues.every((x) => x.rowIndex !== undefined))
      return { ...cached, cached: true };
  }
  const dataset = await loadDataVersion(ref, record.dataVersion?.id);
  if (script) {
    if (dataset.schema.task !== 'classification')
      throw new Error('Label errors are found for classification projects only');
    const model = await ScriptModel.load(join(runDir, 'model.onnx'), dataset.schema);
    let probabilities: Float32Array | undefined;
    try {
      probabilities =
        model.plan.kind === 'label' && !model.plan.scores
          ? undefined
          : (await model.predictRows(dataset.dev)).probabilities;
    } finally {
      await model.release();
    }
    if (!probabilities) throw new Error("Label errors need the model's class scores: model.onnx returns labels only");
    const result = labelIssuesOfPredictions(dataset.dev, probabilities, dataset.schema.classes!.length, 'dev');
    opts.onFold?.(1, 1);
    await writeFile(cacheFile, JSON.stringify(result));
    return { ...result, cached: false };
  }
  const result = await findLabelIssues(dataset, retrainSpecOf(record), {
    folds,
    seed: record.seed ?? 0,
    signal: opts.signal,
    onFold: opts.onFold,
  });
  await writeFile(cacheFile, JSON.stringify(result));
  return { ...result, cached: false };
}

/** An augmentation as asked for: of image files, previewed then written with the same settings; of table rows, written. */
export interface AugmentRequest {
  projectDir: ProjectInput;
  parentVersion?: string;
  source: AugmentSource;
  count: number;
  seed: number;
  proposals?: TransformProposal[];
}

/** The plan of an image augmentation and its first images before and after (nothing is written). */
export async function previewImageAugmentation(
  opts: AugmentRequest & { previews?: number },
): Promise<{ plan: ImageAugmentPlan; previews: PreviewImage[]; dataVersion: string }> {
  const ref = await resolveProject(opts.projectDir);
  const projectDir = dirname(ref.projectFile);
  const dataset = await loadDataVersion(ref, opts.parentVersion, { cache: true });
  const plan = await planImageAugmentation({ ...opts, dataset, projectDir, tags: await readTags(projectDir) });
  return {
    plan,
    previews: await previewPlan(plan, projectDir, dataset, opts.previews),
    dataVersion: dataset.version.id,
  };
}

/**
 * A new data version: the parent plus `recipe.count` synthetic training examples made from the
 * source. Image projects (data.images, data.imageColumn): new image files made by transforms aimed
 * at the source (src/core/analysis/imageAugment.ts; `proposals` as the preview showed them).
 */
export async function augmentToVersion(opts: {
  projectDir: ProjectInput;
  parentVersion?: string;
  recipe: Omit<AugmentRecipe, 'method'> & { method?: AugmentRecipe['method'] };
  proposals?: TransformProposal[];
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}): Promise<VersionRecipe> {
  const ref = await resolveProject(opts.projectDir);
  const projectDir = dirname(ref.projectFile);
  const dataset = await loadDataVersion(ref, opts.parentVersion, { cache: true });
  if (dataset.schema.image && dataset.train.images) {
    const { source, count, seed } = opts.recipe;
    const plan = await planImageAugmentation({
      dataset,
      projectDir,
      source,
      count,
      seed,
      tags: await readTags(projectDir),
      ...(opts.proposals ? { proposals: opts.proposals } : {}),
    });
    // Checked before the images are rendered: nothing is written when the version cannot be.
    await assertInsideProject(projectDir, versionsDir(projectDir));
    const images = await renderPlan(plan, projectDir, dataset.schema.image, opts.onProgress, opts.signal);
    const { items: _, ...summary } = plan;
    return writeDataVersion(projectDir, dataset, {
      kind: 'augment',
      rows: emptyRows(),
      images,
      details: { ...summary, method: 'transforms' },
    });
  }
  const recipe: AugmentRecipe = { ...opts.recipe, method: opts.recipe.method ?? defaultMethod(ref.spec.data) };
  const production = productionQueueOf(await readReviewQueue(projectDir), dataset.schema).rows;
  const sources = sourceRows(dataset, recipe.source, await readTags(projectDir), production);
  const rows = augmentRows(dataset, sources, recipe, ref.spec.data.image);
  return writeDataVersion(projectDir, dataset, {
    kind: 'augment',
    rows,
    details: { ...recipe, sourceRows: sources.length },
  });
}

/** A new data version: the parent plus the labelled rows of a CSV (the schema's feature columns and the target). */
export async function addDataFromCsv(opts: {
  projectDir: string;
  parentVersion?: string;
  csvFile: string;
}): Promise<VersionRecipe> {
  const ref = await resolveProject(opts.projectDir);
  const projectDir = dirname(ref.projectFile);
  const dataset = await loadDataVersion(ref, opts.parentVersion);
  const rows = await readRowsCsv(dataset.schema, opts.csvFile);
  if (!rows.features.n) throw new Error(`${opts.csvFile} has no rows`);
  return writeDataVersion(projectDir, dataset, { kind: 'add', rows, details: { file: opts.csvFile } });
}

/** A new data version whose labels of the given example ids are corrected (class names). */
export async function fixLabels(opts: {
  projectDir: string;
  parentVersion?: string;
  fixes: Record<string, string>;
}): Promise<VersionRecipe> {
  const ref = await resolveProject(opts.projectDir);
  const projectDir = dirname(ref.projectFile);
  const dataset = await loadDataVersion(ref, opts.parentVersion);
  for (const [id, c] of Object.entries(opts.fixes)) {
    if (!dataset.schema.classes?.includes(c))
      throw new Error(`"${c}" is not a class (${dataset.schema.classes?.join(', ')})`);
    if (![dataset.train, dataset.dev, dataset.test].some((r) => r.ids.includes(id)))
      throw new Error(`No example "${id}" in the data`);
  }
  return writeDataVersion(projectDir, dataset, {
    kind: 'fix-labels',
    rows: emptyRows(),
    labelFixes: opts.fixes,
    details: { fixed: Object.keys(opts.fixes).length },
  });
}

/**
 * CSV of the examples of a tag or a slice (every split and the review queue's production examples,
 * with id, split, label and features): a brief for whoever collects more real data of that kind.
 */
export async function exportForCollection(opts: {
  projectDir: string;
  dataVersion?: string;
  source: { tag: string } | { slice: string };
  out: string;
}): Promise<number> {
  const ref = await resolveProject(opts.projectDir);
  const dataset = await loadDataVersion(ref, opts.dataVersion);
  const { schema } = dataset;
  const tags = await readTags(dirname(ref.projectFile));
  const conditions = 'slice' in opts.source ? parseSliceKey(opts.source.slice) : undefined;
  const F = schema.numeric.length;
  const K = schema.categorical.length;
  const records: string[][] = [['id', 'split', schema.target, 'tags', ...schema.numeric, ...schema.categorical]];
  // The review queue's production examples too (split "production", no label until feedback gave one).
  const production = productionQueueOf(await readReviewQueue(dirname(ref.projectFile)), schema).rows;
  for (const split of ['train', 'dev', 'test', 'production'] as const) {
    const rows = split === 'production' ? production : dataset[split];
    for (let i = 0; i < rows.features.n; i++) {
      const id = rows.ids[i];
      const match = conditions
        ? inSlice(schema, rows, i, conditions)
        : (tags[id] ?? []).includes((opts.source as { tag: string }).tag);
      if (!match) continue;
      const num = Array.from(rows.features.numeric.subarray(i * F, (i + 1) * F), (v) =>
        Number.isNaN(v) ? '' : String(v),
      );
      const label = Number.isNaN(rows.y[i]) ? '' : schema.classes ? schema.classes[rows.y[i]] : String(rows.y[i]);
      records.push([
        id,
        split,
        label,
        (tags[id] ?? []).join(';'),
        ...num,
        ...rows.features.categories.slice(i * K, (i + 1) * K),
      ]);
    }
  }
  await mkdir(dirname(opts.out), { recursive: true });
  await writeFile(opts.out, toCsv(records));
  return records.length - 1;
}
