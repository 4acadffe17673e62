// One streaming pass over a project's data: column typing, per-row content hashes, class labels and
// split-column values, and the data problems found on the way (each at its data-file line).
// Validation, profiling and dataset loading all start from this pass, so they type columns alike.
import { stat } from 'node:fs/promises';
import type { ProjectSpec } from '../spec/types';
import { isColumnSplit } from '../spec/types';
import { DataError } from './errors';
import {
  GrowableFloat32,
  GrowableFloat64,
  GrowableInt32,
  GrowableUint32,
  GrowableUint8,
  type Growable,
} from './growable';
import { readTable, type ReadOptions } from './reader';
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
}

/** A ColumnScan's state as plain data (see ColumnScan.toRange). */
export interface ColumnRange {
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
  numbers: number[];
  /** In code order. */
  strings: string[];
  stringCounts: number[];
  distinctCapped: boolean;
  values?: Float32Array;
  codes?: Int32Array;
}

/** A TableScanner's state after one range of the file, as plain data (posted from its worker). */
export interface RangeScan {
  rows: number;
  /** Line ends in the range (its lines are numbered from 1 within it). */
  lines: number;
  columns: ColumnRange[];
  hashHi: Uint32Array;
  hashLo: Uint32Array;
  targetCode?: Int32Array;
  targetValue?: Float64Array;
  splitCode?: Uint8Array;
  ragged: { line: number; fields: number }[];
  raggedRows: number;
  firstBadSplit?: { line: number; value: string };
  firstMissingTarget: number;
  missingTargets: number;
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

  /** This column's state as plain data (a range's scan, posted from its worker). */
  toRange(): ColumnRange {
    return {
      count: this.count,
      missing: this.missing,
      numeric: this.numeric,
      nonNumeric: this.nonNumeric,
      firstNonNumeric: this.firstNonNumeric,
      min: this.min,
      max: this.max,
      shift: this.shift,
      sum: this.sum,
      sumSq: this.sumSq,
      numbers: [...this.numbers],
      strings: [...this.strings.keys()],
      stringCounts: this.stringCounts,
      distinctCapped: this.distinctCapped,
      values: this.values?.view(),
      codes: this.codes?.view(),
    };
  }

  /**
   * Appends the next range's state (`rowsBefore` rows so far, its lines `lineOffset` after this one's
   * numbering), as if its cells had been added here one by one. Returns the map from the range's string
   * codes to this column's, or undefined when the result could differ from one pass: a column holding
   * both numbers and strings past DISTINCT_CAP distinct values, whose cap depends on their interleaving.
   */
  appendRange(part: ColumnRange, rowsBefore: number, partRows: number, lineOffset: number): Int32Array | undefined {
    const mixed =
      (this.numbers.size > 0 || part.numbers.length > 0) && (this.strings.size > 0 || part.strings.length > 0);
    this.count += part.count;
    this.missing += part.missing;
    this.nonNumeric += part.nonNumeric;
    if (!this.firstNonNumeric && part.firstNonNumeric)
      this.firstNonNumeric = { value: part.firstNonNumeric.value, line: part.firstNonNumeric.line + lineOffset };
    if (part.numeric > 0) {
      if (this.numeric === 0) {
        this.shift = part.shift;
        this.sum = part.sum;
        this.sumSq = part.sumSq;
      } else {
        // The range's sums re-shifted to this column's shift.
        const d = part.shift - this.shift;
        this.sumSq += part.sumSq + 2 * d * part.sum + part.numeric * d * d;
        this.sum += part.sum + part.numeric * d;
      }
      this.numeric += part.numeric;
      this.min = Math.min(this.min, part.min);
      this.max = Math.max(this.max, part.max);
    }
    for (const v of part.numbers) {
      if (this.distinctCapped) break;
      if (this.numbers.has(v)) continue;
      if (this.distinct < DISTINCT_CAP) this.numbers.add(v);
      else this.distinctCapped = true;
    }
    const remap = new Int32Array(part.strings.length);
    part.strings.forEach((str, code) => {
      let mine = this.strings.get(str);
      if (mine === undefined) {
        if (this.distinct < DISTINCT_CAP || this.role === 'target') {
          mine = this.strings.size;
          this.strings.set(str, mine);
          this.stringCounts.push(0);
        } else {
          this.distinctCapped = true;
          mine = -1;
        }
      }
      remap[code] = mine;
      if (mine >= 0) this.stringCounts[mine] += part.stringCounts[code];
    });
    if (part.distinctCapped) this.distinctCapped = true;
    if (mixed && this.role !== 'target' && (this.distinctCapped || this.distinct >= DISTINCT_CAP)) return undefined;
    if (this.values && part.values) this.values.append(part.values);
    if (this.store && (part.codes || this.codes)) {
      if (!this.codes) {
        this.codes = new GrowableInt32(rowsBefore + partRows);
        this.codes.fill(-1, rowsBefore);
      }
      if (part.codes)
        for (let i = 0; i < part.codes.length; i++) this.codes.push(part.codes[i] < 0 ? -1 : remap[part.codes[i]]);
      else this.codes.fill(-1, partRows);
    }
    return remap;
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
  /** image projects: first rows' feature values per target code. */
  imageSamples?: Map<number, number[][]>;
}

const SPLIT_VALUES: Record<string, number> = { train: 0, dev: 1, test: 2 };

/**
 * The state of one pass over the data's records: the whole file's (scanTable), or one range's, which
 * src/core/data/parallelScan.ts runs in a worker per range and appends in file order (appendRange).
 */
export class TableScanner {
  header: string[] = [];
  columns: ColumnScan[] = [];
  readonly missingColumns: TableScan['missingColumns'] = [];
  target?: ColumnScan;
  splitColumn?: ColumnScan;
  features: ColumnScan[] = [];
  private splitIndex = -1;
  private readonly rowHash = new Uint32Array(2);
  readonly hashHi = new GrowableUint32(4096);
  readonly hashLo = new GrowableUint32(4096);
  readonly targetCode: Growable<Int32Array> | undefined;
  readonly targetValue: Growable<Float64Array> | undefined;
  readonly splitCode: Growable<Uint8Array> | undefined;
  /** The first ragged rows (line, fields), then only counted. */
  readonly ragged: { line: number; fields: number }[] = [];
  raggedRows = 0;
  firstBadSplit?: { line: number; value: string };
  firstMissingTarget = 0;
  missingTargets = 0;
  rows = 0;
  readonly imageSamples: Map<number, number[][]> | undefined;
  private readonly classification: boolean;
  private readonly splitColumnName: string | undefined;
  private readonly store: boolean;
  private readonly samplesPerClass: number;
  // Per-row arrays are sized from the file's size and the first rows' length: a large file's columns
  // then grow once, not by doubling (which held up to twice the memory, and copies of it, at the peak).
  private sampledChars = 0;

  constructor(
    private readonly spec: ProjectSpec,
    readonly file: string,
    opts: ScanOptions,
    /** Bytes to read (the file's, or the range's): sizes the per-row arrays. */
    private readonly bytes: number,
  ) {
    this.classification = spec.task === 'classification';
    const split = spec.data.split;
    this.splitColumnName = split && isColumnSplit(split) ? split.column : undefined;
    this.store = !!opts.storeValues;
    this.samplesPerClass = opts.imageSamplesPerClass ?? 0;
    this.targetCode = this.classification ? new GrowableInt32(4096) : undefined;
    this.targetValue = this.classification ? undefined : new GrowableFloat64(4096);
    this.splitCode = this.splitColumnName !== undefined ? new GrowableUint8(4096) : undefined;
    this.imageSamples = this.samplesPerClass > 0 && this.classification ? new Map() : undefined;
  }

  setHeader(cols: string[]): void {
    const data = this.spec.data;
    const { splitColumnName, classification, store } = this;
    const categorical = new Set(data.categorical ?? []);
    this.header = cols;
    const index = new Map(cols.map((c, i) => [c, i]));
    const missingColumns = this.missingColumns;
    if (!index.has(data.target)) missingColumns.push({ name: data.target, role: 'target' });
    if (splitColumnName !== undefined && !index.has(splitColumnName))
      missingColumns.push({ name: splitColumnName, role: 'split' });
    (data.features ?? []).forEach((f, i) => {
      if (!index.has(f)) missingColumns.push({ name: f, role: 'feature', index: i });
    });
    (data.categorical ?? []).forEach((f, i) => {
      if (!index.has(f)) missingColumns.push({ name: f, role: 'categorical', index: i });
    });
    const featureSet = data.features ? new Set(data.features) : undefined;
    this.columns = cols.map((name, i) => {
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
      return new ColumnScan(name, i, role, forced, store);
    });
    this.target = this.columns.find((c) => c.role === 'target');
    this.splitColumn = this.columns.find((c) => c.role === 'split');
    this.features = (data.features ?? cols)
      .map((f) => this.columns[index.get(f) ?? -1])
      .filter((c): c is ColumnScan => !!c && c.role === 'feature');
    this.splitIndex = this.splitColumn?.index ?? -1;
  }

  record(fields: string[], line: number): void {
    const { header, columns, target, splitColumn, splitCode } = this;
    if (fields.length !== header.length) {
      if (this.raggedRows++ < MAX_REPORTED_ROWS) this.ragged.push({ line, fields: fields.length });
      return;
    }
    let tcode = -1;
    for (let i = 0; i < columns.length; i++) {
      const c = columns[i];
      const code = c.add(fields[i], line, this.rows);
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
    if (splitCode && splitColumn) {
      const raw = fields[splitColumn.index].trim().toLowerCase();
      const code = SPLIT_VALUES[raw];
      splitCode.push(code ?? 255);
      if (code === undefined && !this.firstBadSplit) this.firstBadSplit = { line, value: fields[splitColumn.index] };
    } else splitCode?.push(255);
    if (this.rows < ESTIMATE_ROWS) {
      for (let i = 0; i < fields.length; i++) this.sampledChars += fields[i].length + 1;
      if (this.rows === ESTIMATE_ROWS - 1 && this.bytes > 0) this.reserveRows();
    }
    if (this.imageSamples && tcode >= 0) {
      let list = this.imageSamples.get(tcode);
      if (!list) this.imageSamples.set(tcode, (list = []));
      if (list.length < this.samplesPerClass) list.push(this.features.map((f) => parseNumber(fields[f.index])));
    }
    this.rows++;
  }

  private reserveRows(): void {
    const estimate = Math.ceil((this.bytes / (this.sampledChars / ESTIMATE_ROWS)) * 1.02) + 1024;
    for (const g of [this.hashHi, this.hashLo, this.targetCode, this.targetValue, this.splitCode]) g?.reserve(estimate);
    for (const c of this.columns) c.values?.reserve(estimate);
  }

  /** This scanner's state after a range (`lines` line ends in it), for the thread that appends the ranges. */
  toRange(lines: number): RangeScan {
    return {
      rows: this.rows,
      lines,
      columns: this.columns.map((c) => c.toRange()),
      hashHi: this.hashHi.view(),
      hashLo: this.hashLo.view(),
      targetCode: this.targetCode?.view(),
      targetValue: this.targetValue?.view(),
      splitCode: this.splitCode?.view(),
      ragged: this.ragged,
      raggedRows: this.raggedRows,
      firstBadSplit: this.firstBadSplit,
      firstMissingTarget: this.firstMissingTarget,
      missingTargets: this.missingTargets,
    };
  }

  /**
   * Appends the ranges of the file in order (range k's lines start `lineOffsets[k]` lines after the
   * file's first), as if their records had been read here. Column by column, each range's copy released
   * once appended, so the ranges' and the whole's copies are not both whole at the peak. False when the
   * result could differ from one pass over the file (ColumnScan.appendRange): read the file in one pass then.
   */
  appendRanges(parts: RangeScan[], lineOffsets: number[]): boolean {
    const total = parts.reduce((n, p) => n + p.rows, this.rows);
    const starts = parts.map((_, k) => parts.slice(0, k).reduce((n, p) => n + p.rows, this.rows));
    const remaps: (Int32Array | undefined)[] = [];
    for (let i = 0; i < this.columns.length; i++) {
      const c = this.columns[i];
      c.values?.reserve(total);
      for (let k = 0; k < parts.length; k++) {
        const remap = c.appendRange(parts[k].columns[i], starts[k], parts[k].rows, lineOffsets[k]);
        if (!remap) return false;
        if (c === this.target) remaps[k] = remap;
        parts[k].columns[i].values = parts[k].columns[i].codes = undefined;
      }
    }
    const append = <T extends Uint32Array | Int32Array | Float64Array | Uint8Array>(
      g: Growable<T> | undefined,
      of: (p: RangeScan) => T | undefined,
      map?: (v: number, k: number) => number,
    ) => {
      if (!g) return;
      g.reserve(total);
      parts.forEach((p, k) => {
        const values = of(p);
        if (!values) return;
        if (!map) g.append(values);
        else for (let i = 0; i < values.length; i++) g.push(map(values[i], k));
      });
    };
    append(this.hashHi, (p) => p.hashHi);
    append(this.hashLo, (p) => p.hashLo);
    append(
      this.targetCode,
      (p) => p.targetCode,
      (code, k) => (code < 0 || !remaps[k] ? -1 : remaps[k]![code]),
    );
    append(this.targetValue, (p) => p.targetValue);
    append(this.splitCode, (p) => p.splitCode);
    parts.forEach((part, k) => {
      const offset = lineOffsets[k];
      for (const r of part.ragged)
        if (this.ragged.length < MAX_REPORTED_ROWS) this.ragged.push({ line: r.line + offset, fields: r.fields });
      this.raggedRows += part.raggedRows;
      if (!this.firstBadSplit && part.firstBadSplit)
        this.firstBadSplit = { line: part.firstBadSplit.line + offset, value: part.firstBadSplit.value };
      if (!this.firstMissingTarget && part.firstMissingTarget)
        this.firstMissingTarget = part.firstMissingTarget + offset;
      this.missingTargets += part.missingTargets;
      this.rows += part.rows;
    });
    return true;
  }

  /** The scan of the whole file, its problems found. */
  finish(result: { fileHash: string; bytes: number }): TableScan {
    const { file, columns, target, spec } = this;
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
    if (this.firstBadSplit) {
      problems.push(
        new DataError(
          file,
          this.firstBadSplit.line,
          'data-bad-split-value',
          `The split column "${this.splitColumn!.name}" holds "${this.firstBadSplit.value}": its values must be train, dev or test`,
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
    if (!this.classification && target && target.nonNumeric > 0 && !target.isNumericWithStrayValues()) {
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
      fileHash: result.fileHash,
      bytes: result.bytes,
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
      imageSamples: this.imageSamples,
    };
  }
}

/** Streams the project's data file once. Throws DataError when the file cannot be read at all. */
export async function scanTable(spec: ProjectSpec, file: string, opts: ScanOptions = {}): Promise<TableScan> {
  const fileBytes = await stat(file).then(
    (st) => st.size,
    () => 0, // readTable reports the missing file
  );
  const scanner = new TableScanner(spec, file, opts, fileBytes);
  const result = await readTable(
    file,
    { header: (cols) => scanner.setHeader(cols), record: (fields, line) => scanner.record(fields, line) },
    opts,
  );
  return scanner.finish(result);
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
