// The data as trainers take it: raw feature values of the train/dev/test rows in the project's
// feature order, labels, stable ids and the data version. One streaming pass types the columns,
// decides the split and keeps each cell's value; the rows are filled from those. A second pass over
// the file is needed only when a categorical feature's raw text was not kept (a column detected as
// categorical holding some numbers, or one with more distinct values than the scan tracks).
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Problem } from '../spec/problems';
import { formatProblem } from '../spec/problems';
import { parseProjectText } from '../spec/parse';
import { isImageProject, type ProjectSpec } from '../spec/types';
import { loadImageSplitDataset } from './images/imageDataset';
import {
  datasetCacheKey,
  datasetCacheKeyOf,
  hasDatasetCacheEntries,
  readDatasetCache,
  touchDatasetCache,
  writeDatasetCache,
} from './datasetCache';
import { DataError } from './errors';
import { GrowableFloat32, GrowableFloat64, GrowableUint32, type Growable } from './growable';
import { readTable, type ReadOptions } from './reader';
import { classesOf, dataProblemSeverity, scanTable, type ColumnScan, type ScanOptions, type TableScan } from './scan';
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
  type StoredSplit,
} from './split';
import type { DataVersion, FeatureSchema, Rows, SplitDataset } from './types';
import { isMissing, parseNumber } from './values';

/** The project file is not valid: its problems say where. */
export class ProjectInvalidError extends Error {
  constructor(readonly problems: Problem[]) {
    super(`The project is not valid:\n${problems.map(formatProblem).join('\n')}`);
    this.name = 'ProjectInvalidError';
  }
}

export interface ProjectRef {
  spec: ProjectSpec;
  /** Absolute path of mlloop.json (data paths are relative to its folder). */
  projectFile: string;
}

/** A project folder, a path to its mlloop.json, or an already-parsed spec. */
export type ProjectInput = string | ProjectRef;

export async function resolveProject(input: ProjectInput): Promise<ProjectRef> {
  if (typeof input !== 'string') return { spec: input.spec, projectFile: resolve(input.projectFile) };
  const projectFile = resolve(input.endsWith('.json') ? input : join(input, 'mlloop.json'));
  let text: string;
  try {
    text = await readFile(projectFile, 'utf8');
  } catch {
    throw new ProjectInvalidError([
      { severity: 'error', code: 'no-project', message: 'No mlloop.json here', file: projectFile, line: 1, column: 1 },
    ]);
  }
  const { spec, problems } = parseProjectText(text, projectFile);
  if (!spec) throw new ProjectInvalidError(problems);
  return { spec, projectFile };
}

export function dataFileOf(ref: ProjectRef): string {
  return resolve(dirname(ref.projectFile), ref.spec.data.path ?? ref.spec.data.images!);
}

/** The split of a scanned table: per row TRAIN/DEV/TEST or NO_SPLIT, plus the class index per row. */
export interface RowSplit {
  split: Uint8Array;
  version: DataVersion;
  classes?: string[];
  /** Classification: class index per row (-1 = missing target). */
  classIndex?: Int32Array;
}

export function splitScannedRows(spec: ProjectSpec, scan: TableScan): RowSplit {
  const def = splitDefinition(spec);
  const version = dataVersion(scan.fileHash, splitHash(def));
  let classes: string[] | undefined;
  let classIndex: Int32Array | undefined;
  if (scan.targetCode && scan.target) {
    const c = classesOf(scan.target);
    classes = c.classes;
    classIndex = scan.targetCode.map((code) => (code >= 0 ? c.codeToClass[code] : -1));
  }
  let split: Uint8Array;
  if (def.kind === 'column') {
    split = Uint8Array.from(scan.splitCode ?? new Uint8Array(scan.rows).fill(NO_SPLIT));
  } else if (def.kind === 'folders') {
    throw new DataError(scan.file, 1, 'data-bad-split-value', '"split": "folders" needs image folders (data.images)');
  } else {
    const group = classIndex ?? Int32Array.from(scan.targetValue ?? [], (v) => (v === v ? 0 : -1));
    split = assignFractionSplit(scan.hashHi, scan.hashLo, group, def);
  }
  // Rows without a usable target are in no split.
  for (let i = 0; i < split.length; i++) {
    const t = classIndex ? classIndex[i] : scan.targetValue![i];
    if (classIndex ? t < 0 : !(t === t)) split[i] = NO_SPLIT;
  }
  return { split, version, classes, classIndex };
}

/** Errors that make the data unusable for training, from a scan (missing columns included). */
export function fatalScanError(spec: ProjectSpec, scan: TableScan): DataError | undefined {
  const missing = scan.missingColumns[0];
  if (missing) {
    return new DataError(
      scan.file,
      1,
      'data-unknown-column',
      `The header has no column "${missing.name}" (data.${missing.role === 'split' ? 'split.column' : missing.role})`,
    );
  }
  const err = scan.problems.find((p) => dataProblemSeverity(p) === 'error');
  if (err) return err;
  if (spec.task === 'classification' && scan.target && scan.target.strings.size < 2) {
    return new DataError(
      scan.file,
      1,
      'data-target-classes',
      `The target "${spec.data.target}" has ${scan.target.strings.size} class(es): classification needs at least 2`,
    );
  }
  return undefined;
}

/** `parallel` is on by default here: a large CSV's rows are scanned on several threads (scan.ts). */
export interface LoadDatasetOptions
  extends ReadOptions, Pick<ScanOptions, 'parallel' | 'parallelMinBytes' | 'threads'> {
  /** Record the split as row ids under .mlloop/splits (default true) and reuse a recorded one. */
  storeSplit?: boolean;
  /** Reuse (and write) a binary copy of the loaded split under .mlloop/cache/datasets, keyed by the
   *  data file's content hash, the data settings and the stored split (src/core/data/datasetCache.ts).
   *  Needs the stored split (storeSplit not false). */
  cache?: boolean;
  /** Told where the rows of a table came from: the dataset cache, or the data file (parsed). */
  onSource?: (source: DatasetSource) => void;
}

export type DatasetSource = 'cache' | 'file';

/**
 * Loads the project's data split into train/dev/test, ready for trainers. Throws ProjectInvalidError for
 * an invalid mlloop.json and DataError (file and line) for unusable data.
 */
export async function loadSplitDataset(project: ProjectInput, opts: LoadDatasetOptions = {}): Promise<SplitDataset> {
  const ref = await resolveProject(project);
  if (isImageProject(ref.spec)) return loadImageSplitDataset(ref, { cache: opts.cache, storeSplit: opts.storeSplit });
  if (!opts.cache || opts.storeSplit === false) {
    opts.onSource?.('file');
    return parseSplitDataset(ref, opts);
  }
  const projectDir = dirname(ref.projectFile);
  const file = dataFileOf(ref);
  const key = (await hasDatasetCacheEntries(projectDir))
    ? await datasetCacheKey(ref.spec, projectDir, file, opts.maxBytes)
    : undefined;
  const cached = key && (await readDatasetCache(projectDir, key));
  if (cached) {
    await touchDatasetCache(projectDir, key);
    opts.onSource?.('cache');
    return cached;
  }
  opts.onSource?.('file');
  const dataset = await parseSplitDataset(ref, opts);
  // The key of what was parsed (the load has just stored the split it depends on, if it was not).
  const parsed = await datasetCacheKeyOf(ref.spec, projectDir, dataset.version.fileHash);
  if (parsed) await writeDatasetCache(projectDir, parsed, dataset).catch(() => undefined);
  return dataset;
}

/** loadSplitDataset without the cache: one streaming pass over the file (two for some categorical columns). */
async function parseSplitDataset(ref: ProjectRef, opts: LoadDatasetOptions): Promise<SplitDataset> {
  const { spec } = ref;
  const file = dataFileOf(ref);
  const scan = await scanTable(spec, file, { ...opts, parallel: opts.parallel ?? true, storeValues: true });
  const fatal = fatalScanError(spec, scan);
  if (fatal) throw fatal;
  const rowSplit = splitScannedRows(spec, scan);
  const ids = rowIds(scan.hashHi, scan.hashLo);
  let split = rowSplit.split;
  const projectDir = dirname(ref.projectFile);
  if (opts.storeSplit !== false) {
    const stored = await readStoredSplit(projectDir, rowSplit.version);
    if (stored) split = applyStoredSplit(ids, split, stored);
    else await writeStoredSplit(projectDir, storedSplitOf(spec, rowSplit.version, ids, split));
  }
  if (countSplits(split).train === 0)
    throw new DataError(file, 1, 'data-no-dev-rows', 'The split leaves no training rows');

  const numericCols = scan.features.filter((c) => c.kind === 'numeric');
  const categoricalCols = scan.features.filter((c) => c.kind === 'categorical');
  const schema: FeatureSchema = {
    task: spec.task,
    target: spec.data.target,
    numeric: numericCols.map((c) => c.name),
    categorical: categoricalCols.map((c) => c.name),
    ...(rowSplit.classes ? { classes: rowSplit.classes } : {}),
  };
  const counts = countSplits(split);
  if (categoricalCols.every((c) => c.forcedCategorical && !c.distinctCapped)) {
    const [train, dev, test] = rowsFromScan(
      scan,
      split,
      counts,
      numericCols,
      categoricalCols,
      ids,
      rowSplit.classIndex,
    );
    return { schema, train, dev, test, version: rowSplit.version };
  }
  const builders = [counts.train, counts.dev, counts.test].map((n) => new RowsBuilder(n, numericCols.length));
  const numIdx = numericCols.map((c) => c.index);
  const catIdx = categoricalCols.map((c) => c.index);
  const targetIdx = scan.target!.index;
  let row = 0;
  const second = await readTable(
    file,
    {
      header() {},
      record(fields) {
        const i = row++;
        const s = split[i];
        if (s === NO_SPLIT) return;
        const b = builders[s];
        for (const k of numIdx) b.numeric.push(parseNumber(fields[k]));
        for (const k of catIdx) b.categories.push(isMissing(fields[k]) ? '' : fields[k]);
        b.y.push(rowSplit.classIndex ? rowSplit.classIndex[i] : parseNumber(fields[targetIdx]));
        b.ids.push(ids[i]);
        b.rowIndex.push(i);
      },
    },
    opts,
  );
  if (second.fileHash !== scan.fileHash || row !== scan.rows) {
    throw new DataError(file, 1, 'data-read-failed', 'The data file changed while it was being read; try again');
  }
  const [train, dev, test] = builders.map((b) => b.build());
  return { schema, train, dev, test, version: rowSplit.version };
}

/**
 * The rows from the values the scan kept: numeric cells as parsed, categorical ones by their code.
 * Numeric values are copied a block of columns at a time, row by row within a block (each output row
 * written in sequence, not strided across the whole matrix once per column), and each block's scan
 * columns are released once copied, so the scan's copy and the rows' copy of a large file are not
 * both whole at the peak.
 */
function rowsFromScan(
  scan: TableScan,
  split: Uint8Array,
  counts: { train: number; dev: number; test: number },
  numericCols: ColumnScan[],
  categoricalCols: ColumnScan[],
  ids: string[],
  classIndex: ArrayLike<number> | undefined,
): Rows[] {
  const F = numericCols.length;
  const K = categoricalCols.length;
  const sizes = [counts.train, counts.dev, counts.test];
  const rows = sizes.map((n): Rows => ({
    features: { n, numeric: new Float32Array(n * F), categories: new Array<string>(n * K) },
    y: new Float64Array(n),
    ids: new Array<string>(n),
    // Each split's rows in file order: the source row of every place.
    rowIndex: new Uint32Array(n),
  }));
  const next = [0, 0, 0];
  const codes = categoricalCols.map((c) => c.codes?.view());
  const names = categoricalCols.map((c) => [...c.strings.keys()]);
  const target = scan.targetValue;
  for (let i = 0; i < scan.rows; i++) {
    const s = split[i];
    if (s === NO_SPLIT) continue;
    const r = rows[s];
    const p = next[s]++;
    for (let k = 0; k < K; k++) {
      const code = codes[k]?.[i] ?? -1;
      r.features.categories[p * K + k] = code < 0 ? '' : names[k][code];
    }
    r.y[p] = classIndex ? classIndex[i] : target![i];
    r.ids[p] = ids[i];
    r.rowIndex[p] = i;
  }
  for (let f0 = 0; f0 < F; f0 += COPY_BLOCK) {
    const block = numericCols.slice(f0, f0 + COPY_BLOCK);
    const columns = block.map((c) => c.values!.view());
    const B = columns.length;
    for (const r of rows) {
      const out = r.features.numeric;
      const from = r.rowIndex;
      for (let p = 0, o = f0; p < from.length; p++, o += F) {
        const i = from[p];
        for (let b = 0; b < B; b++) out[o + b] = columns[b][i];
      }
    }
    for (const c of block) c.values = undefined;
  }
  return rows;
}

/** Scan columns copied into the rows together (rowsFromScan). */
const COPY_BLOCK = 8;

export function storedSplitOf(spec: ProjectSpec, version: DataVersion, ids: string[], split: Uint8Array): StoredSplit {
  const dev: string[] = [];
  const test: string[] = [];
  split.forEach((s, i) => (s === 1 ? dev.push(ids[i]) : s === 2 ? test.push(ids[i]) : undefined));
  return { version, definition: splitDefinition(spec), counts: countSplits(split), dev, test };
}

class RowsBuilder {
  readonly numeric: Growable<Float32Array>;
  readonly categories: string[] = [];
  readonly y: Growable<Float64Array>;
  readonly ids: string[] = [];
  readonly rowIndex: Growable<Uint32Array>;

  constructor(n: number, numericCount: number) {
    this.numeric = new GrowableFloat32(Math.max(1, n * numericCount));
    this.y = new GrowableFloat64(Math.max(1, n));
    this.rowIndex = new GrowableUint32(Math.max(1, n));
  }

  build(): Rows {
    return {
      features: { n: this.ids.length, numeric: this.numeric.view(), categories: this.categories },
      y: this.y.view(),
      ids: this.ids,
      rowIndex: this.rowIndex.view(),
    };
  }
}
