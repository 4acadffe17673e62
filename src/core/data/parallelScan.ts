// Scanning a large CSV file on every core: the file is cut into byte ranges at record boundaries; this
// thread reads the first and a worker thread (src/worker/table.ts) each other one, with the same Papa
// Parse reader and TableScanner as one pass, posting typed columns back (transferred, not copied); this
// thread hashes the file meanwhile, then appends the ranges in file order. The result is the one pass's:
// anything the ranges cannot reproduce exactly (quotes that are not RFC 4180 quoting, a range that
// fails, a mixed column past the distinct-value cap) makes the caller read the file in one pass.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ProjectSpec } from '../spec/types';
import { workerScript } from '../runtime/worker';
import { dataFormat, DEFAULT_MAX_DATA_BYTES, readCsvRange, sniffNewline, type CsvRange, type Newline } from './reader';
import { scanTable, TableScanner, type RangeScan, type ScanOptions, type TableScan } from './scan';

/** Files smaller than this are read in one pass (starting workers costs more than it saves). */
export const MIN_PARALLEL_BYTES = 16 << 20;

export interface ParallelOptions {
  /** Workers (default: one per core). */
  threads?: number;
  /** The smallest file read in ranges (default MIN_PARALLEL_BYTES). */
  minBytes?: number;
  /** Bytes read at a time while looking for the ranges' starts (tests use small blocks). */
  block?: number;
}

/** One range's job for a worker. */
export interface RangeJob {
  spec: ProjectSpec;
  file: string;
  range: CsvRange;
  header: string[];
  storeValues: boolean;
}

const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;
const BLOCK = 4 << 20;

/**
 * Where the header line ends and where each of `parts` ranges of records starts: the first line end
 * at or after an even share of the file that is outside quoted fields. Undefined when a quote is not
 * RFC 4180 quoting (a quote inside an unquoted field, text after a closing quote): Papa Parse's reading
 * of such a file depends on where it starts, so it is read in one pass.
 */
export async function csvRangeStarts(
  file: string,
  size: number,
  parts: number,
  newline: Newline,
  block = BLOCK,
): Promise<{ headerEnd: number; starts: number[] } | undefined> {
  const nl = newline === '\r' ? CR : LF;
  const targets = [0, ...Array.from({ length: parts - 1 }, (_, k) => Math.floor((size * (k + 1)) / parts))];
  const found: number[] = [];
  let search = 0; // where the current target's search for a line end resumes
  let inQuotes = false;
  let prev = -1; // the byte before the current block
  let skipFirst = false; // the block starts with the second quote of an escaped pair
  const buf = Buffer.alloc(block + 1);
  const fh = await open(file, 'r');
  try {
    for (let base = 0; base < size && found.length < targets.length; base += block) {
      const { bytesRead } = await fh.read(buf, 0, block + 1, base);
      const len = Math.min(bytesRead, block);
      const bytes = buf.subarray(0, len);
      const after = (i: number) => (base + i + 1 >= size ? -1 : buf[i + 1]); // the byte after index i (-1: end of file)
      let pos = skipFirst ? 1 : 0;
      skipFirst = false;
      for (;;) {
        const q = bytes.indexOf(QUOTE, pos);
        const until = q < 0 ? len : q;
        // Targets reached before the next quote: a line end there outside quotes is their boundary.
        while (found.length < targets.length) {
          search = Math.max(search, targets[found.length]);
          if (search >= base + until) break;
          if (inQuotes) {
            search = base + until;
            break;
          }
          const e = bytes.indexOf(nl, search - base);
          if (e < 0 || e >= until) {
            search = base + until;
            break;
          }
          found.push(base + e + 1);
          search = base + e + 1;
        }
        if (q < 0) break;
        if (!inQuotes) {
          const before = q > 0 ? bytes[q - 1] : prev;
          const bom = base + q === 3 && before === 0xbf;
          if (!(before === -1 || before === COMMA || before === LF || before === CR || bom)) return undefined;
          inQuotes = true;
          pos = q + 1;
        } else {
          const next = after(q);
          if (next === QUOTE) {
            // An escaped quote: both bytes are text of the field.
            if (q + 1 >= len) skipFirst = true;
            pos = q + 2;
          } else if (next === -1 || next === COMMA || next === LF || next === CR) {
            inQuotes = false;
            pos = q + 1;
          } else return undefined;
        }
        if (pos >= len) break;
      }
      prev = bytes[len - 1];
    }
  } finally {
    await fh.close();
  }
  if (inQuotes || found.length === 0) return undefined;
  const headerEnd = found[0];
  const starts = [headerEnd];
  for (const s of found.slice(1)) if (s > starts[starts.length - 1] && s < size) starts.push(s);
  return headerEnd < size ? { headerEnd, starts } : undefined;
}

/** Scans one range of records (a worker's job). */
export async function scanRange(job: RangeJob): Promise<RangeScan> {
  const scanner = new TableScanner(
    job.spec,
    job.file,
    { storeValues: job.storeValues },
    job.range.end - job.range.start,
  );
  scanner.setHeader(job.header);
  const r = await readCsvRange(job.file, job.range, {
    header() {},
    record: (fields, line) => scanner.record(fields, line),
  });
  return scanner.toRange(r.lines);
}

/** The buffers a RangeScan's typed arrays hold (posted transferred). */
export function rangeBuffers(scan: RangeScan): ArrayBuffer[] {
  const arrays: (ArrayBufferView | undefined)[] = [
    scan.hashHi,
    scan.hashLo,
    scan.targetCode,
    scan.targetValue,
    scan.splitCode,
  ];
  for (const c of scan.columns) arrays.push(c.values, c.codes);
  return [...new Set(arrays.filter((a) => a !== undefined).map((a) => a!.buffer as ArrayBuffer))];
}

function hashFile(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file, { highWaterMark: 1 << 20 })
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });
}

function runRange(
  source: { source: string; eval: boolean },
  job: RangeJob,
): { result: Promise<RangeScan>; stop: () => void } {
  // A small young generation: the parse's garbage (a string per cell) is collected sooner, which kept
  // the second parser's heap ~30 MB smaller at the peak on bench:path's 138 MB file, at no cost in time.
  const worker = new Worker(source.source, {
    eval: source.eval,
    workerData: job,
    resourceLimits: { maxYoungGenerationSizeMb: 4 },
  });
  const result = new Promise<RangeScan>((resolve, reject) => {
    worker.once('message', (m: { scan?: RangeScan; error?: string }) =>
      m.scan ? resolve(m.scan) : reject(new Error(m.error ?? 'no answer')),
    );
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the worker exited (${code}) without answering`)));
  });
  return { result, stop: () => void worker.terminate() };
}

/**
 * The one-pass scan of a CSV file (`size` bytes, `newline` its line end) read in ranges on worker
 * threads, or undefined when it must be read in one pass (see the file's comment).
 */
export async function scanCsvInRanges(
  spec: ProjectSpec,
  file: string,
  size: number,
  newline: Newline,
  opts: ScanOptions,
  parallel: ParallelOptions,
): Promise<TableScan | undefined> {
  const threads = parallel.threads ?? availableParallelism();
  if (threads < 2 || size < (parallel.minBytes ?? MIN_PARALLEL_BYTES) || (opts.imageSamplesPerClass ?? 0) > 0)
    return undefined;
  let source: { source: string; eval: boolean };
  try {
    source = workerScript('table');
  } catch {
    return undefined; // a bundle without dist/worker-table.js
  }
  const cut = await csvRangeStarts(file, size, threads, newline, parallel.block);
  if (!cut) return undefined;
  let header: string[] | undefined;
  const head = await readCsvRange(
    file,
    { start: 0, end: cut.headerEnd, newline, withHeader: true },
    { header: (cols) => (header = cols), record() {} },
  ).catch(() => undefined);
  if (!head || !header || head.records > 0) return undefined;
  const columns: string[] = header;
  const ends = [...cut.starts.slice(1), size];
  // This thread reads the first range itself (one worker fewer: its heap and a copy of its columns).
  const jobs = cut.starts.slice(1).map((start, k) =>
    runRange(source, {
      spec,
      file,
      header: columns,
      storeValues: !!opts.storeValues,
      range: { start, end: ends[k + 1], newline, withHeader: false },
    }),
  );
  const hash = hashFile(file);
  hash.catch(() => undefined); // awaited below unless a range fails
  // Sized for the whole file: the other ranges are appended in place, without growing the columns.
  const scanner = new TableScanner(spec, file, opts, size - cut.starts[0]);
  scanner.setHeader(columns);
  let parts: RangeScan[];
  let first: { lines: number };
  try {
    first = await readCsvRange(
      file,
      { start: cut.starts[0], end: ends[0], newline, withHeader: false },
      { header() {}, record: (fields, line) => scanner.record(fields, line + head.lines) },
    );
    parts = await Promise.all(jobs.map((j) => j.result));
  } catch {
    return undefined; // the one pass reports the error at its line
  } finally {
    jobs.forEach((j) => j.stop());
  }
  const offsets: number[] = [];
  let lines = head.lines + first.lines;
  for (const p of parts) {
    offsets.push(lines);
    lines += p.lines;
  }
  if (!scanner.appendRanges(parts, offsets)) return undefined;
  if (scanner.rows === 0) return undefined;
  return scanner.finish({ fileHash: await hash, bytes: size });
}

/**
 * scanTable, with a large CSV file read in ranges on worker threads (the same result; see the file's
 * comment). `parallel: false` reads in one pass.
 */
export async function scanTableInParallel(
  spec: ProjectSpec,
  file: string,
  opts: ScanOptions & { parallel?: ParallelOptions | false } = {},
): Promise<TableScan> {
  const { parallel, ...scanOpts } = opts;
  if (parallel !== false && dataFormat(file) === 'csv') {
    const size = await stat(file).then(
      (st) => (st.isFile() ? st.size : 0),
      () => 0,
    );
    if (size > 0 && size <= (opts.maxBytes ?? DEFAULT_MAX_DATA_BYTES)) {
      const scan = await scanCsvInRanges(spec, file, size, await sniffNewline(file), scanOpts, parallel ?? {});
      if (scan) return scan;
    }
  }
  return scanTable(spec, file, scanOpts);
}
