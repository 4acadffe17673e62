// "Find more like these": from failing images (an error, a tag, a slice), the nearest images by the
// run's embedding (the model's `embedding` output, cosine distance) in the training set, the dev set
// and the project's unlabelled folder (data.unlabelled), so the user collects or labels more of
// exactly that kind. The query is the mean of the anchors' unit embeddings. Picked unlabelled images,
// labelled by the user, are copied into a new data version (never into the user's folders). The
// search itself is imageNeighbours.ts' brute-force k-NN.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { resolveProject, type ProjectInput } from '../data/dataset';
import {
  assertInsideProject,
  emptyRows,
  loadDataVersion,
  writeDataVersion,
  type NewVersionImage,
  type VersionRecipe,
} from '../data/dataVersions';
import { listUnlabelledImages } from '../data/images/layout';
import { planarToInterleaved } from '../data/images/pixels';
import { preprocessImage } from '../data/images/preprocess';
import type { ImageShape, Rows, SplitDataset } from '../data/types';
import { runDir, versionsDir } from '../spec/layout';
import type { ProjectSpec } from '../spec/types';
import { findRun } from '../track/findRun';
import { imageSliceView } from './imageSlices';
import { parseSliceKey, sliceRows } from './slices';
import { readTags } from './tags';
import { EMBEDDING_OUTPUT } from '../onnx/embeddings';
import { openSession } from '../onnx/session';
import {
  embeddingRows,
  nearestNeighbours,
  neighbourIndex,
  normaliseRows,
  type FeatureRows,
  type NeighbourIndex,
} from './imageNeighbours';

export type SimilarPlace = 'train' | 'dev' | 'unlabelled';
export const SIMILAR_PLACES: readonly SimilarPlace[] = ['train', 'dev', 'unlabelled'];

/** The run's model has no `embedding` output, so there is nothing to measure similarity by. */
export class NoEmbeddingError extends Error {
  override name = 'NoEmbeddingError';
  constructor(runId: string) {
    super(
      `Run ${runId}'s model.onnx has no "${EMBEDDING_OUTPUT}" output (float32 [N, D]): finding similar images and the embedding map need one. The built-in cnn exports it; a script model adds its penultimate layer as an output named "${EMBEDDING_OUTPUT}" (as examples/fashion/train_cnn.py does).`,
    );
  }
}

/** The unlabelled folder's images: embedded (unit rows), with their files (relative to the project) and pixels. */
export interface UnlabelledImages {
  folder: string;
  files: string[];
  /** uint8 [n, C, H, W], preprocessed as the project's images. */
  pixels: Uint8Array;
  rows: FeatureRows;
  /** Files that could not be read as images. */
  skipped: { file: string; error: string }[];
}

/**
 * Reads, preprocesses and embeds the images of data.unlabelled with the run's model. Throws
 * NoEmbeddingError when the model has no embedding; an empty set when the folder has no images.
 */
export async function embedUnlabelled(opts: {
  spec: ProjectSpec;
  projectDir: string;
  modelPath: string;
  runId: string;
  shape: ImageShape;
}): Promise<UnlabelledImages> {
  const { shape } = opts;
  if (opts.spec.data.unlabelled === undefined)
    throw new Error('mlloop.json names no unlabelled images folder: add "unlabelled": "incoming/" under "data"');
  const listing = await listUnlabelledImages(opts.spec, opts.projectDir);
  const fatal = listing.problems.find((p) => p.severity !== 'information');
  if (fatal) throw new Error(fatal.message);
  const size = shape.channels * shape.height * shape.width;
  const pixels = new Uint8Array(listing.files.length * size);
  const files: string[] = [];
  const skipped: UnlabelledImages['skipped'] = [];
  for (const file of listing.files) {
    try {
      const p = await preprocessImage(await readFile(file), shape);
      pixels.set(p.pixels, files.length * size);
      files.push(relative(opts.projectDir, file));
    } catch (e) {
      skipped.push({ file: relative(opts.projectDir, file), error: e instanceof Error ? e.message : String(e) });
    }
  }
  const n = files.length;
  const rows: Rows = {
    features: { n, numeric: new Float32Array(0), categories: [] },
    y: new Float64Array(n).fill(NaN),
    ids: files,
    rowIndex: new Uint32Array(n),
    images: { pixels: pixels.subarray(0, n * size), files },
  };
  const session = await openSession(opts.modelPath);
  try {
    const embedded = await embeddingRows(session, rows, shape);
    if (!embedded) throw new NoEmbeddingError(opts.runId);
    return { folder: listing.folder, files, pixels: rows.images!.pixels, rows: normaliseRows(embedded), skipped };
  } finally {
    await session.release();
  }
}

/** An anchor of the search: a row of the dataset's train or dev split. */
export interface SimilarAnchor {
  split: 'train' | 'dev';
  row: number;
}

export interface SimilarImage {
  place: SimilarPlace;
  /** Row of its split, or index among the unlabelled files. */
  row: number;
  /** Example id (train, dev); the file for unlabelled images. */
  id: string;
  /** Relative to the project folder. */
  file: string;
  /** Class index (train, dev); undefined for unlabelled images. */
  label?: number;
  /** 1 − cosine similarity to the anchors' mean embedding. */
  distance: number;
  /** With `withPixels`: the preprocessed image, channels last (HWC), as the panels draw it. */
  pixels?: number[];
}

/** The mean of the anchors' unit embeddings (the direction "like these" points to). */
export function anchorQuery(index: NeighbourIndex, anchors: readonly SimilarAnchor[]): Float32Array {
  if (!anchors.length) throw new Error('No image to search from');
  const dim = index.train.dim;
  const q = new Float32Array(dim);
  for (const a of anchors) {
    const m = index[a.split];
    if (a.row < 0 || a.row >= m.n) throw new Error(`No ${a.split} row ${a.row}`);
    for (let d = 0; d < dim; d++) q[d] += m.rows[a.row * dim + d];
  }
  return q;
}

/**
 * The k images nearest to the anchors in each place (anchors themselves left out), nearest first.
 * The index must be by the model's embedding (kind 'embedding'): else NoEmbeddingError.
 */
export function findSimilar(opts: {
  index: NeighbourIndex;
  runId: string;
  dataset: Pick<SplitDataset, 'train' | 'dev'>;
  anchors: readonly SimilarAnchor[];
  k: number;
  places?: readonly SimilarPlace[];
  unlabelled?: Pick<UnlabelledImages, 'rows' | 'files'>;
}): Record<SimilarPlace, SimilarImage[]> {
  const { index, dataset, anchors, k } = opts;
  if (index.kind !== 'embedding') throw new NoEmbeddingError(opts.runId);
  const places = opts.places ?? SIMILAR_PLACES;
  const query = anchorQuery(index, anchors);
  const out: Record<SimilarPlace, SimilarImage[]> = { train: [], dev: [], unlabelled: [] };
  for (const split of ['train', 'dev'] as const) {
    if (!places.includes(split)) continue;
    const exclude = new Set(anchors.filter((a) => a.split === split).map((a) => a.row));
    const rows = dataset[split];
    out[split] = nearestNeighbours(index[split], query, { k, metric: 'cosine', normalised: true, exclude })[0].map(
      (nb) => ({
        place: split,
        row: nb.row,
        id: rows.ids[nb.row],
        file: rows.images?.files[nb.row] ?? '',
        label: rows.y[nb.row],
        distance: nb.distance,
      }),
    );
  }
  if (places.includes('unlabelled') && opts.unlabelled && opts.unlabelled.rows.n) {
    const u = opts.unlabelled;
    out.unlabelled = nearestNeighbours(u.rows, query, { k, metric: 'cosine', normalised: true })[0].map((nb) => ({
      place: 'unlabelled',
      row: nb.row,
      id: u.files[nb.row],
      file: u.files[nb.row],
      distance: nb.distance,
    }));
  }
  return out;
}

/** The anchors of a set of example ids (dev first, then train); ids in neither split are named in the error. */
export function anchorsOfIds(dataset: Pick<SplitDataset, 'train' | 'dev'>, ids: readonly string[]): SimilarAnchor[] {
  const where = new Map<string, SimilarAnchor>();
  dataset.train.ids.forEach((id, row) => where.set(id, { split: 'train', row }));
  dataset.dev.ids.forEach((id, row) => where.set(id, { split: 'dev', row }));
  const missing = ids.filter((id) => !where.has(id));
  if (missing.length)
    throw new Error(
      `No training or dev image with id ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? '…' : ''}`,
    );
  return ids.map((id) => where.get(id)!);
}

/**
 * Labelled picks (image files, e.g. of the unlabelled folder) as new version images: each file's bytes
 * copied with its label and source. Refuses a file whose content is already a dev or test image
 * (training on it would leak the evaluation) and labels that are not classes.
 */
export async function labelledPicks(
  projectDir: string,
  dataset: SplitDataset,
  picks: readonly { file: string; label: string }[],
): Promise<NewVersionImage[]> {
  const classes = dataset.schema.classes ?? [];
  const held = new Set([...dataset.dev.ids, ...dataset.test.ids].map((id) => id.replace(/~\d+$/, '')));
  const out: NewVersionImage[] = [];
  for (const pick of picks) {
    if (!classes.includes(pick.label))
      throw new Error(`"${pick.label}" is not a class (${classes.join(', ')}): label ${pick.file} with one of them`);
    const abs = isAbsolute(pick.file) ? pick.file : resolve(projectDir, pick.file);
    const bytes = await readFile(abs).catch(() => {
      throw new Error(`Cannot read ${pick.file}`);
    });
    const id = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
    if (held.has(id))
      throw new Error(`${pick.file} is already a dev or test image: training on it would leak the evaluation`);
    await preprocessImage(bytes, dataset.schema.image!); // an unreadable image fails here, before anything is written
    const rel = relative(projectDir, abs);
    out.push({
      bytes,
      ext: extname(abs),
      label: pick.label,
      source: { file: rel.startsWith('..') || isAbsolute(rel) ? abs : rel, id },
    });
  }
  return out;
}

/** The anchors of a source: example ids, every tagged train/dev image of a tag, or the dev images of a slice. */
export async function anchorsOf(
  dataset: SplitDataset,
  projectDir: string,
  source: { ids: string[] } | { tag: string } | { slice: string },
): Promise<SimilarAnchor[]> {
  if ('ids' in source) return anchorsOfIds(dataset, source.ids);
  if ('tag' in source) {
    const tags = await readTags(projectDir);
    const out: SimilarAnchor[] = [];
    for (const split of ['train', 'dev'] as const)
      dataset[split].ids.forEach((id, row) => {
        if (tags[id]?.includes(source.tag)) out.push({ split, row });
      });
    if (!out.length) throw new Error(`No training or dev image carries the tag "${source.tag}"`);
    return out;
  }
  const view = await imageSliceView(dataset, projectDir, 'dev');
  const rows = sliceRows(view.schema, view.rows, parseSliceKey(source.slice));
  if (!rows.length) throw new Error(`No dev image is in the slice ${source.slice}`);
  return rows.map((row) => ({ split: 'dev', row }));
}

/**
 * The images like the given ones, by run `run`'s embedding: in the training set, the dev set and
 * data.unlabelled (when the project names one). What the CLI's `ml-loop similar` prints.
 */
export async function similarImagesOfRun(opts: {
  projectDir: ProjectInput;
  run: string;
  source: { ids: string[] } | { tag: string } | { slice: string };
  k?: number;
  places?: readonly SimilarPlace[];
  /** Attach each image's preprocessed pixels (for thumbnails). */
  withPixels?: boolean;
}): Promise<{
  runId: string;
  classes: string[];
  results: Record<SimilarPlace, SimilarImage[]>;
  skipped: UnlabelledImages['skipped'];
  /** data.unlabelled as mlloop.json names it (undefined: none). */
  unlabelledFolder?: string;
}> {
  const ref = await resolveProject(opts.projectDir);
  const projectDir = dirname(ref.projectFile);
  const record = await findRun(projectDir, opts.run);
  const modelPath = join(runDir(projectDir, record.runId), 'model.onnx');
  const dataset = await loadDataVersion(ref, record.dataVersion?.id, { cache: true });
  const shape = dataset.schema.image;
  if (!shape) throw new Error('Similar images need an image project (data.images or data.imageColumn)');
  const index = await neighbourIndex(modelPath, dataset);
  if (!index || index.kind !== 'embedding') throw new NoEmbeddingError(record.runId);
  const places = opts.places ?? SIMILAR_PLACES;
  const unlabelled =
    places.includes('unlabelled') && ref.spec.data.unlabelled !== undefined
      ? await embedUnlabelled({ spec: ref.spec, projectDir, modelPath, runId: record.runId, shape })
      : undefined;
  const results = findSimilar({
    index,
    runId: record.runId,
    dataset,
    anchors: await anchorsOf(dataset, projectDir, opts.source),
    k: opts.k ?? 8,
    places,
    ...(unlabelled ? { unlabelled } : {}),
  });
  if (opts.withPixels) {
    const size = shape.channels * shape.height * shape.width;
    const pixelsOf = (place: SimilarPlace) =>
      place === 'unlabelled' ? unlabelled!.pixels : dataset[place].images!.pixels;
    for (const place of SIMILAR_PLACES)
      for (const x of results[place])
        x.pixels = Array.from(
          planarToInterleaved(pixelsOf(place).subarray(x.row * size, (x.row + 1) * size), 0, shape),
        );
  }
  return {
    runId: record.runId,
    classes: dataset.schema.classes ?? [],
    results,
    skipped: unlabelled?.skipped ?? [],
    ...(ref.spec.data.unlabelled !== undefined ? { unlabelledFolder: ref.spec.data.unlabelled } : {}),
  };
}

/** A new data version: the parent plus labelled image files (copied under .mlloop/data/<id>/images/). */
export async function addLabelledImages(opts: {
  projectDir: ProjectInput;
  parentVersion?: string;
  picks: { file: string; label: string }[];
}): Promise<VersionRecipe> {
  const ref = await resolveProject(opts.projectDir);
  const projectDir = dirname(ref.projectFile);
  const dataset = await loadDataVersion(ref, opts.parentVersion, { cache: true });
  if (!dataset.schema.image) throw new Error('Labelled images are added to image projects only');
  if (!opts.picks.length) throw new Error('No image picked');
  await assertInsideProject(projectDir, versionsDir(projectDir));
  const images = await labelledPicks(projectDir, dataset, opts.picks);
  return writeDataVersion(projectDir, dataset, {
    kind: 'add',
    rows: emptyRows(),
    images,
    details: { images: images.length, from: [...new Set(opts.picks.map((p) => dirname(p.file)))].slice(0, 5) },
  });
}
