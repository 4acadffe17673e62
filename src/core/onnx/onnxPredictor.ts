// Predictions of a run's model.onnx through onnxruntime-node: what the deployed model would answer,
// in the shape trainers return (Prediction), so every diagnostic is computed from the ONNX model.

import * as ort from 'onnxruntime-node';
import type { FeatureSchema, Prediction, RawFeatures } from '../data/types';

/** Rows per session.run: bounds the tensors' memory on big splits. */
const BATCH = 16384;

export class OnnxPredictor {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly schema: FeatureSchema,
  ) {}

  static async load(modelPath: string, schema: FeatureSchema): Promise<OnnxPredictor> {
    const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    return new OnnxPredictor(session, schema);
  }

  async predict(x: RawFeatures): Promise<Prediction> {
    const F = this.schema.numeric.length;
    const K = this.schema.categorical.length;
    const classes = this.schema.classes ?? [];
    const C = classes.length;
    const classOf = new Map(classes.map((c, i) => [c, i]));
    const isClassification = this.schema.task === 'classification';
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
      const result = await this.session.run(feeds);
      if (isClassification) {
        out.probabilities!.set(result.probabilities.data as Float32Array, start * C);
        const labels = result.label.data as string[];
        for (let i = 0; i < m; i++) {
          const c = classOf.get(labels[i]);
          if (c === undefined)
            throw new Error(
              `The model predicted "${labels[i]}", which is not a class of the data (${classes.join(', ')})`,
            );
          out.classIndex![start + i] = c;
        }
      } else {
        out.values!.set(result.prediction.data as Float32Array, start);
      }
    }
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
