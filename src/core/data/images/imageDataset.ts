// An image project's data: the layout's examples (./layout.ts), each file hashed (sha256 of its bytes
// = its example id), its header read, decoded and preprocessed (./preprocess.ts) unless the decoded
// cache (./imageCache.ts) has it, then split like tabular rows: fractions stratified by class and
// seeded on the content hash, or the split the folders / the manifest's column give, stored as ids
// under .mlloop/splits. Unreadable files are skipped and named, never a crash. sharp decodes on
// libuv's worker threads; callers run this in a worker or a child process, off the extension host.
import { createHash } from 'node:crypto';
import { readFileSync, statSync, type Stats } from 'node:fs';
import { dirname, relative } from 'node:path';
import { DataError } from '../errors';
import { sortClassNames } from '../scan';
import {
  applyStoredSplit,
  assignFractionSplit,
  countSplits,
  dataVersion,
  NO_SPLIT,
  readStoredSplit,
  rowIds,
  splitDefinition,
  splitHash,
  writeStoredSplit,
} from '../split';
import type { ProjectSpec } from '../../spec/types';
import type { DataVersion, FeatureSchema, Rows, SplitDataset } from '../types';
import {
  readHashMemo,
  readImageCache,
  readInfoCache,
  writeHashMemo,
  writeImageCache,
  writeInfoCache,
  type DecodedImages,
  type HashMemo,
  type InfoEntry,
} from './imageCache';
import { listImageExamples, nameFiles, type ImageExample, type ImageInputProblem, type ImageListing } from './layout';
import { decodeInChunks } from './decodePool';
import { uprightSize, type ImageSettings, type SourceImageInfo } from './preprocess';
import { PROPERTY_NAMES } from './properties';

/** An image project's input is unusable; `problem` names the files and the key of mlloop.json. */
export class ImageDataError extends DataError {
  constructor(readonly problem: ImageInputProblem) {
    super(problem.files[0] ?? '', 1, 'data-images', problem.message);
    this.name = 'ImageDataError';
  }
}

export interface ImageRecord extends ImageExample {
  /** Relative to the project folder. */
  rel: string;
  /** sha256 (hex) of the file's bytes. */
  hash: string;
  /** Example id: the first 16 hex digits of `hash` ("~k" appended to the k-th repeat of identical bytes). */
  id: string;
  info?: SourceImageInfo;
  /** Why the file could not be read as an image (it is then in no split). */
  error?: string;
  /** Index of its pixels and properties in `decoded`; -1 when unreadable. */
  slot: number;
}

export interface ImageCollection {
  projectDir: string;
  listing: ImageListing;
  records: ImageRecord[];
  settings: ImageSettings;
  /** Whether imageSize / channels came from the data (not mlloop.json). */
  settingsFromData: { size: boolean; channels: boolean };
  classes: string[];
  /** Class index per record. */
  classIndex: Int32Array;
  /** TRAIN/DEV/TEST/NO_SPLIT per record. */
  split: Uint8Array;
  version: DataVersion;
  decoded: DecodedImages;
  /** Every problem found (the listing's, unreadable files, …), errors excluded (those throw). */
  problems: ImageInputProblem[];
  cacheHit: boolean;
}

/** The project: its spec and the absolute path of its mlloop.json (as data/dataset.ts's ProjectRef). */
export interface ImageProjectRef {
  spec: ProjectSpec;
  projectFile: string;
}

export interface LoadImagesOptions {
  /** Record the split as ids under .mlloop/splits and reuse a recorded one (default true). */
  storeSplit?: boolean;
  /** Use and update the decoded-image cache (default true). */
  cache?: boolean;
}

/** A file that cannot be read at all: its path stands in for its content hash. */
function markUnreadable(r: ImageRecord, e: unknown): void {
  r.hash = createHash('sha256').update(r.file).digest('hex');
  r.error = `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
}

function isColour(info: SourceImageInfo): boolean {
  return info.channels >= 3 || info.palette;
}

/** Lists, hashes, reads, decodes (or takes from the cache) and splits the images of an image project. */
export async function loadImageCollection(
  ref: ImageProjectRef,
  opts: LoadImagesOptions = {},
): Promise<ImageCollection> {
  const { spec } = ref;
  const projectDir = dirname(ref.projectFile);
  const listing = await listImageExamples(spec, projectDir);
  const fatal = listing.problems.find((p) => p.severity === 'error');
  if (fatal) throw new ImageDataError(fatal);
  const problems = [...listing.problems];
  const useCache = opts.cache !== false;
  const infoCache = useCache ? await readInfoCache(projectDir) : new Map<string, InfoEntry>();
  let infoChanged = false;

  // Pass 1: bytes → content hash → header (format, size, mode), from the caches when known. Reads are
  // synchronous: this runs off the editor's thread, and 60,000 small async reads cost 4× more.
  const records: ImageRecord[] = listing.examples.map((e) => ({
    ...e,
    rel: relative(projectDir, e.file),
    hash: '',
    id: '',
    slot: -1,
  }));
  const memo: HashMemo = useCache ? await readHashMemo(projectDir) : new Map();
  const freshMemo: HashMemo = new Map();
  const needInfo: ImageRecord[] = [];
  for (let k = 0; k < records.length; k++) {
    const r = records[k];
    if (k % 2000 === 1999) await new Promise((res) => setImmediate(res)); // the thread's other messages get a turn
    let st: Stats;
    try {
      st = statSync(r.file);
    } catch (e) {
      markUnreadable(r, e);
      continue;
    }
    const m = memo.get(r.rel);
    if (m && m[0] === st.size && m[1] === st.mtimeMs && m[2] === st.ino) r.hash = m[3];
    else {
      let bytes: Buffer;
      try {
        bytes = readFileSync(r.file);
      } catch (e) {
        markUnreadable(r, e);
        continue;
      }
      r.hash = createHash('sha256').update(bytes).digest('hex');
    }
    freshMemo.set(r.rel, [st.size, st.mtimeMs, st.ino, r.hash]);
    const entry = infoCache.get(r.hash);
    if (entry) {
      if ('error' in entry) r.error = entry.error;
      else r.info = entry;
    } else needInfo.push(r);
  }
  // Headers of files not seen before (read again: keeping every file's bytes would not scale to big JPEG sets).
  await decodeInChunks({ kind: 'info', files: needInfo.map((r) => r.file) }, (start, result) => {
    result.infos!.forEach((entry, k) => {
      const r = needInfo[start + k];
      infoCache.set(r.hash, entry);
      infoChanged = true;
      if ('error' in entry) r.error = entry.error;
      else r.info = entry;
    });
  });
  const readable = records.filter((r) => r.info);
  if (!readable.length) {
    throw new ImageDataError({
      severity: 'error',
      code: 'images-none-readable',
      message: `None of the ${records.length} image file(s) could be read: ${nameFiles(
        records.map((r) => r.file),
        projectDir,
      )}`,
      files: records.map((r) => r.file),
      specPath: problems[0]?.specPath ?? ['data'],
    });
  }

  // Settings: mlloop.json's, else the data's (the most common upright size; RGB when any image is in colour).
  const sizeCounts = new Map<string, number>();
  for (const r of readable) {
    const u = uprightSize(r.info!);
    const k = `${u.height}x${u.width}`;
    sizeCounts.set(k, (sizeCounts.get(k) ?? 0) + 1);
  }
  const [commonH, commonW] = [...sizeCounts]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0][0]
    .split('x')
    .map(Number);
  const settings: ImageSettings = {
    height: spec.data.imageSize?.[0] ?? commonH,
    width: spec.data.imageSize?.[1] ?? commonW,
    channels: spec.data.channels ?? (readable.some((r) => isColour(r.info!)) ? 3 : 1),
  };

  // Pass 2: pixels and properties per distinct content hash, decoded unless cached.
  const cached = useCache ? await readImageCache(projectDir, settings) : undefined;
  const cachedSlot = new Map((cached?.hashes ?? []).map((h, i) => [h, i]));
  const size = settings.height * settings.width * settings.channels;
  const P = PROPERTY_NAMES.length;
  const distinct = [...new Set(readable.map((r) => r.hash))];
  const slotOf = new Map(distinct.map((h, i) => [h, i]));
  const decoded: DecodedImages = {
    settings,
    hashes: distinct,
    pixels: new Uint8Array(distinct.length * size),
    properties: new Float64Array(distinct.length * P),
  };
  const toDecode: ImageRecord[] = [];
  const queued = new Set<string>();
  for (const r of readable) {
    const slot = slotOf.get(r.hash)!;
    r.slot = slot;
    if (queued.has(r.hash)) continue;
    queued.add(r.hash);
    const c = cachedSlot.get(r.hash);
    if (c !== undefined && cached) {
      decoded.pixels.set(cached.pixels.subarray(c * size, (c + 1) * size), slot * size);
      decoded.properties.set(cached.properties.subarray(c * P, (c + 1) * P), slot * P);
    } else toDecode.push(r);
  }
  const failed = new Map<string, string>();
  await decodeInChunks(
    { kind: 'decode', files: toDecode.map((r) => r.file), infos: toDecode.map((r) => r.info!), settings },
    (start, result) => {
      result.errors!.forEach((error, k) => {
        const r = toDecode[start + k];
        // The header read but the pixels do not (a truncated file): unreadable from now on.
        if (error !== null) failed.set(r.hash, error);
        else {
          decoded.pixels.set(result.pixels!.subarray(k * size, (k + 1) * size), r.slot * size);
          decoded.properties.set(result.properties!.subarray(k * P, (k + 1) * P), r.slot * P);
        }
      });
    },
  );
  for (const r of records) {
    const why = failed.get(r.hash);
    if (why) {
      r.error = why;
      r.info = undefined;
      r.slot = -1;
      infoCache.set(r.hash, { error: why });
      infoChanged = true;
    }
  }
  if (useCache && (toDecode.length || !cached || cached.hashes.length !== distinct.length)) {
    const keep: DecodedImages = failed.size ? compact(decoded, failed) : decoded;
    await writeImageCache(projectDir, keep).catch(() => undefined);
  }
  if (useCache && infoChanged) await writeInfoCache(projectDir, infoCache).catch(() => undefined);
  if (useCache && !sameMemo(memo, freshMemo)) await writeHashMemo(projectDir, freshMemo).catch(() => undefined);

  const unreadable = records.filter((r) => r.error);
  if (unreadable.length) {
    problems.push({
      severity: 'warning',
      code: 'images-unreadable',
      message: `${unreadable.length} file(s) are not readable images and are skipped: ${unreadable
        .slice(0, 5)
        .map((r) => `${r.rel} (${r.error})`)
        .join('; ')}${unreadable.length > 5 ? ` and ${unreadable.length - 5} more` : ''}`,
      files: unreadable.map((r) => r.file),
      specPath: spec.data.images !== undefined ? ['data', 'images'] : ['data', 'imageColumn'],
    });
  }

  // Classes, ids, split.
  const classes = sortClassNames([...new Set(records.filter((r) => !r.error).map((r) => r.label))]);
  const classOf = new Map(classes.map((c, i) => [c, i]));
  const classIndex = Int32Array.from(records, (r) => (r.error ? -1 : classOf.get(r.label)!));
  const hashHi = Uint32Array.from(records, (r) => parseInt(r.hash.slice(0, 8), 16));
  const hashLo = Uint32Array.from(records, (r) => parseInt(r.hash.slice(8, 16), 16));
  rowIds(hashHi, hashLo).forEach((id, i) => (records[i].id = id));
  const def = splitDefinition(spec);
  const listingHash = createHash('sha256');
  for (const r of records)
    listingHash.update(
      `${r.rel}\t${r.label}\t${r.hash}\t${r.split}\t${r.metadata ? JSON.stringify(r.metadata) : ''}\n`,
    );
  const version = dataVersion(listingHash.digest('hex'), splitHash(def));
  let split: Uint8Array;
  if (def.kind === 'fraction') split = assignFractionSplit(hashHi, hashLo, classIndex, def);
  else split = Uint8Array.from(records, (r, i) => (classIndex[i] < 0 ? NO_SPLIT : r.split));
  if (opts.storeSplit !== false) {
    const ids = records.map((r) => r.id);
    const stored = await readStoredSplit(projectDir, version);
    if (stored) split = applyStoredSplit(ids, split, stored);
    else {
      const dev: string[] = [];
      const test: string[] = [];
      split.forEach((s, i) => (s === 1 ? dev.push(ids[i]) : s === 2 ? test.push(ids[i]) : undefined));
      await writeStoredSplit(projectDir, { version, definition: def, counts: countSplits(split), dev, test });
    }
  }
  return {
    projectDir,
    listing,
    records,
    settings,
    settingsFromData: { size: !spec.data.imageSize, channels: !spec.data.channels },
    classes,
    classIndex,
    split,
    version,
    decoded,
    problems,
    cacheHit: !!cached && toDecode.length === 0,
  };
}

function sameMemo(a: HashMemo, b: HashMemo): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of b) {
    const o = a.get(k);
    if (!o || o[0] !== v[0] || o[1] !== v[1] || o[2] !== v[2] || o[3] !== v[3]) return false;
  }
  return true;
}

function compact(decoded: DecodedImages, failed: Map<string, string>): DecodedImages {
  const size = decoded.settings.height * decoded.settings.width * decoded.settings.channels;
  const P = PROPERTY_NAMES.length;
  const keep = decoded.hashes.map((h, i) => [h, i] as const).filter(([h]) => !failed.has(h));
  const out: DecodedImages = {
    settings: decoded.settings,
    hashes: keep.map(([h]) => h),
    pixels: new Uint8Array(keep.length * size),
    properties: new Float64Array(keep.length * P),
  };
  keep.forEach(([, i], k) => {
    out.pixels.set(decoded.pixels.subarray(i * size, (i + 1) * size), k * size);
    out.properties.set(decoded.properties.subarray(i * P, (i + 1) * P), k * P);
  });
  return out;
}

/** The collection as trainers and evaluators take data: per split, rows in listing order with their pixels. */
export function imageSplitDataset(spec: ProjectSpec, c: ImageCollection): SplitDataset {
  const schema: FeatureSchema = {
    task: spec.task,
    target: spec.data.target,
    numeric: [],
    categorical: [],
    classes: c.classes,
    image: c.settings,
  };
  const size = c.settings.height * c.settings.width * c.settings.channels;
  const counts = countSplits(c.split);
  // A manifest's metadata columns, in the order of the CSV header (every record of a manifest has them all).
  const columns = c.records.find((r) => r.metadata)?.metadata;
  const metadataColumns = columns && Object.keys(columns).length ? Object.keys(columns) : undefined;
  const rows = [counts.train, counts.dev, counts.test].map((n): Rows => ({
    features: { n: 0, numeric: new Float32Array(0), categories: [] },
    y: new Float64Array(n),
    ids: [],
    rowIndex: new Uint32Array(n),
    images: {
      pixels: new Uint8Array(n * size),
      files: [],
      ...(metadataColumns ? { metadata: { columns: metadataColumns, values: [] } } : {}),
    },
  }));
  c.records.forEach((r, i) => {
    const s = c.split[i];
    if (s === NO_SPLIT) return;
    const rs = rows[s];
    const k = rs.features.n++;
    rs.y[k] = c.classIndex[i];
    rs.ids.push(r.id);
    rs.rowIndex[k] = i;
    rs.images!.files.push(r.rel);
    if (metadataColumns) for (const m of metadataColumns) rs.images!.metadata!.values.push(r.metadata?.[m] ?? '');
    rs.images!.pixels.set(c.decoded.pixels.subarray(r.slot * size, (r.slot + 1) * size), k * size);
  });
  return { schema, train: rows[0], dev: rows[1], test: rows[2], version: c.version };
}

/** Loads an image project's split for training and evaluation (through the decoded-image cache). */
export async function loadImageSplitDataset(ref: ImageProjectRef, opts: LoadImagesOptions = {}): Promise<SplitDataset> {
  const c = await loadImageCollection(ref, opts);
  const dataset = imageSplitDataset(ref.spec, c);
  if (dataset.train.features.n === 0)
    throw new DataError(c.listing.source, 1, 'data-no-dev-rows', 'The split leaves no training images');
  return dataset;
}
