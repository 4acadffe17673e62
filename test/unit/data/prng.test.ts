import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashCells, hashToUnit, mulberry32 } from '../../../src/core/data/prng';

test('mulberry32: same seed, same sequence; values in [0, 1) and spread evenly', () => {
  const a = mulberry32(7);
  const b = mulberry32(7);
  const xs = Array.from({ length: 10000 }, () => a());
  assert.deepEqual(
    xs.slice(0, 5),
    Array.from({ length: 5 }, () => b()),
  );
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const deciles = new Array(10).fill(0);
  for (const x of xs) deciles[Math.floor(x * 10)]++;
  assert.ok(
    deciles.every((n) => n > 900 && n < 1100),
    deciles.join(),
  );
  assert.notEqual(mulberry32(8)(), mulberry32(7)());
});

test('hashCells: content-only, separator-aware, skips the given column', () => {
  const h = (cells: string[], skip = -1) => {
    const out = new Uint32Array(2);
    hashCells(cells, skip, out);
    return [...out].join(':');
  };
  assert.equal(h(['1', 'a']), h(['1', 'a']));
  assert.notEqual(h(['ab', 'c']), h(['a', 'bc']));
  assert.notEqual(h(['1', 'a']), h(['a', '1']));
  assert.equal(h(['1', 'train', 'a'], 1), h(['1', 'dev', 'a'], 1));
  const seen = new Set<string>();
  for (let i = 0; i < 20000; i++) seen.add(h([String(i), 'x']));
  assert.equal(seen.size, 20000);
});

test('hashToUnit: deterministic per (hash, seed), uniform in [0, 1)', () => {
  assert.equal(hashToUnit(1, 2, 3), hashToUnit(1, 2, 3));
  assert.notEqual(hashToUnit(1, 2, 3), hashToUnit(1, 2, 4));
  const xs = Array.from({ length: 10000 }, (_, i) => hashToUnit(i, i * 31, 0));
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const below = xs.filter((x) => x < 0.2).length;
  assert.ok(below > 1800 && below < 2200, String(below));
});
