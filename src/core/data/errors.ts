// A problem with a data file that stops it from being read, located at a line of that file.
import type { Problem } from '../spec/problems';

export type DataErrorCode =
  | 'data-not-found'
  | 'data-empty'
  | 'data-header-only'
  | 'data-not-utf8'
  | 'data-too-large'
  | 'data-ragged'
  | 'data-csv-syntax'
  | 'data-jsonl-syntax'
  | 'data-duplicate-column'
  | 'data-non-numeric'
  | 'data-unknown-column'
  | 'data-target-classes'
  | 'data-bad-split-value'
  | 'data-no-dev-rows'
  | 'data-missing-target'
  | 'data-read-failed'
  | 'data-images';

export class DataError extends Error {
  constructor(
    /** Absolute path of the data file. */
    readonly file: string,
    /** 1-based line of the data file (1 = header). */
    readonly line: number,
    readonly code: DataErrorCode,
    /** The message without the location (the Problems panel shows the location itself). */
    readonly detail: string,
    readonly column = 1,
  ) {
    super(`${file}:${line}: ${detail}`);
    this.name = 'DataError';
  }

  toProblem(severity: Problem['severity'] = 'error'): Problem {
    return { severity, code: this.code, message: this.detail, file: this.file, line: this.line, column: this.column };
  }
}
