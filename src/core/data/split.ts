// Train/dev/test splits: deterministic from the seed and the rows' contents (a row's side depends on
// its content hash, not its position, so reordering the file keeps the split), stratified by class,
// identical rows kept on one side. Stored as row ids under .mlloop/splits so a run can be reproduced.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ProjectSpec } from '../spec/types';
import { DEFAULT_SPLIT, isColumnSplit, isFoldersSplit } from '../spec/types';
import type { DataVersion } from './types';
import { hashToUnit } from './prng';
import { splitsDir } from '../spec/layout';

export const TRAIN = 0;
export const DEV = 1;
export const TEST = 2;
/** A row in no split (its target is missing, or its split-column value is not train/dev/test). */
export const NO_SPLIT = 255;
export const SPLIT_NAMES = ['train', 'dev', 'test'] as const;

export type SplitDefinition =
  | { kind: 'fraction'; dev: number; test: number; seed: number; stratifyBy: string | null }
  | { kind: 'column'; column: string }
  | { kind: 'folders' };

export function splitDefinition(spec: ProjectSpec): SplitDefinition {
  const s = spec.data.split ?? DEFAULT_SPLIT;
  if (isColumnSplit(s)) return { kind: 'column', column: s.column };
  if (isFoldersSplit(s)) return { kind: 'folders' };
  return {
    kind: 'fraction',
    dev: s.dev,
    test: s.test ?? 0,
    seed: s.seed ?? 0,
    stratifyBy: spec.task === 'classification' ? spec.data.target : null,
  };
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Names the row-hash and assignment algorithm: changing either makes different splits, so it is part
 *  of the split's hash (a stored split of another scheme is never mistaken for this one). */
export const SPLIT_SCHEME = 'cells64-rank-v1';

/** Hash of the split definition, keys in a fixed order (a changed seed or fraction is a new split). */
export function splitHash(def: SplitDefinition): string {
  const canonical =
    def.kind === 'column'
      ? { kind: def.kind, column: def.column, scheme: SPLIT_SCHEME }
      : def.kind === 'folders'
        ? { kind: def.kind, scheme: SPLIT_SCHEME }
        : {
            kind: def.kind,
            dev: def.dev,
            test: def.test,
            seed: def.seed,
            stratifyBy: def.stratifyBy,
            scheme: SPLIT_SCHEME,
          };
  return sha256(JSON.stringify(canonical));
}

export function dataVersion(fileHash: string, splitHashHex: string): DataVersion {
  return { fileHash, splitHash: splitHashHex, id: sha256(fileHash + splitHashHex).slice(0, 12) };
}

/** Per-group row counts a fraction split gives: round(n·test) test rows, round(n·dev) dev rows, the rest train. */
export function fractionCounts(
  groupSize: number,
  dev: number,
  test: number,
): { train: number; dev: number; test: number } {
  const nTest = Math.round(groupSize * test);
  const nDev = Math.min(Math.round(groupSize * dev), groupSize - nTest);
  return { train: groupSize - nTest - nDev, dev: nDev, test: nTest };
}

/**
 * Assigns each row to train/dev/test. `group[i]` is the row's class (stratification; all 0 for
 * regression), < 0 to leave the row out (NO_SPLIT). Within each group rows are ranked by a seeded hash
 * of their content; the lowest round(n·test) go to test, the next round(n·dev) to dev.
 */
export function assignFractionSplit(
  hashHi: Uint32Array,
  hashLo: Uint32Array,
  group: Int32Array | undefined,
  def: Extract<SplitDefinition, { kind: 'fraction' }>,
): Uint8Array {
  const n = hashHi.length;
  const keys = new Float64Array(n);
  let groups = 1;
  for (let i = 0; i < n; i++) {
    keys[i] = hashToUnit(hashHi[i], hashLo[i], def.seed);
    if (group && group[i] + 1 > groups) groups = group[i] + 1;
  }
  const sizes = new Int32Array(groups);
  for (let i = 0; i < n; i++) {
    const g = group ? group[i] : 0;
    if (g >= 0) sizes[g]++;
  }
  const offsets = new Int32Array(groups + 1);
  for (let g = 0; g < groups; g++) offsets[g + 1] = offsets[g] + sizes[g];
  const sorted = new Float64Array(offsets[groups]);
  const fill = offsets.slice(0, groups);
  for (let i = 0; i < n; i++) {
    const g = group ? group[i] : 0;
    if (g >= 0) sorted[fill[g]++] = keys[i];
  }
  const testBelow = new Float64Array(groups).fill(-1);
  const devBelow = new Float64Array(groups).fill(-1);
  for (let g = 0; g < groups; g++) {
    const keysOfGroup = sorted.subarray(offsets[g], offsets[g + 1]).sort();
    const c = fractionCounts(sizes[g], def.dev, def.test);
    // Keys are compared to the group's quantile keys; identical rows share a key and a side.
    if (c.test > 0) testBelow[g] = keysOfGroup[c.test - 1];
    devBelow[g] = c.dev > 0 ? keysOfGroup[c.test + c.dev - 1] : testBelow[g];
  }
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const g = group ? group[i] : 0;
    if (g < 0) out[i] = NO_SPLIT;
    else out[i] = keys[i] <= testBelow[g] ? TEST : keys[i] <= devBelow[g] ? DEV : TRAIN;
  }
  return out;
}

/** Stable, unique example ids: the row's content hash (16 hex digits); the k-th repeat of an identical
 *  row gets "~k" appended. Repeats are found in a hash table over the two 32-bit halves, and each id
 *  is a slice of one hex string of all rows (a Map of hex strings took seconds on a file of 600,000
 *  rows; a hex conversion per row, a quarter of a second). */
export function rowIds(hashHi: Uint32Array, hashLo: Uint32Array): string[] {
  const n = hashHi.length;
  const bytes = Buffer.allocUnsafe(n * 8);
  for (let i = 0; i < n; i++) {
    bytes.writeUInt32BE(hashHi[i], i * 8);
    bytes.writeUInt32BE(hashLo[i], i * 8 + 4);
  }
  let size = 16;
  while (size < 2 * n) size *= 2;
  const mask = size - 1;
  const firstRow = new Int32Array(size).fill(-1); // open addressing: the first row with each hash
  const repeats = new Uint32Array(n); // per first row, how many repeats were seen
  const hex = bytes.toString('hex');
  const ids = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const hi = hashHi[i];
    const lo = hashLo[i];
    let slot = Math.imul(lo ^ (hi >>> 7), 0x9e3779b1) & mask;
    let first = -1;
    for (;;) {
      const j = firstRow[slot];
      if (j < 0) {
        firstRow[slot] = i;
        break;
      }
      if (hashHi[j] === hi && hashLo[j] === lo) {
        first = j;
        break;
      }
      slot = (slot + 1) & mask;
    }
    const base = hex.slice(i * 16, i * 16 + 16);
    ids[i] = first < 0 ? base : `${base}~${++repeats[first]}`;
  }
  return ids;
}

/** What .mlloop/splits/<version id>.json holds: train is every other row. */
export interface StoredSplit {
  version: DataVersion;
  definition: SplitDefinition;
  counts: { train: number; dev: number; test: number };
  dev: string[];
  test: string[];
}

export function storedSplitPath(projectDir: string, version: DataVersion): string {
  return join(splitsDir(projectDir), `${version.id}.json`);
}

export async function readStoredSplit(projectDir: string, version: DataVersion): Promise<StoredSplit | undefined> {
  try {
    const stored = JSON.parse(await readFile(storedSplitPath(projectDir, version), 'utf8')) as StoredSplit;
    return stored.version?.fileHash === version.fileHash && stored.version?.splitHash === version.splitHash
      ? stored
      : undefined;
  } catch {
    return undefined;
  }
}

export async function writeStoredSplit(projectDir: string, split: StoredSplit): Promise<string> {
  const file = storedSplitPath(projectDir, split.version);
  await mkdir(dirname(file), { recursive: true });
  // Unique per write: two loads in one process (a parallel sweep) may store the same split at once.
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, JSON.stringify(split));
  await rename(tmp, file); // atomic: a concurrent reader never sees half a split
  return file;
}

/** Applies a stored split: rows whose id is listed go to dev/test, the others to train (or stay out).
 *  Returns `current` unchanged when the stored ids don't all match the rows (a stale or edited file). */
export function applyStoredSplit(ids: string[], current: Uint8Array, stored: StoredSplit): Uint8Array {
  const dev = new Set(stored.dev);
  const test = new Set(stored.test);
  const applied = current.map((s, i) =>
    s === NO_SPLIT ? NO_SPLIT : dev.has(ids[i]) ? DEV : test.has(ids[i]) ? TEST : TRAIN,
  );
  const c = countSplits(applied);
  return c.dev === stored.dev.length && c.test === stored.test.length ? applied : current;
}

export function countSplits(split: Uint8Array): { train: number; dev: number; test: number } {
  const c = [0, 0, 0];
  for (let i = 0; i < split.length; i++) if (split[i] !== NO_SPLIT) c[split[i]]++;
  return { train: c[0], dev: c[1], test: c[2] };
}
