// The `embedding` output of an image model (float32 [N, D], the layer before the classifier): what
// monitoring compares between the training set and production images. Read by running the model on
// preprocessed pixels (uint8 [N, C, H, W], scaled to [0, 1] as every model input), in batches.
import * as ort from 'onnxruntime-node';
import { scaleToUnit } from '../data/images/pixels';
import { openSession } from './session';
import type { ImageShape } from '../data/types';

/** The output name image models give their embedding. */
export const EMBEDDING_OUTPUT = 'embedding';
/** Images per session.run (bounds the float32 copy of the batch). */
const EMBEDDING_BATCH = 256;

/** An image model's embeddings, or undefined when the model has no `embedding` output. */
export async function modelEmbeddings(
  model: string | Uint8Array,
  pixels: Uint8Array,
  n: number,
  shape: ImageShape,
): Promise<{ dim: number; data: Float32Array } | undefined> {
  const session = await openSession(model);
  try {
    const out = await sessionEmbeddings(session, pixels, n, shape);
    return out && out.dim ? out : undefined;
  } finally {
    await session.release();
  }
}

/**
 * The `embedding` output of an open session for n preprocessed images, run in batches; undefined when
 * the model has none. `allocate` makes the [n, dim] result once the first batch tells dim (a caller may
 * want it in shared memory); dim is 0 when n is 0.
 */
export async function sessionEmbeddings(
  session: ort.InferenceSession,
  pixels: Uint8Array,
  n: number,
  shape: ImageShape,
  allocate: (n: number, dim: number) => Float32Array = (rows, dim) => new Float32Array(rows * dim),
  batch = EMBEDDING_BATCH,
): Promise<{ dim: number; data: Float32Array } | undefined> {
  if (!session.outputNames.includes(EMBEDDING_OUTPUT)) return undefined;
  const size = shape.channels * shape.height * shape.width;
  let dim = 0;
  let data: Float32Array = new Float32Array(0);
  for (let start = 0; start < n; start += batch) {
    const count = Math.min(batch, n - start);
    const input = new ort.Tensor('float32', scaleToUnit(pixels.subarray(start * size, (start + count) * size)), [
      count,
      shape.channels,
      shape.height,
      shape.width,
    ]);
    const out = (await session.run({ image: input }, [EMBEDDING_OUTPUT]))[EMBEDDING_OUTPUT];
    const values = out.data as Float32Array;
    const width = out.dims.slice(1).reduce((a, b) => a * b, 1);
    if (out.dims[0] !== count || !width)
      throw new Error(`the model's "${EMBEDDING_OUTPUT}" output is not [N, D] (shape ${out.dims.join('×')})`);
    if (!dim) {
      dim = width;
      data = allocate(n, dim);
    } else if (width !== dim) throw new Error(`the model's "${EMBEDDING_OUTPUT}" output changed width between batches`);
    data.set(values.subarray(0, count * dim), start * dim);
  }
  return { dim, data };
}
