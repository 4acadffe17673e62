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
  return { features: { n, numeric, categories }, y, ids, rowIndex };
}
