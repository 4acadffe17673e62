// Predictions of a run's model.onnx through onnxruntime-node: what the deployed model would answer,
// in the shape trainers return (Prediction), so every diagnostic is computed from the ONNX model.

import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import type { FeatureSchema, Prediction, RawFeatures } from '../data/types';
import { BUILTIN_MODELS } from '../spec/types';
import { argmaxRows } from './argmax';
import { readMetadata } from './builder';
import { openSession } from './session';

/** Rows per session.run: bounds the tensors' memory on big splits (larger batches were no faster). */
const BATCH = 65536;

export class OnnxPredictor {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly schema: FeatureSchema,
    /**
     * The class of a row is the first maximum of its probabilities (builtin models: their `label` is
     * ArgMax of `probabilities`, src/core/train/outputs.ts): `label` is not fetched then, which spares
     * ONNX Runtime a string per row and this thread a lookup per row. Other models' labels are read.
     */
    readonly labelIsArgmax: boolean,
  ) {}

  /** A model file, or its bytes (a model just exported, not yet written). */
  static async load(model: string | Uint8Array, schema: FeatureSchema): Promise<OnnxPredictor> {
    const bytes = typeof model === 'string' ? await readFile(model) : model;
    const kind = readMetadata(bytes).model;
    const session = await openSession(bytes);
    return new OnnxPredictor(session, schema, (BUILTIN_MODELS as readonly string[]).includes(kind));
  }

  async predict(x: RawFeatures): Promise<Prediction> {
    const F = this.schema.numeric.length;
    const K = this.schema.categorical.length;
    const classes = this.schema.classes ?? [];
    const C = classes.length;
    const classOf = new Map(classes.map((c, i) => [c, i]));
    const isClassification = this.schema.task === 'classification';
    const fetches = !isClassification
      ? ['prediction']
      : this.labelIsArgmax
        ? ['probabilities']
        : ['probabilities', 'label'];
    const out: Prediction = isClassification
      ? { classIndex: new Int32Array(x.n), probabilities: new Float32Array(x.n * C) }
      : { values: new Float32Array(x.n) };
    for (let start = 0; start < x.n; start += BATCH) {
      const end = Math.min(x.n, start + BATCH);
      const m = end - start;
      const feeds: Record<string, ort.Tensor> = {
        features: new ort.Tensor('float32', x.numeric.subarray(start * F, end * F), [m, F]),
      };
      if (K > 0) feeds.categories = new ort.Tensor('string', x.categories.slice(start * K, end * K), [m, K]);
      const result = await this.session.run(feeds, fetches);
      if (!isClassification) {
        out.values!.set(result.prediction.data as Float32Array, start);
        continue;
      }
      const probabilities = result.probabilities.data as Float32Array;
      out.probabilities!.set(probabilities, start * C);
      if (this.labelIsArgmax) {
        out.classIndex!.set(argmaxRows(probabilities, m, C), start);
        continue;
      }
      const labels = result.label.data as string[];
      for (let i = 0; i < m; i++) {
        const c = classOf.get(labels[i]);
        if (c === undefined)
          throw new Error(
            `The model predicted "${labels[i]}", which is not a class of the data (${classes.join(', ')})`,
          );
        out.classIndex![start + i] = c;
      }
    }
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
