// A binary copy of a loaded data split under .mlloop/cache/datasets, so that opening a 50,000-row
// data version again (the Error Analysis panel, the Compare panel) reads a few typed arrays instead
// of parsing, typing and hashing the CSV. An entry is found by a key over what the load depends on:
// the data file's content hash (sha256 of its bytes, computed again on every read), the project's
// data settings and task, and the bytes of the stored split (.mlloop/splits/<version>.json). Any
// change to one of them is another key: the cache never answers for data it was not made from.
// File layout: "MLDS" u32-LE header length, the header (JSON: key, schema, version, per split the row
// count, ids and categories), zero padding to 8 bytes, then per split numeric (float32 n·F), y
// (float64 n) and rowIndex (uint32 n), each starting at an 8-byte boundary.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, utimes, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { ProjectSpec } from '../spec/types';
import { DEFAULT_MAX_DATA_BYTES } from './reader';
import { dataVersion, splitDefinition, splitHash, storedSplitPath } from './split';
import type { DataVersion, FeatureSchema, Rows, SplitDataset } from './types';
import { datasetCacheDir } from '../spec/layout';

/** Bump when the layout or the loader's output changes: older entries are then never read. */
export const DATASET_CACHE_FORMAT = 'mlds-1';
/** Entries kept per project (the newest by use); each holds the whole split, ~4 bytes per cell. */
export const DATASET_CACHE_ENTRIES = 3;
/** Larger splits are not cached (three of them would fill a project folder with gigabytes). */
export const DATASET_CACHE_MAX_BYTES = 512 * 1024 ** 2;

const MAGIC = 0x5344_4c4d; // "MLDS" little-endian
const SPLITS = ['train', 'dev', 'test'] as const;

async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function storedSplitBytesHash(projectDir: string, version: DataVersion): Promise<string | undefined> {
  try {
    return createHash('sha256')
      .update(await readFile(storedSplitPath(projectDir, version)))
      .digest('hex');
  } catch {
    return undefined;
  }
}

export interface DatasetCacheKey {
  key: string;
  version: DataVersion;
}

/**
 * The cache key of loading `file` for `spec` now, or undefined when there is none to use (the file
 * is missing or above `maxBytes`, or its split was never stored: the full load stores it first).
 */
export async function datasetCacheKey(
  spec: ProjectSpec,
  projectDir: string,
  file: string,
  maxBytes = DEFAULT_MAX_DATA_BYTES,
): Promise<DatasetCacheKey | undefined> {
  try {
    const st = await stat(file);
    if (!st.isFile() || st.size === 0 || st.size > maxBytes) return undefined;
  } catch {
    return undefined;
  }
  return datasetCacheKeyOf(spec, projectDir, await fileSha256(file));
}

/** Whether the project has any cached dataset: without one, a load need not hash the file for a key. */
export async function hasDatasetCacheEntries(projectDir: string): Promise<boolean> {
  try {
    return (await readdir(datasetCacheDir(projectDir))).some((n) => n.endsWith('.bin'));
  } catch {
    return false;
  }
}

/** The cache key for data whose bytes hash to `fileHash` (undefined while its split is not stored). */
export async function datasetCacheKeyOf(
  spec: ProjectSpec,
  projectDir: string,
  fileHash: string,
): Promise<DatasetCacheKey | undefined> {
  const version = dataVersion(fileHash, splitHash(splitDefinition(spec)));
  const stored = await storedSplitBytesHash(projectDir, version);
  if (!stored) return undefined;
  const key = createHash('sha256')
    .update(JSON.stringify({ format: DATASET_CACHE_FORMAT, fileHash, task: spec.task, data: spec.data, stored }))
    .digest('hex')
    .slice(0, 32);
  return { key, version };
}

interface Header {
  format: string;
  key: string;
  schema: FeatureSchema;
  version: DataVersion;
  splits: { n: number; ids: string[]; categories: string[] }[];
}

const pad8 = (x: number) => (x + 7) & ~7;

function entryPath(projectDir: string, key: string): string {
  return join(datasetCacheDir(projectDir), `${key}.bin`);
}

/** The cached dataset of `key`, or undefined (no entry, or one that does not read back whole). */
export async function readDatasetCache(projectDir: string, key: DatasetCacheKey): Promise<SplitDataset | undefined> {
  let fh: FileHandle;
  try {
    fh = await open(entryPath(projectDir, key.key), 'r');
  } catch {
    return undefined;
  }
  try {
    const size = (await fh.stat()).size;
    // Reads `bytes` at `at`, or throws when the file ends first.
    const readAt = async (target: Uint8Array, at: number) => {
      if (at + target.length > size) throw new Error('truncated');
      for (let done = 0; done < target.length;) {
        const { bytesRead } = await fh.read(target, done, target.length - done, at + done);
        if (bytesRead === 0) throw new Error('truncated');
        done += bytesRead;
      }
    };
    const prefix = Buffer.alloc(8);
    await readAt(prefix, 0);
    if (prefix.readUInt32LE(0) !== MAGIC) return undefined;
    const headerLen = prefix.readUInt32LE(4);
    const headerBytes = Buffer.alloc(headerLen);
    await readAt(headerBytes, 8);
    const header = JSON.parse(headerBytes.toString('utf8')) as Header;
    if (header.format !== DATASET_CACHE_FORMAT || header.key !== key.key || header.version.id !== key.version.id)
      return undefined;
    const F = header.schema.numeric.length;
    let off = pad8(8 + headerLen);
    // Each array is read straight into its own exact-size buffer (no copy of the whole entry): they
    // are transferred between threads whole.
    const take = async <T>(ctor: { new (b: ArrayBuffer): T; BYTES_PER_ELEMENT: number }, count: number): Promise<T> => {
      const buffer = new ArrayBuffer(count * ctor.BYTES_PER_ELEMENT);
      await readAt(new Uint8Array(buffer), off);
      off = pad8(off + buffer.byteLength);
      return new ctor(buffer);
    };
    const rows: Rows[] = [];
    for (const s of header.splits) {
      const numeric = await take(Float32Array, s.n * F);
      const y = await take(Float64Array, s.n);
      const rowIndex = await take(Uint32Array, s.n);
      if (s.ids.length !== s.n) throw new Error('ids');
      rows.push({ features: { n: s.n, numeric, categories: s.categories }, y, ids: s.ids, rowIndex });
    }
    return { schema: header.schema, train: rows[0], dev: rows[1], test: rows[2], version: header.version };
  } catch {
    return undefined; // a damaged entry is a miss; the full load writes it again
  } finally {
    await fh.close();
  }
}

/** Stores `dataset` under `key` (atomically) and drops the oldest entries beyond DATASET_CACHE_ENTRIES. */
export async function writeDatasetCache(
  projectDir: string,
  key: DatasetCacheKey,
  dataset: SplitDataset,
): Promise<void> {
  const F = dataset.schema.numeric.length;
  const K = dataset.schema.categorical.length;
  const arrayBytes = SPLITS.reduce((sum, s) => sum + dataset[s].features.n * (4 * F + 8 + 4), 0);
  if (arrayBytes > DATASET_CACHE_MAX_BYTES) return;
  const header: Header = {
    format: DATASET_CACHE_FORMAT,
    key: key.key,
    schema: dataset.schema,
    version: dataset.version,
    splits: SPLITS.map((s) => {
      const r = dataset[s];
      return {
        n: r.features.n,
        ids: r.ids.slice(0, r.features.n),
        categories: r.features.categories.slice(0, r.features.n * K),
      };
    }),
  };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const parts: Uint8Array[] = [];
  const prefix = Buffer.alloc(pad8(8 + headerBytes.length));
  prefix.writeUInt32LE(MAGIC, 0);
  prefix.writeUInt32LE(headerBytes.length, 4);
  headerBytes.copy(prefix, 8);
  parts.push(prefix);
  const add = (a: Float32Array | Float64Array | Uint32Array) => {
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    parts.push(bytes);
    const padded = pad8(bytes.length);
    if (padded > bytes.length) parts.push(new Uint8Array(padded - bytes.length));
  };
  for (const s of SPLITS) {
    const r = dataset[s];
    const n = r.features.n;
    add(r.features.numeric.subarray(0, n * F));
    add(r.y.subarray(0, n));
    add(r.rowIndex.subarray(0, n));
  }
  const dir = datasetCacheDir(projectDir);
  await mkdir(dir, { recursive: true });
  const file = entryPath(projectDir, key.key);
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  // The parts as they are (no concatenated copy of a split of hundreds of megabytes).
  await writeFile(tmp, parts);
  await rename(tmp, file);
  await pruneDatasetCache(projectDir);
}

async function pruneDatasetCache(projectDir: string): Promise<void> {
  await pruneCacheEntries(datasetCacheDir(projectDir), DATASET_CACHE_ENTRIES);
}

/** Keeps the `keep` most recently used .bin entries of a cache folder (the image cache's too). */
export async function pruneCacheEntries(dir: string, keep: number): Promise<void> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.bin'));
  if (names.length <= keep) return;
  const dated = await Promise.all(
    names.map(async (n) => ({ n, t: (await stat(join(dir, n)).catch(() => undefined))?.mtimeMs ?? 0 })),
  );
  dated.sort((a, b) => b.t - a.t);
  await Promise.all(dated.slice(keep).map(({ n }) => rm(join(dir, n), { force: true })));
}

/** Marks an entry as just used (pruning keeps the most recently used). */
export async function touchDatasetCache(projectDir: string, key: DatasetCacheKey): Promise<void> {
  const now = new Date();
  await utimes(entryPath(projectDir, key.key), now, now).catch(() => undefined);
}
