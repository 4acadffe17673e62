// The images of a window of an image deployment: each logged picture (kept beside the request log,
// src/core/requestLog/images.ts) is decoded and preprocessed exactly as the model takes it (the one
// preprocessing module), its properties are added to the property accumulators (judged by the same
// tests as tabular features), and the model's embeddings of the window are compared with the training
// set's by the domain classifier (./embeddingDrift.ts). Decoding runs on libuv's threads (sharp) and
// the model in onnxruntime: callers are the CLI or a worker, never the extension host's thread.
import { preprocessImage } from '../data/images/preprocess';
import { MONITORED_PROPERTIES, monitoredProperties } from '../data/images/properties';
import { modelEmbeddings } from '../onnx/embeddings';
import { readLoggedImage, type LoggedImage } from '../requestLog/images';
import { decodeEmbeddings, type MonitoringReference } from '../train/reference';
import { sampleRows } from '../train/imageReference';
import type { CategoricalAccumulator, NumericAccumulator } from './accumulate';
import { embeddingDrift, type EmbeddingDrift } from './embeddingDrift';
import type { ImageWindow, MonitoredImage } from './types';

/** One row of an image request in the window. */
export interface WindowImage extends MonitoredImage {
  image: LoggedImage;
}

/** Images shown in the panel (newest, and worst). */
export const SHOWN_IMAGES = 12;
/** Window images embedded at most (a seeded sample past that; the classifier balances to 1000 anyway). */
const MAX_EMBEDDED = 1000;
/** Decodes in flight (sharp queues them on libuv's pool). */
const CONCURRENCY = 4;

export interface ImageDriftResult {
  window: ImageWindow;
  embedding?: EmbeddingDrift;
  /** Why there is no embedding verdict, when there is none and the reference has embeddings. */
  embeddingIssue?: string;
}

/** Worst first: wrong on feedback, then least confident. */
function worstFirst(a: MonitoredImage, b: MonitoredImage): number {
  const wa = a.truth !== undefined && a.label !== undefined && a.truth !== a.label ? 1 : 0;
  const wb = b.truth !== undefined && b.label !== undefined && b.truth !== b.label ? 1 : 0;
  if (wa !== wb) return wb - wa;
  return (a.confidence ?? 1) - (b.confidence ?? 1);
}

function shown({ image: _, ...m }: WindowImage): MonitoredImage {
  return m;
}

/**
 * Decodes the window's images (newest first in `rows`), feeds their properties to `properties`
 * (accumulators of the reference's numeric properties, in MONITORED_PROPERTIES order) and `channels`,
 * and judges the embeddings against the reference's when `modelPath` has an `embedding` output.
 */
export async function imageWindowDrift(opts: {
  logDir: string;
  rows: WindowImage[];
  reference: MonitoringReference;
  /** Accumulators of the reference's numeric properties (by name, MONITORED_PROPERTIES). */
  properties: NumericAccumulator[];
  channels?: CategoricalAccumulator;
  modelPath?: string;
  /** The domain classifier's ROC AUC above which the embeddings drift. */
  aucThreshold?: number;
  signal?: AbortSignal;
}): Promise<ImageDriftResult> {
  const ref = opts.reference.image!;
  const shape = ref.shape;
  const size = shape.channels * shape.height * shape.width;
  const rows = opts.rows;
  const column = opts.properties.map((a) =>
    MONITORED_PROPERTIES.indexOf(a.ref.name as (typeof MONITORED_PROPERTIES)[number]),
  );
  const embedRows = new Set(sampleRows(rows.length, MAX_EMBEDDED, 3));
  const pixels = new Uint8Array(embedRows.size * size);
  const decoded: boolean[] = [];
  let embedded = 0;
  let missing = 0;
  // The same picture sent twice is stored (and decoded) once.
  const byFile = new Map<string, Promise<Uint8Array | undefined>>();
  const decode = (image: LoggedImage): Promise<Uint8Array | undefined> => {
    let p = byFile.get(image.file);
    if (!p) {
      const bytes = readLoggedImage(opts.logDir, image);
      p = bytes
        ? preprocessImage(bytes, shape).then(
            (r) => r.pixels,
            () => undefined,
          )
        : Promise.resolve(undefined);
      byFile.set(image.file, p);
    }
    return p;
  };
  for (let start = 0; start < rows.length; start += CONCURRENCY) {
    if (opts.signal?.aborted) throw new Error('monitoring was cancelled');
    const chunk = rows.slice(start, start + CONCURRENCY);
    const got = await Promise.all(chunk.map((r) => decode(r.image)));
    got.forEach((px, k) => {
      const i = start + k;
      const r = rows[i];
      if (!px) {
        missing++;
        decoded[i] = false;
        return;
      }
      decoded[i] = true;
      const values = monitoredProperties(px, shape, { width: r.image.width, height: r.image.height });
      for (let j = 0; j < opts.properties.length; j++) if (column[j] >= 0) opts.properties[j].add(values[column[j]]);
      opts.channels?.add(String(r.image.channels));
      if (embedRows.has(i)) {
        pixels.set(px, embedded * size);
        embedded++;
      }
    });
  }
  const present = rows.filter((_, i) => decoded[i]);
  const window: ImageWindow = {
    images: rows.length,
    missing,
    samples: present.slice(0, SHOWN_IMAGES).map(shown),
    worst: [...present].sort(worstFirst).slice(0, SHOWN_IMAGES).map(shown),
    reference: ref.samples,
  };
  if (!ref.embedding)
    return ref.embeddingError
      ? { window, embeddingIssue: `no embedding drift: the run's embeddings could not be read (${ref.embeddingError})` }
      : { window };
  if (!opts.modelPath) return { window, embeddingIssue: "the run's model.onnx is not there: no embedding drift" };
  const current = await modelEmbeddings(opts.modelPath, pixels.subarray(0, embedded * size), embedded, shape);
  if (!current) return { window, embeddingIssue: 'the model has no "embedding" output: no embedding drift' };
  if (current.dim !== ref.embedding.dim)
    return {
      window,
      embeddingIssue: `the model's embedding has ${current.dim} values, the reference's ${ref.embedding.dim}: no embedding drift`,
    };
  const embedding = embeddingDrift(decodeEmbeddings(ref.embedding), current.data, current.dim, {
    threshold: opts.aucThreshold,
  });
  return embedding
    ? { window, embedding }
    : { window, embeddingIssue: `too few images in the window (${embedded}) for embedding drift` };
}
