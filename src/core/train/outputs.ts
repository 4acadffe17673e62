// The output contract of every model ML Loop makes:
//   classification: `label` (string [N], class names) and `probabilities` (float [N, C], class order)
//   regression:     `prediction` (float [N])
// Model kinds compute their scores and call one of these helpers to declare the outputs.

import type { OnnxGraphBuilder } from '../onnx/builder';

export function appendClassifierOutputsFromProbabilities(b: OnnxGraphBuilder, probs: string, classes: string[]): void {
  b.addNode('Identity', [probs], ['probabilities']);
  b.addOutput('probabilities', 'float', ['N', classes.length]);
  // ArgMax picks the first maximum, as argmaxRows (src/core/onnx/argmax.ts) does.
  const [index] = b.addNode('ArgMax', [probs], 1, { axis: 1, keepdims: 0 });
  b.addNode(
    'LabelEncoder',
    [index],
    ['label'],
    { keys_int64s: classes.map((_, i) => i), values_strings: classes, default_string: '' },
    'ai.onnx.ml',
  );
  b.addOutput('label', 'string', ['N']);
}

export function appendClassifierOutputsFromLogits(b: OnnxGraphBuilder, logits: string, classes: string[]): void {
  const [probs] = b.addNode('Softmax', [logits], 1, { axis: 1 });
  appendClassifierOutputsFromProbabilities(b, probs, classes);
}

/** `values` may be [N, 1] or [N]; it is reshaped to [N]. */
export function appendRegressionOutput(b: OnnxGraphBuilder, values: string): void {
  const shape = b.addInitializer('prediction_shape', BigInt64Array.of(-1n), [1], 'int64');
  b.addNode('Reshape', [values, shape], ['prediction']);
  b.addOutput('prediction', 'float', ['N']);
}

/**
 * Cross-entropy of the logits h[at .. at + c) against class `target` (log-sum-exp minus the target's
 * logit, finite for any finite logits), and whether the row's first maximum is the target.
 */
export function logitLoss(h: ArrayLike<number>, at: number, c: number, target: number): { loss: number; hit: boolean } {
  let max = -Infinity;
  let arg = 0;
  for (let j = 0; j < c; j++) {
    if (h[at + j] > max) {
      max = h[at + j];
      arg = j;
    }
  }
  let sum = 0;
  for (let j = 0; j < c; j++) sum += Math.exp(h[at + j] - max);
  return { loss: Math.log(sum) + max - h[at + target], hit: arg === target };
}

/**
 * Row-wise softmax in place, in float32 like onnxruntime's Softmax: subtract the row max,
 * exponentiate, divide by the sum. Input logits are float32 values.
 */
export function softmaxRowsInPlace(z: Float32Array, n: number, c: number): void {
  for (let i = 0; i < n; i++) {
    const row = i * c;
    let m = -Infinity;
    for (let k = 0; k < c; k++) if (z[row + k] > m) m = z[row + k];
    let s = 0;
    for (let k = 0; k < c; k++) {
      const e = Math.exp(z[row + k] - m);
      z[row + k] = e;
      s += e;
    }
    for (let k = 0; k < c; k++) z[row + k] = z[row + k] / s;
  }
}
