// The `embedding` output of an image model (float32 [N, D], the layer before the classifier): what
// monitoring compares between the training set and production images. Read by running the model on
// preprocessed pixels (uint8 [N, C, H, W], scaled to [0, 1] as every model input), in batches.
import * as ort from 'onnxruntime-node';
import { scaleToUnit } from '../data/images/pixels';
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
  const session =
    typeof model === 'string'
      ? await ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1 })
      : await ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    if (!session.outputNames.includes(EMBEDDING_OUTPUT)) return undefined;
    const size = shape.channels * shape.height * shape.width;
    let dim = 0;
    let data = new Float32Array(0);
    for (let start = 0; start < n; start += EMBEDDING_BATCH) {
      const count = Math.min(EMBEDDING_BATCH, n - start);
      const input = new ort.Tensor('float32', scaleToUnit(pixels.subarray(start * size, (start + count) * size)), [
        count,
        shape.channels,
        shape.height,
        shape.width,
      ]);
      const out = (await session.run({ image: input }, [EMBEDDING_OUTPUT]))[EMBEDDING_OUTPUT];
      const values = out.data as Float32Array;
      if (!dim) {
        dim = values.length / count;
        if (!Number.isInteger(dim) || dim < 1)
          throw new Error(`the model's "${EMBEDDING_OUTPUT}" output is not [N, D] (shape ${out.dims.join('×')})`);
        data = new Float32Array(n * dim);
      }
      data.set(values.subarray(0, count * dim), start * dim);
    }
    return dim ? { dim, data } : undefined;
  } finally {
    await session.release();
  }
}
