// The ONNX ArgMax rule on rows of scores: the index of each row's first maximum. Builtin models'
// `label` output is ArgMax of their probabilities (src/core/train/outputs.ts), so in-process
// predictions and readers of those models compute the label from the probabilities by this rule.

/** Index of the first maximum of each row of an n × c matrix. */
export function argmaxRows(p: Float32Array, n: number, c: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const row = i * c;
    let best = 0;
    let bestV = p[row];
    for (let k = 1; k < c; k++) {
      if (p[row + k] > bestV) {
        bestV = p[row + k];
        best = k;
      }
    }
    out[i] = best;
  }
  return out;
}
