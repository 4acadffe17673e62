// Rows of a split: picking them by index (the learning curve's training subsets, the label-error
// check's folds, augmentation's sources), and the content id of an example outside the data file.
import { createHash } from 'node:crypto';
import type { Rows } from './types';

/**
 * The content id of an example: its cells (features in schema order, then the label; a missing
 * cell empty) hashed. The rows of a derived data version (rows.csv) and the production examples
 * of the request log get their ids this way, so the same example has the same id in both.
 */
export function exampleId(cells: string[]): string {
  return 'x' + createHash('sha256').update(cells.join('\u001f')).digest('hex').slice(0, 15);
}

/** The rows at `indices`, in that order. */
export function selectRows(
  rows: Rows,
  indices: ArrayLike<number>,
  numericWidth: number,
  categoricalWidth: number,
): Rows {
  const n = indices.length;
  const numeric = new Float32Array(n * numericWidth);
  const categories: string[] = new Array(n * categoricalWidth);
  const y = new Float64Array(n);
  const rowIndex = new Uint32Array(n);
  const ids: string[] = new Array(n);
  for (let k = 0; k < n; k++) {
    const i = indices[k];
    numeric.set(rows.features.numeric.subarray(i * numericWidth, (i + 1) * numericWidth), k * numericWidth);
    for (let c = 0; c < categoricalWidth; c++)
      categories[k * categoricalWidth + c] = rows.features.categories[i * categoricalWidth + c];
    y[k] = rows.y[i];
    rowIndex[k] = rows.rowIndex[i];
    ids[k] = rows.ids[i];
  }
  const out: Rows = { features: { n, numeric, categories }, y, ids, rowIndex };
  // Image rows carry their pixels (uint8 [N, C, H, W]) and files along.
  if (rows.images) {
    const size = rows.features.n > 0 ? rows.images.pixels.length / rows.features.n : 0;
    const pixels = new Uint8Array(n * size);
    const files: string[] = new Array(n);
    for (let k = 0; k < n; k++) {
      const i = indices[k];
      pixels.set(rows.images.pixels.subarray(i * size, (i + 1) * size), k * size);
      files[k] = rows.images.files[i];
    }
    out.images = { pixels, files };
  }
  return out;
}
