// Example ids (rowIds): the row's 64-bit content hash in hex, the k-th repeat of an identical row
// suffixed "~k", in row order. Pinned against the plain definition (a Map of hex strings), including
// rows whose hashes share one half, which meet in the same slots of rowIds' hash table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../../../src/core/data/prng';
import { rowIds } from '../../../src/core/data/split';

function plainIds(hi: Uint32Array, lo: Uint32Array): string[] {
  const seen = new Map<string, number>();
  return Array.from(hi, (h, i) => {
    const base = h.toString(16).padStart(8, '0') + lo[i].toString(16).padStart(8, '0');
    const k = seen.get(base) ?? 0;
    seen.set(base, k + 1);
    return k ? `${base}~${k}` : base;
  });
}

test('rowIds gives the hex content hash, "~k" for the k-th repeat, like the plain definition', () => {
  const rand = mulberry32(7);
  const n = 5000;
  const hi = new Uint32Array(n);
  const lo = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const r = rand();
    if (r < 0.2 && i > 0) {
      // a repeat of an earlier row
      const j = Math.floor(rand() * i);
      hi[i] = hi[j];
      lo[i] = lo[j];
    } else if (r < 0.3) {
      // same low half as another row, other high half (and small values: leading zeros in the hex)
      lo[i] = 42;
      hi[i] = Math.floor(rand() * 1000);
    } else {
      hi[i] = Math.floor(rand() * 2 ** 32);
      lo[i] = Math.floor(rand() * 2 ** 32);
    }
  }
  const ids = rowIds(hi, lo);
  assert.deepEqual(ids, plainIds(hi, lo));
  assert.equal(new Set(ids).size, n);
  assert.ok(ids.some((id) => id.endsWith('~2')));
  assert.ok(ids.some((id) => id.startsWith('00000')));
  assert.deepEqual(rowIds(new Uint32Array(0), new Uint32Array(0)), []);
});
