// One streaming pass over a project's data: column typing, per-row content hashes, class labels and
// split-column values, and the data problems found on the way (each at its data-file line).
// Validation, profiling and dataset loading all start from this pass, so they type columns alike.
import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { workerScript, type WorkerSource } from '../runtime/worker';
import type { ProjectSpec } from '../spec/types';
import { isColumnSplit } from '../spec/types';
import { DataError, type DataErrorCode } from './errors';
import {
  GrowableFloat32,
  GrowableFloat64,
  GrowableInt32,
  GrowableUint32,
  GrowableUint8,
  type Growable,
} from './growable';
import {
  dataFormat,
  PARALLEL_MIN_BYTES,
  planCsvRanges,
  readCsvRange,
  readTable,
  type CsvRange,
  type ReadOptions,
} from './reader';
import { hashCells } from './prng';
import { isMissing, parseNumber } from './values';

export type ColumnRole = 'feature' | 'target' | 'split' | 'ignored';
export type ColumnKind = 'numeric' | 'categorical';

/** Distinct values tracked exactly per column; beyond it `distinct` is a lower bound. */
export const DISTINCT_CAP = 10_000;
/** Rows whose length estimates the file's row count (the per-row arrays are sized from it). */
const ESTIMATE_ROWS = 1000;
/** Ragged rows reported one by one before the rest are only counted. */
const MAX_REPORTED_ROWS = 10;

export interface ScanOptions extends ReadOptions {
  /** Keep each row's numeric value and categorical code per column (for the profile). */
  storeValues?: boolean;
  /** For image projects: keep this many rows' feature values per class. */
  imageSamplesPerClass?: number;
  /** Read a large CSV file's rows on several threads when it can be split safely (planCsvRanges). Its scan
   *  is the one-pass scan, except which values a column past DISTINCT_CAP tracks (its `distinct`, and
   *  the codes of a capped categorical column, which the dataset load then reads again from the file)
   *  and the rounding of mean and std. */
  parallel?: boolean;
  /** Files below this size are scanned on one thread (default PARALLEL_MIN_BYTES; tests lower it). */
  parallelMinBytes?: number;
  /** Threads of a parallel scan (default one per core; at most MAX_SCAN_THREADS). */
  threads?: number;
}

export class ColumnScan {
  count = 0;
  missing = 0;
  numeric = 0;
  nonNumeric = 0;
  firstNonNumeric?: { value: string; line: number };
  min = Infinity;
  max = -Infinity;
  // Sums of values shifted by the first one: one pass, no division per value, and no catastrophic
  // cancellation for data far from zero (the shifted-data variance algorithm).
  private shift = 0;
  private sum = 0;
  private sumSq = 0;
  /** Distinct numbers (while under DISTINCT_CAP). */
  readonly numbers = new Set<number>();
  /** Non-numeric strings (all strings for forced-categorical columns) → code; counts[code]. */
  readonly strings = new Map<string, number>();
  readonly stringCounts: number[] = [];
  distinctCapped = false;
  /** Per row (storeValues): the number, NaN when missing or not a number. */
  values?: Growable<Float32Array>;
  /** Per row (storeValues): code into `strings`, -1 when missing, numeric or beyond the cap. */
  codes?: Growable<Int32Array>;
  kind: ColumnKind = 'numeric';

  constructor(
    readonly name: string,
    readonly index: number,
    public role: ColumnRole,
    readonly forcedCategorical: boolean,
    readonly store: boolean,
  ) {
    if (store && !forcedCategorical) this.values = new GrowableFloat32(4096);
  }

  get distinct(): number {
    return this.numbers.size + this.strings.size;
  }

  /** What this column's scan found, as plain data (posted from the thread that scanned a range of rows). */
  state(): ColumnScanState {
    const { count, missing, numeric, nonNumeric, firstNonNumeric, min, max, shift, sum, sumSq } = this;
    return {
      ...{ count, missing, numeric, nonNumeric, firstNonNumeric, min, max, shift, sum, sumSq },
      numbers: this.numbers,
      strings: this.strings,
      stringCounts: this.stringCounts,
      distinctCapped: this.distinctCapped,
      values: this.values?.view(),
      codes: this.codes?.view(),
    };
  }

  /**
   * Appends the scan of the `rows` rows that follow this column's `rowsBefore` (another range of the
   * file, scanned by another thread), as if this column had scanned them itself: the later range's
   * strings get codes after this column's own, in their order of appearance. Returns the later
   * range's string code → this column's code (-1 beyond the distinct cap).
   */
  absorb(s: ColumnScanState, rowsBefore: number, rows: number): Int32Array {
    this.count += s.count;
    this.missing += s.missing;
    if (s.numeric > 0) {
      if (this.numeric === 0) [this.shift, this.sum, this.sumSq] = [s.shift, s.sum, s.sumSq];
      else {
        // The later sums re-shifted to this column's shift: Σ(v − a) = Σ(v − b) + n(b − a), and its square.
        const d = s.shift - this.shift;
        this.sumSq += s.sumSq + 2 * d * s.sum + s.numeric * d * d;
        this.sum += s.sum + s.numeric * d;
      }
    }
    this.numeric += s.numeric;
    this.nonNumeric += s.nonNumeric;
    this.firstNonNumeric ??= s.firstNonNumeric;
    if (s.min < this.min) this.min = s.min;
    if (s.max > this.max) this.max = s.max;
    for (const v of s.numbers) {
      if (this.distinctCapped) break;
      if (this.numbers.has(v)) continue;
      if (this.distinct < DISTINCT_CAP) this.numbers.add(v);
      else this.distinctCapped = true;
    }
    const remap = new Int32Array(s.strings.size);
    for (const [raw, later] of s.strings) {
      const code = this.codeOf(raw);
      remap[later] = code;
      if (code >= 0) this.stringCounts[code] += s.stringCounts[later];
    }
    if (s.distinctCapped) this.distinctCapped = true;
    if (s.values) this.values?.append(s.values);
    if (s.codes) {
      if (!this.codes) {
        this.codes = new GrowableInt32(rowsBefore + rows);
        this.codes.fill(-1, rowsBefore);
      }
      this.codes.append(s.codes.map((c) => (c < 0 ? -1 : remap[c])));
    } else this.codes?.fill(-1, rows);
    return remap;
  }

  /** The code of a string cell: its own once seen, a new one while under the cap (a target's always), else -1. */
  private codeOf(raw: string): number {
    let code = this.strings.get(raw);
    if (code === undefined) {
      if (this.distinct < DISTINCT_CAP || this.role === 'target') {
        code = this.strings.size;
        this.strings.set(raw, code);
        this.stringCounts.push(0);
      } else {
        this.distinctCapped = true;
        code = -1;
      }
    }
    return code;
  }

  /** Adds one cell; returns the string code (≥ 0) for categorical cells, -1 otherwise. */
  add(raw: string, line: number, rowsBefore: number): number {
    this.count++;
    // Numbers first: most cells of a large file are numbers, and no number is a missing token.
    const v = this.forcedCategorical ? NaN : parseNumber(raw);
    if (v === v) {
      if (this.numeric++ === 0) this.shift = v;
      if (v < this.min) this.min = v;
      if (v > this.max) this.max = v;
      const d = v - this.shift;
      this.sum += d;
      this.sumSq += d * d;
      if (!this.distinctCapped && !this.numbers.has(v)) {
        if (this.distinct < DISTINCT_CAP) this.numbers.add(v);
        else this.distinctCapped = true;
      }
      this.values?.push(v);
      this.codes?.push(-1);
      return -1;
    }
    if (isMissing(raw)) {
      this.missing++;
      this.values?.push(NaN);
      this.codes?.push(-1);
      return -1;
    }
    if (!this.forcedCategorical) {
      this.nonNumeric++;
      this.firstNonNumeric ??= { value: raw, line };
      this.values?.push(NaN);
    }
    const code = this.codeOf(raw);
    if (code >= 0) this.stringCounts[code]++;
    if (this.store) {
      if (!this.codes) {
        this.codes = new GrowableInt32(4096);
        this.codes.fill(-1, rowsBefore);
      }
      this.codes.push(code);
    }
    return code;
  }

  /** A column is numeric when its values are numbers; a handful of stray strings among many numbers
   *  are errors in a numeric column rather than categories. */
  decideKind(): void {
    const allMissing = this.numeric + this.nonNumeric === 0;
    if (this.forcedCategorical || (this.nonNumeric > 0 && !this.isNumericWithStrayValues())) this.kind = 'categorical';
    // An empty feature column stays numeric (all NaN, imputed); an empty target or split column has no numbers to be.
    else this.kind = allMissing && this.role !== 'feature' ? 'categorical' : 'numeric';
  }

  isNumericWithStrayValues(): boolean {
    if (this.forcedCategorical || this.nonNumeric === 0) return false;
    const nonMissing = this.numeric + this.nonNumeric;
    return this.numeric > this.nonNumeric && this.nonNumeric <= Math.max(2, 0.01 * nonMissing);
  }

  get mean(): number {
    return this.numeric ? this.shift + this.sum / this.numeric : 0;
  }

  /** Sample standard deviation (n - 1). */
  get std(): number {
    const n = this.numeric;
    return n > 1 ? Math.sqrt(Math.max(0, (this.sumSq - (this.sum * this.sum) / n) / (n - 1))) : 0;
  }
}

/** A column's scan as plain data (ColumnScan.state, ColumnScan.absorb). */
export interface ColumnScanState {
  count: number;
  missing: number;
  numeric: number;
  nonNumeric: number;
  firstNonNumeric?: { value: string; line: number };
  min: number;
  max: number;
  shift: number;
  sum: number;
  sumSq: number;
  numbers: Set<number>;
  strings: Map<string, number>;
  stringCounts: number[];
  distinctCapped: boolean;
  values?: Float32Array;
  codes?: Int32Array;
}

export interface TableScan {
  file: string;
  fileHash: string;
  bytes: number;
  header: string[];
  columns: ColumnScan[];
  /** Spec columns (target, features, split column, categorical) that the header lacks. */
  missingColumns: { name: string; role: 'target' | 'feature' | 'split' | 'categorical'; index?: number }[];
  target?: ColumnScan;
  splitColumn?: ColumnScan;
  features: ColumnScan[];
  rows: number;
  /** 64-bit content hash of each row (all columns but the split column), as two 32-bit halves. */
  hashHi: Uint32Array;
  hashLo: Uint32Array;
  /** Classification: per row, code into target.strings (-1 = missing target). */
  targetCode?: Int32Array;
  /** Regression: per row, the target value (NaN = missing or not a number). */
  targetValue?: Float64Array;
  /** Column split: per row 0 train, 1 dev, 2 test, 255 unrecognised or missing. */
  splitCode?: Uint8Array;
  /** Data problems, each at its data-file line. */
  problems: DataError[];
  /** Threads that read the file (more than 1: split in byte ranges, ScanOptions.parallel). */
  threads: number;
  /** image projects: first rows' feature values per target code. */
  imageSamples?: Map<number, number[][]>;
}

const SPLIT_VALUES: Record<string, number> = { train: 0, dev: 1, test: 2 };

/** What a scan reads from the spec: the same for every range of the file. */
interface ScanSettings {
  spec: ProjectSpec;
  file: string;
  classification: boolean;
  splitColumnName?: string;
  store: boolean;
  samplesPerClass: number;
}

function scanSettings(spec: ProjectSpec, file: string, opts: ScanOptions): ScanSettings {
  const split = spec.data.split;
  return {
    spec,
    file,
    classification: spec.task === 'classification',
    splitColumnName: split && isColumnSplit(split) ? split.column : undefined,
    store: !!opts.storeValues,
    samplesPerClass: opts.imageSamplesPerClass ?? 0,
  };
}

/** What the scan of a range of data rows found, as plain data (posted by the thread that scanned it). */
export interface ScanPart {
  /** Data records read, ragged ones included. */
  records: number;
  rows: number;
  columns: ColumnScanState[];
  hashHi: Uint32Array;
  hashLo: Uint32Array;
  targetCode?: Int32Array;
  targetValue?: Float64Array;
  splitCode?: Uint8Array;
  /** The first MAX_REPORTED_ROWS ragged records: line and field count. */
  ragged: { line: number; fields: number }[];
  raggedRows: number;
  badSplit?: { line: number; value: string };
  missingTargets: number;
  firstMissingTarget: number;
}

/**
 * The per-row work of a scan under a known header: of the whole file, or of one range of its rows
 * (another thread's range is then appended with absorb, so both end as one scan of the file).
 */
export class RowScanner {
  readonly columns: ColumnScan[];
  readonly missingColumns: TableScan['missingColumns'] = [];
  readonly target?: ColumnScan;
  readonly splitColumn?: ColumnScan;
  readonly features: ColumnScan[];
  private readonly splitIndex: number;
  private readonly rowHash = new Uint32Array(2);
  private readonly hashHi = new GrowableUint32(4096);
  private readonly hashLo = new GrowableUint32(4096);
  private readonly targetCode?: Growable<Int32Array>;
  private readonly targetValue?: Growable<Float64Array>;
  private readonly splitCode?: Growable<Uint8Array>;
  private readonly ragged: ScanPart['ragged'] = [];
  private raggedRows = 0;
  private badSplit?: ScanPart['badSplit'];
  private missingTargets = 0;
  private firstMissingTarget = 0;
  records = 0;
  rows = 0;
  readonly imageSamples?: Map<number, number[][]>;
  private sampledChars = 0;

  /** `reserveBytes`: the size of the text whose rows this scanner will hold (its per-row arrays are sized from it). */
  constructor(
    private readonly settings: ScanSettings,
    readonly header: string[],
    private readonly reserveBytes: number,
  ) {
    const { spec, classification, splitColumnName } = settings;
    const data = spec.data;
    const categorical = new Set(data.categorical ?? []);
    const index = new Map(header.map((c, i) => [c, i]));
    if (!index.has(data.target)) this.missingColumns.push({ name: data.target, role: 'target' });
    if (splitColumnName !== undefined && !index.has(splitColumnName))
      this.missingColumns.push({ name: splitColumnName, role: 'split' });
    (data.features ?? []).forEach((f, i) => {
      if (!index.has(f)) this.missingColumns.push({ name: f, role: 'feature', index: i });
    });
    (data.categorical ?? []).forEach((f, i) => {
      if (!index.has(f)) this.missingColumns.push({ name: f, role: 'categorical', index: i });
    });
    const featureSet = data.features ? new Set(data.features) : undefined;
    this.columns = header.map((name, i) => {
      const role: ColumnRole =
        name === data.target
          ? 'target'
          : name === splitColumnName
            ? 'split'
            : !featureSet || featureSet.has(name)
              ? 'feature'
              : 'ignored';
      // A classification target and the split column hold labels, whatever they look like.
      const forced = categorical.has(name) || role === 'split' || (role === 'target' && classification);
      return new ColumnScan(name, i, role, forced, settings.store);
    });
    const columns = this.columns;
    this.target = columns.find((c) => c.role === 'target');
    this.splitColumn = columns.find((c) => c.role === 'split');
    this.features = (data.features ?? header)
      .map((f) => columns[index.get(f) ?? -1])
      .filter((c): c is ColumnScan => !!c && c.role === 'feature');
    this.splitIndex = this.splitColumn?.index ?? -1;
    if (classification) this.targetCode = new GrowableInt32(4096);
    else this.targetValue = new GrowableFloat64(4096);
    if (splitColumnName !== undefined) this.splitCode = new GrowableUint8(4096);
    if (settings.samplesPerClass > 0 && classification) this.imageSamples = new Map();
  }

  record(fields: string[], line: number): void {
    this.records++;
    const { columns, target, splitColumn } = this;
    if (fields.length !== columns.length) {
      if (this.raggedRows++ < MAX_REPORTED_ROWS) this.ragged.push({ line, fields: fields.length });
      return;
    }
    const rows = this.rows;
    let tcode = -1;
    for (let i = 0; i < columns.length; i++) {
      const c = columns[i];
      const code = c.add(fields[i], line, rows);
      if (c === target) tcode = code;
    }
    // The split column is not content: moving a row to another split keeps its id.
    hashCells(fields, this.splitIndex, this.rowHash);
    this.hashHi.push(this.rowHash[0]);
    this.hashLo.push(this.rowHash[1]);
    if (target) {
      const raw = fields[target.index];
      if (isMissing(raw)) {
        this.missingTargets++;
        this.firstMissingTarget ||= line;
      }
      if (this.targetCode) this.targetCode.push(tcode);
      else this.targetValue!.push(parseNumber(raw));
    } else {
      this.targetCode?.push(-1);
      this.targetValue?.push(NaN);
    }
    if (this.splitCode && splitColumn) {
      const raw = fields[splitColumn.index].trim().toLowerCase();
      const code = SPLIT_VALUES[raw];
      this.splitCode.push(code ?? 255);
      if (code === undefined && !this.badSplit) this.badSplit = { line, value: fields[splitColumn.index] };
    } else this.splitCode?.push(255);
    if (rows < ESTIMATE_ROWS) {
      for (let i = 0; i < fields.length; i++) this.sampledChars += fields[i].length + 1;
      if (rows === ESTIMATE_ROWS - 1 && this.reserveBytes > 0) this.reserveRows();
    }
    const samples = this.imageSamples;
    if (samples && tcode >= 0) {
      let list = samples.get(tcode);
      if (!list) samples.set(tcode, (list = []));
      if (list.length < this.settings.samplesPerClass)
        list.push(this.features.map((f) => parseNumber(fields[f.index])));
    }
    this.rows++;
  }

  /** Per-row arrays are sized from the text's size and the first rows' length: a large file's columns
   *  then grow once, not by doubling (which held up to twice the memory, and copies of it, at the peak). */
  private reserveRows(): void {
    const estimate = Math.ceil((this.reserveBytes / (this.sampledChars / ESTIMATE_ROWS)) * 1.02) + 1024;
    for (const g of [this.hashHi, this.hashLo, this.targetCode, this.targetValue, this.splitCode]) g?.reserve(estimate);
    for (const c of this.columns) c.values?.reserve(estimate);
  }

  /** This scanner's rows as plain data (the typed arrays are views: post them transferred). */
  part(): ScanPart {
    return {
      records: this.records,
      rows: this.rows,
      columns: this.columns.map((c) => c.state()),
      hashHi: this.hashHi.view(),
      hashLo: this.hashLo.view(),
      targetCode: this.targetCode?.view(),
      targetValue: this.targetValue?.view(),
      splitCode: this.splitCode?.view(),
      ragged: this.ragged,
      raggedRows: this.raggedRows,
      badSplit: this.badSplit,
      missingTargets: this.missingTargets,
      firstMissingTarget: this.firstMissingTarget,
    };
  }

  /** Appends the scan of the rows that follow this scanner's (the file's next range), as if it had read them. */
  absorb(part: ScanPart): void {
    this.records += part.records;
    let targetRemap: Int32Array | undefined;
    this.columns.forEach((c, i) => {
      const remap = c.absorb(part.columns[i], this.rows, part.rows);
      if (c === this.target) targetRemap = remap;
    });
    this.hashHi.append(part.hashHi);
    this.hashLo.append(part.hashLo);
    if (this.targetCode && part.targetCode) {
      const remap = targetRemap;
      this.targetCode.append(remap ? part.targetCode.map((c) => (c < 0 ? -1 : remap[c])) : part.targetCode);
    }
    if (this.targetValue && part.targetValue) this.targetValue.append(part.targetValue);
    if (this.splitCode && part.splitCode) this.splitCode.append(part.splitCode);
    for (const r of part.ragged) if (this.ragged.length < MAX_REPORTED_ROWS) this.ragged.push(r);
    this.raggedRows += part.raggedRows;
    this.badSplit ??= part.badSplit;
    this.missingTargets += part.missingTargets;
    this.firstMissingTarget ||= part.firstMissingTarget;
    this.rows += part.rows;
  }

  /** The scan of the file: columns typed, data problems listed in the file's order. */
  finish(fileHash: string, bytes: number, threads: number): TableScan {
    const { file, spec, classification } = this.settings;
    const { columns, target } = this;
    const problems: DataError[] = this.ragged.map(
      (r) =>
        new DataError(
          file,
          r.line,
          'data-ragged',
          `This row has ${r.fields} fields; the header has ${this.header.length}`,
        ),
    );
    if (this.raggedRows > MAX_REPORTED_ROWS) {
      problems.push(
        new DataError(
          file,
          problems[MAX_REPORTED_ROWS - 1].line,
          'data-ragged',
          `${this.raggedRows - MAX_REPORTED_ROWS} more rows have the wrong number of fields`,
        ),
      );
    }
    if (this.badSplit && this.splitColumn) {
      problems.push(
        new DataError(
          file,
          this.badSplit.line,
          'data-bad-split-value',
          `The split column "${this.splitColumn.name}" holds "${this.badSplit.value}": its values must be train, dev or test`,
        ),
      );
    }
    for (const c of columns) {
      c.decideKind();
      if (c.isNumericWithStrayValues() && c.role !== 'ignored') {
        const bad = c.firstNonNumeric!;
        const more = c.nonNumeric > 1 ? ` (and ${c.nonNumeric - 1} more)` : '';
        const hint = c.role === 'feature' ? `; list it in data.categorical if its values are categories` : '';
        problems.push(
          new DataError(
            file,
            bad.line,
            'data-non-numeric',
            `Non-numeric value "${bad.value}" in the numeric column "${c.name}"${more}${hint}`,
          ),
        );
      }
    }
    if (!classification && target && target.nonNumeric > 0 && !target.isNumericWithStrayValues()) {
      const bad = target.firstNonNumeric!;
      problems.push(
        new DataError(
          file,
          bad.line,
          'data-non-numeric',
          `The regression target "${target.name}" holds the non-numeric value "${bad.value}": a regression target must be numbers`,
        ),
      );
    }
    if (this.missingTargets > 0) {
      problems.push(
        new DataError(
          file,
          this.firstMissingTarget,
          'data-missing-target',
          `${this.missingTargets} row(s) have no value for the target "${spec.data.target}"; they are left out`,
        ),
      );
    }
    return {
      file,
      fileHash,
      bytes,
      header: this.header,
      columns,
      missingColumns: this.missingColumns,
      target,
      splitColumn: this.splitColumn,
      features: this.features,
      rows: this.rows,
      hashHi: this.hashHi.view(),
      hashLo: this.hashLo.view(),
      targetCode: this.targetCode?.view(),
      targetValue: this.targetValue?.view(),
      splitCode: this.splitCode?.view(),
      problems,
      threads,
      imageSamples: this.imageSamples,
    };
  }
}

/** Streams the project's data file once. Throws DataError when the file cannot be read at all. */
export async function scanTable(spec: ProjectSpec, file: string, opts: ScanOptions = {}): Promise<TableScan> {
  const settings = scanSettings(spec, file, opts);
  if (opts.parallel && settings.samplesPerClass === 0) {
    const scanned = await scanInParallel(settings, opts);
    if (scanned) return scanned;
  }
  const fileBytes = await stat(file).then(
    (st) => st.size,
    () => 0, // readTable reports the missing file
  );
  let scanner: RowScanner | undefined;
  const result = await readTable(
    file,
    {
      header(cols) {
        scanner = new RowScanner(settings, cols, fileBytes);
      },
      record(fields, line) {
        scanner!.record(fields, line);
      },
    },
    opts,
  );
  return scanner!.finish(result.fileHash, result.bytes, 1);
}

/** One range of a CSV file's rows to scan in a worker thread (src/worker/csvScan.ts). */
export interface RangeScanJob {
  spec: ProjectSpec;
  file: string;
  header: string[];
  range: CsvRange;
  store: boolean;
}

/** Scans one range of rows (in the thread it runs in). */
export async function scanRange(job: RangeScanJob): Promise<ScanPart> {
  const scanner = new RowScanner(
    scanSettings(job.spec, job.file, { storeValues: job.store }),
    job.header,
    job.range.end - job.range.start,
  );
  await readCsvRange(job.file, job.range, scanner);
  return scanner.part();
}

/** The buffers of a part's arrays, to post it transferred rather than copied. */
export function scanPartBuffers(part: ScanPart): ArrayBuffer[] {
  const arrays: (ArrayBufferView | undefined)[] = [
    part.hashHi,
    part.hashLo,
    part.targetCode,
    part.targetValue,
    part.splitCode,
  ];
  for (const c of part.columns) arrays.push(c.values, c.codes);
  return [...new Set(arrays.map((a) => a?.buffer).filter((b): b is ArrayBuffer => b instanceof ArrayBuffer))];
}

/** Threads that scan a large CSV at most (this one and its workers). */
export const MAX_SCAN_THREADS = 4;
/** Young generation of a range worker, in MB (measured on a 600,000 × 31 file: 16 keeps its speed). */
const RANGE_WORKER_YOUNG_MB = 16;

/** A worker scanning one range: its part when it posts it (a DataError when the data is at fault). */
function rangeWorker(script: WorkerSource): { worker: Worker; part: Promise<ScanPart> } {
  // A smaller young generation than V8's default: the parse's short-lived strings are collected as
  // fast, and the process's peak memory stays 10-30 MB above the one-thread scan's (50-70 MB above
  // with the default).
  const worker = new Worker(script.source, {
    eval: script.eval,
    resourceLimits: { maxYoungGenerationSizeMb: RANGE_WORKER_YOUNG_MB },
  });
  const part = new Promise<ScanPart>((resolve, reject) => {
    worker.once('message', (m: { part?: ScanPart; error?: SerializedScanError }) => {
      // Its answer is all it had to give: its heap (the parse's garbage) goes now, not after the merge.
      void worker.terminate();
      if (m.part) resolve(m.part);
      else reject(reviveScanError(m.error!));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`The CSV scan worker stopped (exit code ${code})`)));
  });
  part.catch(() => undefined); // awaited in range order, after this thread's range
  return { worker, part };
}

/**
 * The scan on several threads (one per core, at most MAX_SCAN_THREADS): this one reads the first range
 * of rows while workers read the others (planCsvRanges splits at line ends, only in files without
 * quotes), then the workers' parts are appended in file order. Undefined (scan in one pass) when the
 * file does not qualify or a worker fails.
 */
async function scanInParallel(settings: ScanSettings, opts: ScanOptions): Promise<TableScan | undefined> {
  const size = await stat(settings.file).then(
    (st) => st.size,
    () => 0,
  );
  const minBytes = opts.parallelMinBytes ?? PARALLEL_MIN_BYTES;
  const threads = Math.min(opts.threads ?? availableParallelism(), MAX_SCAN_THREADS);
  if (threads < 2 || size < minBytes || dataFormat(settings.file) !== 'csv') return undefined;
  let script: WorkerSource;
  try {
    script = workerScript('csvScan');
  } catch {
    return undefined; // a bundle without dist/worker-csvScan.js
  }
  // The workers load their code while this thread reads the file for the plan.
  const workers = Array.from({ length: threads - 1 }, () => rangeWorker(script));
  try {
    const plan = await planCsvRanges(settings.file, threads, { maxBytes: opts.maxBytes, minBytes });
    if (!plan) return undefined;
    const [first, ...rest] = plan.ranges;
    rest.forEach((range, k) => {
      const job: RangeScanJob = {
        spec: settings.spec,
        file: settings.file,
        header: plan.header,
        range,
        store: settings.store,
      };
      workers[k].worker.postMessage(job);
    });
    const scanner = new RowScanner(settings, plan.header, plan.bytes);
    // The ranges in file order: the first error found is the file's first one.
    await readCsvRange(settings.file, first, scanner);
    for (const { part: pending } of workers) {
      const part = await pending.catch((e: unknown) => {
        if (e instanceof DataError) throw e;
        return undefined; // the worker failed (not the data): scan in one pass
      });
      if (!part) return undefined;
      scanner.absorb(part);
    }
    if (scanner.records === 0)
      throw new DataError(settings.file, 2, 'data-header-only', 'The data file has a header row but no data rows');
    return scanner.finish(plan.fileHash, plan.bytes, plan.ranges.length);
  } finally {
    for (const { worker } of workers) void worker.terminate();
  }
}

/** An error of a range scan as posted by the worker (a DataError keeps its file, line and code). */
export interface SerializedScanError {
  message: string;
  data?: { file: string; line: number; code: DataErrorCode; detail: string; column: number };
}

export function serializeScanError(e: unknown): SerializedScanError {
  if (e instanceof DataError)
    return {
      message: e.message,
      data: { file: e.file, line: e.line, code: e.code, detail: e.detail, column: e.column },
    };
  return { message: e instanceof Error ? e.message : String(e) };
}

function reviveScanError(e: SerializedScanError): Error {
  const d = e.data;
  return d ? new DataError(d.file, d.line, d.code, d.detail, d.column) : new Error(e.message);
}

/** Severity of a scan problem: a missing target only drops rows; everything else is an error. */
export function dataProblemSeverity(e: DataError): 'error' | 'warning' {
  return e.code === 'data-missing-target' ? 'warning' : 'error';
}

/** Classification: class names in class-index order (numeric labels by value, others by text) and
 *  the map from target.strings codes to class index. */
/** Class names in class-index order: numerically when all are numbers, else by code point. */
export function sortClassNames(names: string[]): string[] {
  const numeric = names.every((n) => parseNumber(n) === parseNumber(n));
  return [...names].sort(numeric ? (a, b) => parseNumber(a) - parseNumber(b) : (a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export function classesOf(target: ColumnScan): { classes: string[]; codeToClass: Int32Array } {
  const names = [...target.strings.keys()];
  const sorted = sortClassNames(names);
  const rank = new Map(sorted.map((n, i) => [n, i]));
  const codeToClass = new Int32Array(names.length);
  names.forEach((n, code) => (codeToClass[code] = rank.get(n)!));
  return { classes: sorted, codeToClass };
}
