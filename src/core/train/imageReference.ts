// The monitoring reference of an image run (what production images are compared with): the training
// images' properties (brightness, contrast, sharpness, …, the size they were stored at, their channels)
// as feature references, so the existing drift tests judge them, a seeded sample of the model's
// embeddings of the training images (for the domain classifier), and a few training files to show
// beside production ones. Reads image headers (sharp) and runs the model: callers are workers.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readImageInfo, uprightSize } from '../data/images/preprocess';
import { MONITORED_CHANNELS, MONITORED_PROPERTIES, monitoredProperties } from '../data/images/properties';
import { mulberry32, randomIndices } from '../data/prng';
import type { ImageShape, Rows } from '../data/types';
import { modelEmbeddings } from '../onnx/embeddings';
import {
  categoricalReference,
  encodeEmbeddings,
  numericReference,
  type FeatureReference,
  type ImageReference,
} from './reference';

/** Training images whose properties make the reference (a seeded sample past that). */
export const REFERENCE_IMAGES = 2000;
/** Training embeddings kept for the domain classifier. */
export const REFERENCE_EMBEDDINGS = 1000;
/** Training images shown beside production ones in the Monitoring panel. */
export const REFERENCE_SAMPLES = 12;

/** `k` distinct row indices of `n`, seeded, in ascending order (all rows when k ≥ n). */
export function sampleRows(n: number, k: number, seed = 0): Int32Array {
  if (k >= n) return Int32Array.from({ length: n }, (_, i) => i);
  return randomIndices(n, k, mulberry32(seed)).sort();
}

/** The image part of an image run's reference: property references (features) and the ImageReference. */
export async function imageReference(
  shape: ImageShape,
  train: Rows,
  projectDir: string,
  /** The run's ONNX model (file or bytes), for its embeddings; none: no embedding reference. */
  model?: string | Uint8Array,
): Promise<{ features: FeatureReference[]; image: ImageReference }> {
  const images = train.images;
  if (!images) throw new Error('the training rows of an image run carry no images');
  const n = train.features.n;
  const size = shape.channels * shape.height * shape.width;
  const rows = sampleRows(n, REFERENCE_IMAGES);
  const P = MONITORED_PROPERTIES.length;
  const values = new Float64Array(rows.length * P);
  const channels: string[] = [];
  for (const [k, i] of rows.entries()) {
    const file = images.files[i];
    let source = { width: NaN, height: NaN };
    let stored = '';
    try {
      const info = await readImageInfo(await readFile(join(projectDir, file)));
      source = uprightSize(info);
      stored = String(info.channels);
    } catch {
      // The file changed or went since the split was loaded: its size and channels count as missing.
    }
    channels.push(stored);
    values.set(monitoredProperties(images.pixels.subarray(i * size, (i + 1) * size), shape, source), k * P);
  }
  // A grey model's preprocessed pixels have no colour whatever was sent: colourfulness is left out.
  const features: FeatureReference[] = [
    ...MONITORED_PROPERTIES.flatMap((name, j) =>
      name === 'colourfulness' && shape.channels === 1
        ? []
        : [
            numericReference(
              name,
              Float64Array.from(rows, (_, k) => values[k * P + j]),
            ),
          ],
    ),
    categoricalReference(MONITORED_CHANNELS, channels),
  ];
  const image: ImageReference = {
    shape: { height: shape.height, width: shape.width, channels: shape.channels },
    samples: Array.from(sampleRows(n, REFERENCE_SAMPLES, 1), (i) => images.files[i]),
  };
  if (model !== undefined) {
    const e = sampleRows(n, REFERENCE_EMBEDDINGS, 2);
    const pixels = new Uint8Array(e.length * size);
    e.forEach((i, k) => pixels.set(images.pixels.subarray(i * size, (i + 1) * size), k * size));
    try {
      const out = await modelEmbeddings(model, pixels, e.length, shape);
      if (out) image.embedding = { dim: out.dim, rows: e.length, data: encodeEmbeddings(out.data) };
    } catch (err) {
      // A model whose `embedding` output cannot be read still gets its run; the property drift stands alone.
      image.embeddingError = (err as Error).message;
    }
  }
  return { features, image };
}
