// Small seeded pseudo-random functions: splits and samples must be identical on every machine and
// every run, which Math.random cannot give.

/** Mixes 32-bit words into a well-spread 32-bit value (MurmurHash3's finalizer). */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A deterministic value in [0, 1) for a row's 64-bit content hash (hi, lo) under a seed. */
export function hashToUnit(hi: number, lo: number, seed: number): number {
  const a = fmix32((hi ^ Math.imul(seed + 1, 0x9e3779b1)) >>> 0);
  const b = fmix32((lo ^ a ^ Math.imul(seed + 1, 0x7f4a7c15)) >>> 0);
  return (a * 2 ** 21 + (b >>> 11)) / 2 ** 53;
}

/** mulberry32: a fast seeded generator of floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `k` distinct indices of 0…n−1 in random order (a partial Fisher–Yates shuffle); all n, shuffled, when k ≥ n. */
export function randomIndices(n: number, k: number, random: () => number): Int32Array {
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  const m = Math.min(k, n);
  for (let i = 0; i < m; i++) {
    const j = i + Math.floor(random() * (n - i));
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
  return idx.subarray(0, m);
}

/**
 * 64-bit content hash of a row's cells (two 32-bit multiplicative lanes, MurmurHash3 finalizer), separator-aware so
 * ["ab","c"] and ["a","bc"] differ. Not cryptographic: it identifies rows (ids, duplicates, overlap)
 * at ~0.3 µs per row, where a crypto digest per row costs ~2.5 µs and dominated profiling.
 */
export function hashCells(cells: readonly string[], skip: number, out: Uint32Array): void {
  let h1 = 0x9747b28c;
  let h2 = 0x2545f491;
  for (let f = 0; f < cells.length; f++) {
    if (f === skip) continue;
    const s = cells[f];
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193); // FNV-1a prime
      h2 = Math.imul(h2 + c, 0x5bd1e995); // MurmurHash2 multiplier
    }
    // Cell boundary: the length mixes in, so cells can't shift into each other.
    h1 = Math.imul(h1 ^ (s.length + 0x1f), 0x85ebca6b);
    h2 = Math.imul(h2 ^ (s.length + 0x3b), 0xc2b2ae35);
  }
  h1 ^= h2;
  h2 ^= h1;
  out[0] = fmix32(h1 >>> 0);
  out[1] = fmix32((h2 ^ out[0]) >>> 0);
}

/** Fisher-Yates shuffle of `order` in place, drawing from `random` (a seeded generator). */
export function shuffleInPlace(order: Uint32Array, random: () => number): void {
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
}
