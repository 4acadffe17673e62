// The best split of a leaf over a range of columns, from its histogram. Self-contained on purpose
// (no imports, no outer names, no nested functions): the histogram helper thread runs the very same
// function from its source text (workspace.ts), each thread over its own columns, and the caller
// keeps the first of the two results unless the second's gain is strictly larger — the same split a
// single pass over every column finds.

/** Values per result written by bestSplit: gain, feature, bin, missingLeft (0/1), left g sum, left h sum. */
export const SPLIT_RESULT_SIZE = 6;

/**
 * Best split over columns [fStart, fEnd) of a leaf of C rows with gradient sum G and hessian sum H,
 * both directions for missing values; ties keep the first found (a strictly larger gain replaces).
 * Writes [gain, feature, bin, missingLeft, leftG, leftH] at out[at..]; gain 0 and feature -1 when
 * no split has a positive gain. `hist` holds (g, h, count, padding) per bin of every column (ENTRY = 4
 * float32 values, see workspace.ts), column f's bins from entry featureOffset[f], its missing-value
 * bin last (index nBins[f]). The sums run in float64.
 */
export function bestSplit(
  hist: Float32Array,
  nBins: Uint16Array,
  featureOffset: Int32Array,
  fStart: number,
  fEnd: number,
  C: number,
  G: number,
  H: number,
  l2: number,
  minSamplesLeaf: number,
  minHessian: number,
  out: Float64Array,
  at: number,
): void {
  const parentScore = (G * G) / (H + l2);
  let bestGain = 0;
  let bestFeature = -1;
  let bestBin = -1;
  let bestMissingLeft = 0;
  let bestG = 0;
  let bestH = 0;
  for (let f = fStart; f < fEnd; f++) {
    const nb = nBins[f];
    const off = featureOffset[f] * 4;
    const miss = off + nb * 4;
    const gM = hist[miss];
    const hM = hist[miss + 1];
    const cM = hist[miss + 2];
    let gL = 0;
    let hL = 0;
    let cL = 0;
    if (cM === 0) {
      // No missing values here (the common case), so one side per threshold: the same sums and
      // comparisons as the general loop below, without its per-bin side loop. The left count only
      // grows, so once the right side is too small it stays so.
      for (let t = 0; t <= nb - 2; t++) {
        const idx = off + t * 4;
        const c = hist[idx + 2];
        // An empty bin changes no sum: its split is the previous one, already weighed.
        if (c === 0) continue;
        gL += hist[idx];
        hL += hist[idx + 1];
        cL += c;
        if (cL < minSamplesLeaf) continue;
        if (C - cL < minSamplesLeaf) break;
        if (hL < minHessian || H - hL < minHessian) continue;
        const gR = G - gL;
        const gain = (gL * gL) / (hL + l2) + (gR * gR) / (H - hL + l2) - parentScore;
        if (gain > bestGain) {
          bestGain = gain;
          bestFeature = f;
          bestBin = t;
          // Unseen NaN follow the larger child, as scikit-learn does.
          bestMissingLeft = 2 * cL >= C ? 1 : 0;
          bestG = gL;
          bestH = hL;
        }
      }
      continue;
    }
    // t = nb - 1 (all non-missing left, missing right) only makes sense when there are missing values.
    const lastT = nb - 1;
    for (let t = 0; t <= lastT; t++) {
      const idx = off + t * 4;
      gL += hist[idx];
      hL += hist[idx + 1];
      cL += hist[idx + 2];
      // Side 0: missing values go right. Side 1: they go left.
      const sides = t < nb - 1 ? 2 : 1;
      for (let side = 0; side < sides; side++) {
        const gl = side === 0 ? gL : gL + gM;
        const hl = side === 0 ? hL : hL + hM;
        const cl = side === 0 ? cL : cL + cM;
        if (cl < minSamplesLeaf || C - cl < minSamplesLeaf || hl < minHessian || H - hl < minHessian) continue;
        const gR = G - gl;
        const gain = (gl * gl) / (hl + l2) + (gR * gR) / (H - hl + l2) - parentScore;
        if (gain > bestGain) {
          bestGain = gain;
          bestFeature = f;
          bestBin = t;
          bestMissingLeft = side;
          bestG = gl;
          bestH = hl;
        }
      }
    }
  }
  out[at] = bestGain;
  out[at + 1] = bestFeature;
  out[at + 2] = bestBin;
  out[at + 3] = bestMissingLeft;
  out[at + 4] = bestG;
  out[at + 5] = bestH;
}
