// Dense symmetric positive-definite solve by Cholesky factorization (A = L·Lᵀ), in float64.

import { TrainingError } from '../types';

/** Solves A x = b for a symmetric positive-definite D × D matrix A (row-major). A is not modified. */
export function choleskySolve(A: Float64Array, b: Float64Array, D: number): Float64Array {
  const L = new Float64Array(D * D);
  for (let i = 0; i < D; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * D + j];
      const ri = i * D;
      const rj = j * D;
      for (let k = 0; k < j; k++) s -= L[ri + k] * L[rj + k];
      if (i === j) {
        if (!(s > 0)) throw new TrainingError('The normal equations are not positive definite; increase l2', 'l2');
        L[ri + i] = Math.sqrt(s);
      } else {
        L[ri + j] = s / L[rj + j];
      }
    }
  }
  // Forward (L z = b), then backward (Lᵀ x = z).
  const x = Float64Array.from(b);
  for (let i = 0; i < D; i++) {
    let s = x[i];
    for (let k = 0; k < i; k++) s -= L[i * D + k] * x[k];
    x[i] = s / L[i * D + i];
  }
  for (let i = D - 1; i >= 0; i--) {
    let s = x[i];
    for (let k = i + 1; k < D; k++) s -= L[k * D + i] * x[k];
    x[i] = s / L[i * D + i];
  }
  return x;
}
