// Streams a data file (CSV per RFC 4180, or JSON Lines) record by record: the whole file is never held
// as text. ML Loop's one CSV stack (Papa Parse): this reader for every CSV it reads, toCsv for every
// CSV it writes. Bytes are hashed (the data version) and strictly decoded as UTF-8 on the way, so a file
// that is not UTF-8 is reported at its line instead of being read as replacement characters.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import Papa from 'papaparse';
import { DataError } from './errors';

/** Files above this size are refused unless the caller raises the limit (ReadOptions.maxBytes):
 *  loading keeps every row in memory, and a profile keeps ~12 bytes per cell. */
export const DEFAULT_MAX_DATA_BYTES = 1024 ** 3;

export interface TableSink {
  /** Column names, once, before any record. */
  header(columns: string[]): void;
  /** One data record; `line` is the 1-based line of the file where it starts (the header is line 1). */
  record(fields: string[], line: number): void;
}

export interface ReadOptions {
  /** Refuse files larger than this many bytes (default DEFAULT_MAX_DATA_BYTES). */
  maxBytes?: number;
}

export interface ReadResult {
  /** sha256 (hex) of the file's bytes. */
  fileHash: string;
  bytes: number;
  /** Data records (header and blank lines excluded). */
  records: number;
}

export type DataFormat = 'csv' | 'jsonl';
type Newline = '\n' | '\r\n' | '\r';

export function dataFormat(file: string): DataFormat {
  const ext = extname(file).toLowerCase();
  return ext === '.jsonl' || ext === '.ndjson' ? 'jsonl' : 'csv';
}

/** Records as CSV text (RFC 4180 quoting, LF line ends, a final newline). */
export function toCsv(records: (string | number)[][]): string {
  return Papa.unparse(records, { newline: '\n' }) + '\n';
}

export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)} GB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${n} bytes`;
}

/** Reads the header and every record of a data file into `sink`. Throws DataError (with file and line). */
export async function readTable(file: string, sink: TableSink, opts: ReadOptions = {}): Promise<ReadResult> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_DATA_BYTES;
  let size: number;
  try {
    const st = await stat(file);
    if (!st.isFile()) throw new DataError(file, 1, 'data-not-found', 'The data path is not a file');
    size = st.size;
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(file, 1, 'data-not-found', `The data file does not exist`);
  }
  if (size === 0)
    throw new DataError(file, 1, 'data-empty', 'The data file is empty: expected a header row and data rows');
  if (size > maxBytes) {
    throw new DataError(
      file,
      1,
      'data-too-large',
      `The data file is ${formatBytes(size)}, above the ${formatBytes(maxBytes)} ML Loop reads (it keeps the rows in memory); ` +
        `use a sample of the data, or raise the limit (ml-loop --max-bytes N)`,
    );
  }
  const format = dataFormat(file);
  // Decided before any byte flows: the parser must be listening before the decoder can fail.
  const newline = format === 'csv' ? await sniffNewline(file) : '\n';
  const decoder = new Utf8LineCountingDecoder(file);
  const input = decodedStream(file, decoder);
  const records =
    format === 'jsonl' ? await readJsonLines(file, input, sink) : await readCsv(file, input, sink, newline);
  if (records === 0)
    throw new DataError(file, 2, 'data-header-only', 'The data file has a header row but no data rows');
  return { fileHash: decoder.hash!.digest('hex'), bytes: size, records };
}

/** The bytes of `file` (from `start`, before `end`) through `decoder`. */
function decodedStream(file: string, decoder: Utf8LineCountingDecoder, start = 0, end = Infinity) {
  const bytes = createReadStream(file, {
    highWaterMark: 1 << 20,
    start,
    ...(Number.isFinite(end) ? { end: end - 1 } : {}),
  });
  bytes.on('error', (e) =>
    decoder.destroy(new DataError(file, 1, 'data-read-failed', `Could not read the data file: ${e.message}`)),
  );
  // The parser hears the first error through its own listener and then detaches; this one keeps a
  // later error (e.g. the read stream writing into the destroyed decoder) from crashing the process.
  decoder.on('error', () => {});
  return bytes.pipe(decoder);
}

/** Files below this size are read by one thread: a second one would not pay for its start. */
export const PARALLEL_MIN_BYTES = 4 * 1024 ** 2;

/** A part of a CSV file's data rows: bytes [start, end), starting at a record boundary. */
export interface CsvRange {
  start: number;
  end: number;
  /** The 1-based file line at `start`. */
  line: number;
  /** '\n' characters before `start` (the decoder's line count for an invalid-UTF-8 report). */
  newlinesBefore: number;
  newline: Newline;
}

/** How a CSV file's data rows are split among threads: its header, its hash, and one range per thread. */
export interface CsvPlan {
  fileHash: string;
  bytes: number;
  /** The header's column names (checked: trimmed, unique). */
  header: string[];
  ranges: CsvRange[];
}

/**
 * Plans reading a CSV file's data rows in `parts` byte ranges, one per thread, or answers undefined
 * when the file must be read from start to end by one thread (readTable): a quote character anywhere
 * (a quoted field may hold a newline, so a line end is not surely a record's end), a file too small
 * or too large, one whose header line is not a plain first line, or not UTF-8. The file is read once
 * here (its hash, the quote check, the line count up to each range).
 */
export async function planCsvRanges(
  file: string,
  parts: number,
  opts: ReadOptions & { minBytes?: number } = {},
): Promise<CsvPlan | undefined> {
  if (parts < 2 || dataFormat(file) !== 'csv') return undefined;
  const size = await stat(file).then(
    (st) => (st.isFile() ? st.size : 0),
    () => 0,
  );
  if (size < (opts.minBytes ?? PARALLEL_MIN_BYTES) || size > (opts.maxBytes ?? DEFAULT_MAX_DATA_BYTES))
    return undefined;
  const newline = await sniffNewline(file);
  const nlByte = newline === '\r' ? 13 : 10;
  // Byte offsets where the ranges would start (each moved to just after the next line end).
  const targets = Array.from({ length: parts - 1 }, (_, k) => Math.floor((size * (k + 1)) / parts));
  const starts: number[] = [];
  const linesBefore: number[] = [];
  const lfBefore: number[] = [];
  const hash = createHash('sha256');
  let headerEnd = -1;
  let headerBytes: Buffer | undefined;
  let lines = 0; // line ends (nlByte) before `pos`
  let lf = 0; // '\n' bytes before `pos`
  let lastByte = -1; // of the previous chunk
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(4 << 20);
    for (let pos = 0; pos < size;) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - pos), pos);
      if (bytesRead === 0) return undefined; // the file shrank: readTable reports what it finds
      const chunk = buf.subarray(0, bytesRead);
      hash.update(chunk);
      if (chunk.indexOf(34) >= 0) return undefined; // '"': quoted fields, read in one pass
      // Line ends are counted up to the last range's start only; past it the bytes are only hashed and checked.
      const counting = starts.length < targets.length;
      for (let i = counting ? chunk.indexOf(nlByte) : -1; i >= 0; i = chunk.indexOf(nlByte, i + 1)) {
        const at = pos + i + 1; // just after this line end
        // A bare LF in a CRLF file is a character of its field, not a line end: read such a file in one pass.
        if (newline === '\r\n' && (i > 0 ? chunk[i - 1] : lastByte) !== 13) return undefined;
        if (headerEnd < 0) {
          headerEnd = at;
          headerBytes = Buffer.from(chunk.subarray(0, i + 1));
        }
        lines++;
        if (starts.length < targets.length && at > targets[starts.length] && at < size) {
          starts.push(at);
          linesBefore.push(lines);
          lfBefore.push(nlByte === 10 ? lines : lf + countByte(chunk, 10, 0, i + 1));
          if (starts.length === targets.length) break;
        }
      }
      if (counting) lf = nlByte === 10 ? lines : lf + countByte(chunk, 10, 0, chunk.length);
      lastByte = chunk[bytesRead - 1];
      pos += bytesRead;
      if (headerEnd < 0) return undefined; // a first line longer than a chunk: not worth a plan
    }
  } finally {
    await fh.close();
  }
  if (starts.length < parts - 1 || !headerBytes || starts[0] <= headerEnd) return undefined;
  let headerText: string;
  try {
    headerText = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    return undefined;
  }
  const fields = Papa.parse<string[]>(headerText.replace(/\r?\n$|\r$/, ''), { delimiter: ',', newline }).data[0];
  // A blank first line: readTable takes the header from the first line that is not blank.
  if (!fields || (fields.length === 1 && fields[0] === '')) return undefined;
  const header = checkHeader(file, fields);
  const bounds = [headerEnd, ...starts, size];
  const ranges = bounds.slice(0, -1).map((start, k): CsvRange => ({
    start,
    end: bounds[k + 1],
    line: k === 0 ? 2 : linesBefore[k - 1] + 1,
    newlinesBefore: k === 0 ? countByte(headerBytes!, 10, 0, headerBytes!.length) : lfBefore[k - 1],
    newline,
  }));
  return { fileHash: hash.digest('hex'), bytes: size, header, ranges };
}

function countByte(buf: Buffer, byte: number, from: number, to: number): number {
  let n = 0;
  for (let i = buf.indexOf(byte, from); i >= 0 && i < to; i = buf.indexOf(byte, i + 1)) n++;
  return n;
}

/**
 * Reads the data records of one range of a planned CSV file (planCsvRanges) into `sink`, with their
 * file lines; the header is not in any range. Returns the number of records. Throws DataError as readTable.
 */
export async function readCsvRange(file: string, range: CsvRange, sink: Pick<TableSink, 'record'>): Promise<number> {
  const decoder = new Utf8LineCountingDecoder(file, {
    hash: false,
    newlinesBefore: range.newlinesBefore,
    keepBom: true,
  });
  const input = decodedStream(file, decoder, range.start, range.end);
  return readCsv(
    file,
    input,
    { header() {}, record: (fields, line) => sink.record(fields, line) },
    range.newline,
    range.line,
  );
}

/** RFC 4180 allows CRLF; files in the wild also use LF or (old Mac) CR. Papa Parse guesses from its first
 *  chunk only, so the newline is decided here from the file's first 64 KB. */
async function sniffNewline(file: string): Promise<Newline> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(65536);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const head = buf.subarray(0, bytesRead);
    const lf = head.indexOf(10);
    if (lf > 0 && head[lf - 1] === 13) return '\r\n';
    if (lf < 0 && head.indexOf(13) >= 0) return '\r';
    return '\n';
  } finally {
    await fh.close();
  }
}

/** Bytes → strict UTF-8 text (BOM dropped), hashing the bytes and counting lines so that an invalid
 *  byte sequence is reported with its line. */
class Utf8LineCountingDecoder extends Transform {
  readonly hash: Hash | undefined;
  private readonly decoder: TextDecoder;
  private newlines: number;

  /** keepBom: the bytes are not the file's start (a U+FEFF there is a character of a field). */
  constructor(
    private readonly file: string,
    opts: { hash?: boolean; newlinesBefore?: number; keepBom?: boolean } = {},
  ) {
    super({ readableObjectMode: true });
    this.hash = opts.hash === false ? undefined : createHash('sha256');
    this.newlines = opts.newlinesBefore ?? 0;
    this.decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: !!opts.keepBom });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash?.update(chunk);
    this.emitText(chunk, true, cb);
  }

  override _flush(cb: TransformCallback): void {
    this.emitText(undefined, false, cb);
  }

  private emitText(chunk: Buffer | undefined, stream: boolean, cb: TransformCallback): void {
    let text: string;
    try {
      text = this.decoder.decode(chunk, { stream });
    } catch {
      const lossy = new TextDecoder('utf-8').decode(chunk ?? new Uint8Array());
      const bad = Math.max(0, lossy.indexOf('\uFFFD'));
      const line = this.newlines + 1 + countNewlines(lossy, 0, bad);
      cb(new DataError(this.file, line, 'data-not-utf8', 'The data file is not valid UTF-8 text (save it as UTF-8)'));
      return;
    }
    this.newlines += countNewlines(text, 0, text.length);
    cb(null, text.length ? text : undefined);
  }
}

function countNewlines(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = s.indexOf('\n', from); i >= 0 && i < to; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

function checkHeader(file: string, columns: string[]): string[] {
  const seen = new Set<string>();
  return columns.map((raw, i) => {
    const name = raw.trim() || `column_${i + 1}`;
    if (seen.has(name))
      throw new DataError(file, 1, 'data-duplicate-column', `The header names the column "${name}" twice`);
    seen.add(name);
    return name;
  });
}

/** firstLine: the file line the input starts at (after 1, a range of data rows: no header in it). */
function readCsv(
  file: string,
  input: NodeJS.ReadableStream,
  sink: TableSink,
  newline: Newline,
  firstLine = 1,
): Promise<number> {
  return new Promise((resolve, reject) => {
    let line = firstLine; // line where the next record starts
    let prevCursor = 0;
    let records = 0;
    let header = firstLine > 1;
    let failed = false;
    const nlChar = newline === '\r' ? '\r' : '\n';
    const fail = (e: unknown, parser?: Papa.Parser) => {
      if (failed) return;
      failed = true;
      parser?.abort();
      reject(e);
    };
    Papa.parse<string[]>(input, {
      delimiter: ',',
      newline,
      quoteChar: '"',
      escapeChar: '"',
      header: false,
      dynamicTyping: false,
      skipEmptyLines: false,
      step(results, parser) {
        if (failed) return;
        const fields = results.data;
        const start = line;
        // A record spans one line unless a quoted field holds newlines: the parser's cursor tells
        // how much text the record took; only when that exceeds its fields' length are newlines counted.
        const cursor = results.meta.cursor;
        let chars = fields.length - 1 + newline.length;
        for (let i = 0; i < fields.length; i++) chars += fields[i].length;
        let embedded = 0;
        if (cursor - prevCursor > chars)
          for (const f of fields) if (f.includes(nlChar)) embedded += f.split(nlChar).length - 1;
        prevCursor = cursor;
        line += 1 + embedded;
        if (results.errors.length) {
          const err = results.errors[0];
          const detail =
            err.code === 'MissingQuotes'
              ? 'A quoted field is never closed (missing ")'
              : `Malformed CSV: ${err.message}`;
          fail(new DataError(file, start, 'data-csv-syntax', detail), parser);
          return;
        }
        if (fields.length === 1 && fields[0] === '') return; // blank line
        try {
          if (!header) {
            header = true;
            sink.header(checkHeader(file, fields));
          } else {
            records++;
            sink.record(fields, start);
          }
        } catch (e) {
          fail(e, parser);
        }
      },
      complete() {
        if (failed) return;
        if (!header)
          reject(new DataError(file, 1, 'data-empty', 'The data file has no header row (it holds only blank lines)'));
        else resolve(records);
      },
      error(e: Error) {
        fail(
          e instanceof DataError
            ? e
            : new DataError(file, line, 'data-read-failed', `Could not read the data file: ${e.message}`),
        );
      },
    });
  });
}

function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

async function readJsonLines(file: string, input: NodeJS.ReadableStream, sink: TableSink): Promise<number> {
  let rest = '';
  let lineNo = 0;
  let columns: string[] | undefined;
  let index: Map<string, number> | undefined;
  let records = 0;
  const onLine = (text: string) => {
    lineNo++;
    if (!text.trim()) return;
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch (e) {
      throw new DataError(file, lineNo, 'data-jsonl-syntax', `Invalid JSON on this line: ${(e as Error).message}`);
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
      throw new DataError(file, lineNo, 'data-jsonl-syntax', 'Each line of a JSON Lines file must be a JSON object');
    }
    const rec = obj as Record<string, unknown>;
    if (!columns) {
      columns = checkHeader(file, Object.keys(rec));
      index = new Map(columns.map((c, i) => [c, i]));
      sink.header(columns);
    }
    const fields: string[] = new Array(columns.length).fill('');
    for (const k of Object.keys(rec)) {
      const i = index!.get(k);
      if (i === undefined)
        throw new DataError(
          file,
          lineNo,
          'data-ragged',
          `Field "${k}" is not among the first line's fields (${columns.join(', ')})`,
        );
      fields[i] = cellText(rec[k]);
    }
    records++;
    sink.record(fields, lineNo);
  };
  for await (const chunk of input as AsyncIterable<string>) {
    const text = rest + chunk;
    let from = 0;
    for (let nl = text.indexOf('\n', from); nl >= 0; nl = text.indexOf('\n', from)) {
      onLine(text.slice(from, nl));
      from = nl + 1;
    }
    rest = text.slice(from);
  }
  if (rest) onLine(rest);
  if (!columns) throw new DataError(file, 1, 'data-empty', 'The data file holds no JSON object');
  // JSON Lines has no header line: "header only" cannot happen; the first object is a record.
  return records;
}
