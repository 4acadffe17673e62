// The check that a tabular model's exported ONNX file answers as the trained model does. A training
// job evaluates every split in-process (the trainer's own predictor: for GBDT the WebAssembly kernel,
// several times faster than ONNX Runtime on a large split); the metrics stand for the deployed model
// because ONNX Runtime, run on the model just exported, must give the same predictions on a sample of
// every split's rows, or the run fails naming the row and the output that differ.

import type { FeatureSchema, Prediction, RawFeatures, Rows } from '../data/types';
import { OnnxPredictor } from '../onnx/onnxPredictor';
import { TrainingError } from './types';

/** Rows checked per split: evenly spaced, so every part of the split is seen. */
export const EXPORT_CHECK_ROWS = 1000;
/**
 * Largest |Δ| allowed between the two runtimes: a probability, or a regression value relative to
 * max(1, |value|). The parity tests hold every builtin model within 1e-5; a broken export is off by far more.
 */
export const EXPORT_CHECK_TOLERANCE = 1e-4;

export interface CheckedSplit {
  name: 'train' | 'dev' | 'test';
  rows: Rows;
  /** The in-process prediction of every row of the split. */
  prediction: Prediction;
}

/** The row indices checked in a split of n rows (all of them when n ≤ perSplit). */
export function checkedRows(n: number, perSplit = EXPORT_CHECK_ROWS): Int32Array {
  const m = Math.min(n, perSplit);
  return Int32Array.from({ length: m }, (_, k) => Math.floor((k * n) / m));
}

/**
 * Runs the exported model in ONNX Runtime on a sample of each split's rows and throws a TrainingError
 * at the first row whose prediction differs from the in-process one. Returns how many rows were checked.
 */
export async function checkExportedModel(
  onnx: Uint8Array,
  schema: FeatureSchema,
  splits: CheckedSplit[],
  perSplit = EXPORT_CHECK_ROWS,
): Promise<number> {
  const F = schema.numeric.length;
  const K = schema.categorical.length;
  const picked = splits.map((s) => checkedRows(s.rows.features.n, perSplit));
  const n = picked.reduce((sum, p) => sum + p.length, 0);
  if (n === 0) return 0;
  const sample: RawFeatures = { n, numeric: new Float32Array(n * F), categories: new Array<string>(n * K) };
  let at = 0;
  for (let s = 0; s < splits.length; s++) {
    const f = splits[s].rows.features;
    for (const i of picked[s]) {
      sample.numeric.set(f.numeric.subarray(i * F, (i + 1) * F), at * F);
      for (let c = 0; c < K; c++) sample.categories[at * K + c] = f.categories[i * K + c];
      at++;
    }
  }
  const session = await OnnxPredictor.load(onnx, schema);
  let exported: Prediction;
  try {
    exported = await session.predict(sample);
  } finally {
    await session.release();
  }
  at = 0;
  for (let s = 0; s < splits.length; s++) {
    for (const i of picked[s]) {
      const difference = rowDifference(schema, splits[s].prediction, i, exported, at++);
      if (difference)
        throw new TrainingError(
          `The exported ONNX model does not answer as the trained model on ${splits[s].name} row ${i}: ${difference}. This is a defect of the ONNX export, not of the data or parameters: the model is not saved.`,
        );
    }
  }
  return n;
}

/** Whether a and b are further apart than `tolerance` (both NaN: not). */
const differs = (a: number, b: number, tolerance: number) =>
  !(Number.isNaN(a) && Number.isNaN(b)) && !(Math.abs(a - b) <= tolerance);

/** What differs between the in-process prediction of row i and ONNX Runtime's of sample row j, if anything. */
function rowDifference(schema: FeatureSchema, trained: Prediction, i: number, exported: Prediction, j: number) {
  if (schema.task === 'regression') {
    const [a, b] = [trained.values![i], exported.values![j]];
    return differs(a, b, EXPORT_CHECK_TOLERANCE * Math.max(1, Math.abs(a)))
      ? `ONNX Runtime predicts ${b}, the trainer ${a}`
      : undefined;
  }
  const classes = schema.classes!;
  const C = classes.length;
  for (let c = 0; c < C; c++) {
    const [a, b] = [trained.probabilities![i * C + c], exported.probabilities![j * C + c]];
    if (differs(a, b, EXPORT_CHECK_TOLERANCE))
      return `the probability of "${classes[c]}" is ${b} in ONNX Runtime, ${a} in the trainer`;
  }
  const [a, b] = [trained.classIndex![i], exported.classIndex![j]];
  // Two classes whose probabilities are within the tolerance of each other in both runtimes may rank either way.
  if (
    a !== b &&
    differs(trained.probabilities![i * C + a], trained.probabilities![i * C + b], 2 * EXPORT_CHECK_TOLERANCE)
  )
    return `ONNX Runtime predicts "${classes[b]}", the trainer "${classes[a]}"`;
  return undefined;
}
