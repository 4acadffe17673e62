// Splitting a leaf's rows between its children. Self-contained on purpose (no imports, no outer
// names, no nested functions): the histogram helper thread runs the same function from its source
// text (histogram.ts), on the second half of a large leaf's rows.

/**
 * Stable partition of rows[start..end) by a split of the column whose bins start at bins[base]:
 * rows with bin <= t, or in the missing bin when missingLeft is 1, go left. The left rows are
 * written in order from rows[start], the right ones in order from scratch[start]. Returns the number
 * of left rows.
 */
export function partitionRows(rows: Uint32Array, scratch: Uint32Array, bins: Uint8Array, base: number, t: number, missingBin: number, missingLeft: number, start: number, end: number): number {
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
