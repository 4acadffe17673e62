// Work on ranges of the rows array: splitting a leaf's rows between its children, and adding a grown
// tree's leaf values to the rows' scores. Both are the JavaScript twins of the kernel's `partition`
// and `addLeafValues` (kernels/hist.wat): the fallback where WebAssembly is missing, and the
// references the kernel is tested against.

/**
 * Stable partition of rows[start..end) by a split of the column whose bins start at bins[base]:
 * rows with bin <= t, or in the missing bin when missingLeft is 1, go left. The left rows are
 * written in order from rows[start], the right ones in order from scratch[start]. Returns the number
 * of left rows.
 */
export function partitionRows(
  rows: Uint32Array,
  scratch: Uint32Array,
  bins: Uint8Array,
  base: number,
  t: number,
  missingBin: number,
  missingLeft: number,
  start: number,
  end: number,
): number {
  let l = start;
  let r = start;
  // Branch-free: each row is written to both sides and only the chosen side's cursor advances
  // (the left/right choice is unpredictable, a branch would mispredict half the time), and the
  // choice itself is arithmetic on comparisons made numbers (V8 branches on a conditional
  // expression). The missing bin is above t, so only the second term can send it left.
  for (let k = start; k < end; k++) {
    const row = rows[k];
    const b = bins[base + row];
    const goLeft = +(b <= t) | (+(b === missingBin) & missingLeft);
    rows[l] = row;
    scratch[r] = row;
    l += goLeft;
    r += 1 - goLeft;
  }
  return l - start;
}

/**
 * Adds each leaf's value to the scores of its rows, for the positions [from, to) of the rows array:
 * leaf i holds rows[ranges[3i]..ranges[3i + 1]) and has value ranges[3i + 2] (count leaves, whose
 * ranges tile the rows array). A row's score is scores[row * stride + column].
 */
export function addLeafValues(
  scores: Float64Array,
  rows: Uint32Array,
  ranges: Float64Array,
  count: number,
  stride: number,
  column: number,
  from: number,
  to: number,
): void {
  for (let i = 0; i < count; i++) {
    const start = Math.max(ranges[3 * i], from);
    const end = Math.min(ranges[3 * i + 1], to);
    const v = ranges[3 * i + 2];
    for (let k = start; k < end; k++) scores[rows[k] * stride + column] += v;
  }
}
