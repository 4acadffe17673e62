// The training images closest to an example: a brute-force k-nearest-neighbour search over Float32
// feature rows (cosine or L2), overall or per class. The rows are the model's `embedding` output when
// its model.onnx has one (what the network sees), else the preprocessed pixels scaled to [0, 1],
// average-pooled when a dataset's rows would not fit the memory budget. Error Analysis shows an
// error's neighbours of each class (is it a near copy of a training image of another class?); "find
// more like these" ranks unlabelled images the same way. Brute force: thousands of rows of a few
// hundred values take milliseconds, and the answer is exact. Runs in the error-analysis worker.
import * as ort from 'onnxruntime-node';
import type { ImageShape, Rows } from '../data/types';
import { EMBEDDING_OUTPUT, sessionEmbeddings } from '../onnx/embeddings';
import { openSession } from '../onnx/session';

export type NeighbourMetric = 'cosine' | 'l2';

/** n rows of dim values, row-major. */
export interface FeatureRows {
  rows: Float32Array;
  n: number;
  dim: number;
}

export interface Neighbour {
  /** Row of the searched FeatureRows. */
  row: number;
  /** Cosine: 1 − cosine similarity (0 = same direction); L2: Euclidean distance. */
  distance: number;
}

/** Feature rows are kept under this many values (64 MB of float32): larger pixel rows are pooled. */
export const FEATURE_BUDGET = 16 * 1024 * 1024;

/** A FeatureRows whose values live in a SharedArrayBuffer: workers given it read the same memory, no copy. */
export function sharedRows(n: number, dim: number): FeatureRows {
  return { rows: new Float32Array(new SharedArrayBuffer(n * dim * 4)), n, dim };
}

/**
 * Preprocessed pixels (uint8 [n, C, H, W]) as feature rows in [0, 1]: average-pooled by the smallest
 * integer factor that brings a row to at most `maxDim` values (28×28 grey images stay whole).
 */
export function pixelRows(pixels: Uint8Array, n: number, shape: ImageShape, maxDim = 1024): FeatureRows {
  const { height: H, width: W, channels: C } = shape;
  let f = 1;
  while (C * Math.ceil(H / f) * Math.ceil(W / f) > maxDim) f++;
  const h = Math.ceil(H / f);
  const w = Math.ceil(W / f);
  const dim = C * h * w;
  const out = sharedRows(n, dim);
  const size = C * H * W;
  for (let i = 0; i < n; i++) {
    const src = i * size;
    const dst = i * dim;
    for (let c = 0; c < C; c++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          let sum = 0;
          let count = 0;
          for (let yy = y * f; yy < Math.min(H, (y + 1) * f); yy++)
            for (let xx = x * f; xx < Math.min(W, (x + 1) * f); xx++, count++)
              sum += pixels[src + c * H * W + yy * W + xx];
          out.rows[dst + c * h * w + y * w + x] = sum / (count * 255);
        }
  }
  return out;
}

/** The largest row width that keeps `n` rows within FEATURE_BUDGET (at least 16). */
export function maxDimFor(n: number): number {
  return Math.max(16, Math.floor(FEATURE_BUDGET / Math.max(1, n)));
}

/** Whether an image model has an `embedding` output. */
export function hasEmbedding(session: ort.InferenceSession): boolean {
  return session.outputNames.includes(EMBEDDING_OUTPUT);
}

/** The model's `embedding` output for the rows' images, in batches; undefined when the model has none. */
export async function embeddingRows(
  session: ort.InferenceSession,
  rows: Rows,
  shape: ImageShape,
  batch = 256,
): Promise<FeatureRows | undefined> {
  if (!rows.images) return undefined;
  const n = rows.features.n;
  let out: FeatureRows | undefined;
  const read = await sessionEmbeddings(
    session,
    rows.images.pixels,
    n,
    shape,
    (count, dim) => (out = sharedRows(count, dim)).rows,
    batch,
  );
  if (!read) return undefined;
  return out ?? sharedRows(0, 1);
}

/** Scales every row to unit length in place (zero rows stay zero): cosine distance is then 1 − dot. */
export function normaliseRows(m: FeatureRows): FeatureRows {
  for (let i = 0; i < m.n; i++) {
    const o = i * m.dim;
    let s = 0;
    for (let d = 0; d < m.dim; d++) s += m.rows[o + d] * m.rows[o + d];
    if (s > 0) {
      const inv = 1 / Math.sqrt(s);
      for (let d = 0; d < m.dim; d++) m.rows[o + d] *= inv;
    }
  }
  return m;
}

export interface SearchOptions {
  k: number;
  metric: NeighbourMetric;
  /** Cosine: the rows are unit length already (normaliseRows), so only the query is normalised. */
  normalised?: boolean;
  /** A group per row (e.g. its class): the k nearest of each group are returned. Rows of group < 0 are skipped. */
  groups?: ArrayLike<number>;
  /** Number of groups (default: 1 + the largest group). */
  groupCount?: number;
  /** Rows never returned (the query itself, when it is one of the rows). */
  exclude?: ReadonlySet<number>;
}

/**
 * The k nearest rows of `m` to `query` (dim values): one list per group (one list without groups),
 * nearest first; ties keep the lower row first.
 */
export function nearestNeighbours(m: FeatureRows, query: ArrayLike<number>, opts: SearchOptions): Neighbour[][] {
  const { k, metric } = opts;
  const dim = m.dim;
  if (query.length !== dim) throw new Error(`The query has ${query.length} values, the rows ${dim}`);
  const groups = opts.groups;
  let G = opts.groupCount ?? 1;
  if (groups && opts.groupCount === undefined) for (let i = 0; i < m.n; i++) G = Math.max(G, groups[i] + 1);
  const q = Float32Array.from(query);
  let qq = 0;
  for (let d = 0; d < dim; d++) qq += q[d] * q[d];
  if (metric === 'cosine' && qq > 0) {
    const inv = 1 / Math.sqrt(qq);
    for (let d = 0; d < dim; d++) q[d] *= inv;
    qq = 1;
  }
  // Per group: the best k so far, sorted by distance (k is small: insertion is cheapest).
  const best: Neighbour[][] = Array.from({ length: G }, () => []);
  const rows = m.rows;
  for (let i = 0; i < m.n; i++) {
    const g = groups ? groups[i] : 0;
    if (g < 0 || g >= G || opts.exclude?.has(i)) continue;
    const o = i * dim;
    let distance: number;
    if (metric === 'l2') {
      let ss = 0;
      for (let d = 0; d < dim; d++) {
        const diff = rows[o + d] - q[d];
        ss += diff * diff;
      }
      distance = Math.sqrt(ss);
    } else if (opts.normalised) {
      let dot = 0;
      for (let d = 0; d < dim; d++) dot += rows[o + d] * q[d];
      distance = 1 - dot;
    } else {
      let dot = 0;
      let rr = 0;
      for (let d = 0; d < dim; d++) {
        const v = rows[o + d];
        dot += v * q[d];
        rr += v * v;
      }
      distance = rr > 0 && qq > 0 ? 1 - dot / Math.sqrt(rr) : 1;
    }
    const list = best[g];
    if (list.length === k && distance >= list[k - 1].distance) continue;
    let at = list.length;
    while (at > 0 && list[at - 1].distance > distance) at--;
    list.splice(at, 0, { row: i, distance });
    if (list.length > k) list.pop();
  }
  return best;
}

/** The searchable rows of a run's image data: its training images (the neighbours) and dev images (the queries). */
export interface NeighbourIndex {
  /** What the rows are: the model's `embedding` output, or the preprocessed pixels (pooled to fit). */
  kind: 'embedding' | 'pixels';
  metric: NeighbourMetric;
  /** Cosine rows are stored unit length. */
  normalised: boolean;
  /** Train rows, then dev rows: both in SharedArrayBuffers (a search worker reads them without a copy). */
  train: FeatureRows;
  dev: FeatureRows;
}

/**
 * The neighbour index of an image dataset under the run's model (model.onnx): its embedding with
 * cosine distance when it has one, else the pixels with L2 distance (brightness and position count).
 */
export async function neighbourIndex(
  modelPath: string,
  dataset: { train: Rows; dev: Rows; schema: { image?: ImageShape } },
): Promise<NeighbourIndex | undefined> {
  const shape = dataset.schema.image;
  if (!shape || !dataset.train.images || !dataset.dev.images) return undefined;
  const session = await openSession(modelPath);
  try {
    if (hasEmbedding(session)) {
      const train = (await embeddingRows(session, dataset.train, shape))!;
      const dev = (await embeddingRows(session, dataset.dev, shape))!;
      return {
        kind: 'embedding',
        metric: 'cosine',
        normalised: true,
        train: normaliseRows(train),
        dev: normaliseRows(dev),
      };
    }
  } finally {
    await session.release();
  }
  const maxDim = maxDimFor(dataset.train.features.n + dataset.dev.features.n);
  return {
    kind: 'pixels',
    metric: 'l2',
    normalised: false,
    train: pixelRows(dataset.train.images.pixels, dataset.train.features.n, shape, maxDim),
    dev: pixelRows(dataset.dev.images.pixels, dataset.dev.features.n, shape, maxDim),
  };
}

/**
 * The neighbour index of a table whose numeric features are an image's pixels (`data.image` over CSV
 * columns, as the digits sample): those values as they are, with L2 distance.
 */
export function featureNeighbourIndex(dataset: {
  train: Rows;
  dev: Rows;
  schema: { numeric: string[] };
}): NeighbourIndex {
  const dim = dataset.schema.numeric.length;
  const copy = (rows: Rows): FeatureRows => {
    const out = sharedRows(rows.features.n, dim);
    out.rows.set(rows.features.numeric.subarray(0, rows.features.n * dim));
    return out;
  };
  return { kind: 'pixels', metric: 'l2', normalised: false, train: copy(dataset.train), dev: copy(dataset.dev) };
}

/** The k training rows nearest to dev row `devRow`, per class (`classOf`: the class of each train row). */
export function nearestOfEachClass(
  index: NeighbourIndex,
  devRow: number,
  classOf: ArrayLike<number>,
  classes: number,
  k: number,
): Neighbour[][] {
  const { dev } = index;
  if (devRow < 0 || devRow >= dev.n) throw new Error(`No dev row ${devRow} (${dev.n} rows)`);
  return nearestNeighbours(index.train, dev.rows.subarray(devRow * dev.dim, (devRow + 1) * dev.dim), {
    k,
    metric: index.metric,
    normalised: index.normalised,
    groups: classOf,
    groupCount: classes,
  });
}
