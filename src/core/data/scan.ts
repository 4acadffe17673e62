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

/** Streams the project's data file once. Throws DataError when the file cannot be read at all. */
export async function scanTable(spec: ProjectSpec, file: string, opts: ScanOptions = {}): Promise<TableScan> {
  const data = spec.data;
  const classification = spec.task === 'classification';
  const splitColumnName = data.split && isColumnSplit(data.split) ? data.split.column : undefined;
  const categorical = new Set(data.categorical ?? []);
  const store = !!opts.storeValues;
  const samplesPerClass = opts.imageSamplesPerClass ?? 0;

  let header: string[] = [];
  let columns: ColumnScan[] = [];
  const missingColumns: TableScan['missingColumns'] = [];
  let target: ColumnScan | undefined;
  let splitColumn: ColumnScan | undefined;
  let features: ColumnScan[] = [];
  let splitIndex = -1;
  const rowHash = new Uint32Array(2);
  const hashHi = new GrowableUint32(4096);
  const hashLo = new GrowableUint32(4096);
  const targetCode = classification ? new GrowableInt32(4096) : undefined;
  const targetValue = classification ? undefined : new GrowableFloat64(4096);
  const splitCode = splitColumnName !== undefined ? new GrowableUint8(4096) : undefined;
  const problems: DataError[] = [];
  let raggedRows = 0;
  let firstBadSplit: DataError | undefined;
  let firstMissingTarget = 0;
  let missingTargets = 0;
  let rows = 0;
  const imageSamples = samplesPerClass > 0 && classification ? new Map<number, number[][]>() : undefined;
  // Per-row arrays are sized from the file's size and the first rows' length: a large file's columns
  // then grow once, not by doubling (which held up to twice the memory, and copies of it, at the peak).
  let sampledChars = 0;
  const reserveRows = (bytes: number) => {
    const estimate = Math.ceil((bytes / (sampledChars / ESTIMATE_ROWS)) * 1.02) + 1024;
    for (const g of [hashHi, hashLo, targetCode, targetValue, splitCode]) g?.reserve(estimate);
    for (const c of columns) c.values?.reserve(estimate);
  };

  const fileBytes = await stat(file).then(
    (st) => st.size,
    () => 0, // readTable reports the missing file
  );
  const result = await readTable(
    file,
    {
      header(cols) {
        header = cols;
        const index = new Map(cols.map((c, i) => [c, i]));
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
        columns = cols.map((name, i) => {
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
        target = columns.find((c) => c.role === 'target');
        splitColumn = columns.find((c) => c.role === 'split');
        features = (data.features ?? cols)
          .map((f) => columns[index.get(f) ?? -1])
          .filter((c): c is ColumnScan => !!c && c.role === 'feature');
        splitIndex = splitColumn?.index ?? -1;
      },
      record(fields, line) {
        if (fields.length !== header.length) {
          raggedRows++;
          if (raggedRows <= MAX_REPORTED_ROWS) {
            problems.push(
              new DataError(
                file,
                line,
                'data-ragged',
                `This row has ${fields.length} fields; the header has ${header.length}`,
              ),
            );
          }
          return;
        }
        let tcode = -1;
        for (let i = 0; i < columns.length; i++) {
          const c = columns[i];
          const code = c.add(fields[i], line, rows);
          if (c === target) tcode = code;
        }
        // The split column is not content: moving a row to another split keeps its id.
        hashCells(fields, splitIndex, rowHash);
        hashHi.push(rowHash[0]);
        hashLo.push(rowHash[1]);
        if (target) {
          const raw = fields[target.index];
          if (isMissing(raw)) {
            missingTargets++;
            firstMissingTarget ||= line;
          }
          if (targetCode) targetCode.push(tcode);
          else targetValue!.push(parseNumber(raw));
        } else {
          targetCode?.push(-1);
          targetValue?.push(NaN);
        }
        if (splitCode && splitColumn) {
          const raw = fields[splitColumn.index].trim().toLowerCase();
          const code = SPLIT_VALUES[raw];
          splitCode.push(code ?? 255);
          if (code === undefined && !firstBadSplit) {
            firstBadSplit = new DataError(
              file,
              line,
              'data-bad-split-value',
              `The split column "${splitColumn.name}" holds "${fields[splitColumn.index]}": its values must be train, dev or test`,
            );
          }
        } else splitCode?.push(255);
        if (rows < ESTIMATE_ROWS) {
          for (let i = 0; i < fields.length; i++) sampledChars += fields[i].length + 1;
          if (rows === ESTIMATE_ROWS - 1 && fileBytes > 0) reserveRows(fileBytes);
        }
        if (imageSamples && tcode >= 0) {
          let list = imageSamples.get(tcode);
          if (!list) imageSamples.set(tcode, (list = []));
          if (list.length < samplesPerClass) list.push(features.map((f) => parseNumber(fields[f.index])));
        }
        rows++;
      },
    },
    opts,
  );

  if (raggedRows > MAX_REPORTED_ROWS) {
    problems.push(
      new DataError(
        file,
        problems[MAX_REPORTED_ROWS - 1].line,
        'data-ragged',
        `${raggedRows - MAX_REPORTED_ROWS} more rows have the wrong number of fields`,
      ),
    );
  }
  if (firstBadSplit) problems.push(firstBadSplit);
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
  if (missingTargets > 0) {
    const d = new DataError(
      file,
      firstMissingTarget,
      'data-missing-target',
      `${missingTargets} row(s) have no value for the target "${data.target}"; they are left out`,
    );
    problems.push(d);
  }
  return {
    file,
    fileHash: result.fileHash,
    bytes: result.bytes,
    header,
    columns,
    missingColumns,
    target,
    splitColumn,
    features,
    rows,
    hashHi: hashHi.view(),
    hashLo: hashLo.view(),
    targetCode: targetCode?.view(),
    targetValue: targetValue?.view(),
    splitCode: splitCode?.view(),
    problems,
    imageSamples,
  };
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
