// The request log, written by the server (src/core/serve) and read by monitoring and production
// retraining. Request logging ("log x and ŷ"), only when the user consented: append-only JSON Lines under
// `.mlloop/deployments/<name>/`, rotated by size, total size capped (oldest files deleted), optional
// sampling and redaction. Records are buffered and written every `flushIntervalMs` (200 ms): writes
// reach the OS on each flush, so a crashed server loses at most the records of the last interval.
// Beside each requests-*.jsonl a requests-*.cols gets the same records in columnar binary form
// (./columnar.ts) when the caller passes them: monitoring reads that without parsing JSON.
// Image requests keep their pictures as files under `images/` beside the logs, which a record's
// `images` names (format, thumbnails and how the cap deletes them: ./images.ts).
import { closeSync, mkdirSync, openSync, readdirSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ColumnarEncoder, COLS_EXT, type ColumnarRequest } from './columnar';
import { LoggedImageStore, type LoggedImage } from './images';
import type { SourceImageInfo } from '../data/images/preprocess';

export interface RequestLogOptions {
  dir: string;
  /** Start a new file past this size. */
  maxFileBytes?: number;
  /** Delete the oldest files while all files together exceed this. */
  maxTotalBytes?: number;
  /** Fraction of requests logged, 0-1. */
  sampleRate?: number;
  /** Keys (fields, tensor or feature names) whose values are replaced by "[redacted]", at any depth. */
  redact?: string[];
  flushIntervalMs?: number;
  random?: () => number;
  /** Images larger than this are kept as thumbnails (./images.ts; default 256 KiB). */
  maxImageBytes?: number;
}

export interface RequestRecord {
  time: string;
  id: string;
  model: string;
  version: string;
  status: number;
  inputs?: unknown;
  outputs?: unknown;
  latency_ms: number;
  /** The run the model version came from, when known (monitoring finds its reference with it). */
  run?: string;
  /** Image requests: each row's image as kept beside the log (./images.ts). */
  images?: LoggedImage[];
}

/** One feedback record, as stored in `feedback-*.jsonl` beside the request logs. */
export interface FeedbackRecord {
  time: string;
  /** The request id (the `id` of the logged request). */
  id: string;
  /** The true label (classification: the class name; regression: a number); an array for a request of several rows. */
  label: unknown;
}

export const LOG_FILE_PREFIX = 'requests-';
export const REDACTED = '[redacted]';
/** An image stored this long before a log file's last write may still be named by a record of the next file. */
const IMAGE_RECORD_MARGIN_MS = 5000;

export class RequestLog {
  private fd = -1;
  private colsFd = -1;
  private readonly encoder = new ColumnarEncoder();
  private cols: ColumnarRequest[] = [];
  private fileBytes = 0;
  private buffer: string[] = [];
  private readonly timer: NodeJS.Timeout;
  private seq = 0;
  readonly maxFileBytes: number;
  readonly maxTotalBytes: number;
  readonly sampleRate: number;
  private readonly redact: Set<string>;
  private imageStore: LoggedImageStore | undefined;
  private currentFile = '';
  written = 0;

  constructor(private readonly options: RequestLogOptions) {
    this.maxFileBytes = options.maxFileBytes ?? 16 * 1024 * 1024;
    this.maxTotalBytes = options.maxTotalBytes ?? 256 * 1024 * 1024;
    this.sampleRate = options.sampleRate ?? 1;
    this.redact = new Set(options.redact ?? []);
    mkdirSync(options.dir, { recursive: true });
    this.timer = setInterval(() => this.flush(), options.flushIntervalMs ?? 200);
    this.timer.unref();
  }

  /** Whether this request is in the sample (decided before the work of building its record). */
  sampled(): boolean {
    return this.sampleRate >= 1 || (this.options.random ?? Math.random)() < this.sampleRate;
  }

  /** Whether images are kept: not when the redaction names `image` (the model's image input) or `images`. */
  get keepsImages(): boolean {
    return !this.redact.has('image') && !this.redact.has('images');
  }

  /**
   * Keeps a request's image beside the log (call it for a sampled request, before append, and put the
   * result in the record's `images`). The cap counts the images with the logs.
   */
  async storeImage(bytes: Uint8Array, info: SourceImageInfo, pngOfTensor = false): Promise<LoggedImage> {
    this.imageStore ??= new LoggedImageStore(this.options.dir, this.options.maxImageBytes);
    const image = await this.imageStore.store(bytes, info, pngOfTensor);
    if (this.imageStore.totalBytes + this.maxFileBytes > this.maxTotalBytes) this.enforceCap(this.currentFile);
    return image;
  }

  /** `columns`: the same request in tensor form, for the columnar file (redacted features are blanked there too). */
  append(record: RequestRecord, columns?: ColumnarRequest): void {
    this.buffer.push(JSON.stringify(this.redact.size ? redactKeys(record, this.redact) : record));
    const c = columns ?? {
      time: Date.parse(record.time),
      id: record.id,
      status: record.status,
      latencyMs: record.latency_ms,
      rows: 0,
    };
    this.cols.push(this.redact.size ? redactColumns(c, this.redact) : c);
  }

  flush(): void {
    if (this.buffer.length === 0) return;
    const lines = this.buffer;
    const cols = this.cols;
    this.buffer = [];
    this.cols = [];
    let pending: Buffer[] = [];
    const flushCols = () => {
      if (pending.length) writeSync(this.colsFd, pending.length === 1 ? pending[0] : Buffer.concat(pending));
      pending = [];
    };
    for (const [i, line] of lines.entries()) {
      const bytes = Buffer.byteLength(line) + 1;
      if (this.fd < 0 || (this.fileBytes > 0 && this.fileBytes + bytes > this.maxFileBytes)) {
        flushCols();
        this.rotate();
      }
      writeSync(this.fd, line + '\n');
      // Every JSON line has its columnar record (without inputs when the caller gave none).
      pending.push(this.encoder.encode(cols[i]));
      this.fileBytes += bytes;
      this.written++;
    }
    flushCols();
  }

  private rotate(): void {
    if (this.fd >= 0) closeSync(this.fd);
    if (this.colsFd >= 0) closeSync(this.colsFd);
    // Sortable names: the oldest file sorts first.
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('.', '-');
    // Created exclusively: another log on the same folder (a second server, or one started in the same
    // millisecond) may have taken the name, and two writers in one columnar file corrupt it.
    let file: string;
    for (;;) {
      file = join(this.options.dir, `${LOG_FILE_PREFIX}${stamp}-${String(this.seq++).padStart(4, '0')}.jsonl`);
      try {
        this.fd = openSync(file, 'wx');
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
    }
    this.currentFile = file;
    this.colsFd = openSync(file.slice(0, -'.jsonl'.length) + COLS_EXT, 'a');
    this.encoder.reset();
    this.fileBytes = 0;
    this.enforceCap(file);
  }

  private enforceCap(current: string): void {
    const files = logFiles(this.options.dir).map((f) => ({ f, size: statSync(f).size, mtime: statSync(f).mtimeMs }));
    const images = this.imageStore;
    let total = files.reduce((a, x) => a + x.size, 0) + this.maxFileBytes + (images?.totalBytes ?? 0);
    let lastDeleted = -Infinity;
    for (const { f, size, mtime } of files) {
      if (total <= this.maxTotalBytes || f === current) break;
      unlinkSync(f);
      try {
        unlinkSync(f.slice(0, -'.jsonl'.length) + COLS_EXT);
      } catch {
        // No columnar file beside it.
      }
      total -= size;
      lastDeleted = Math.max(lastDeleted, mtime);
    }
    if (!images) return;
    // Images no kept record names: last sent before the newest deleted file was last written (less a
    // margin for a record still in the buffer then), then, if images alone pass the cap, the oldest.
    if (lastDeleted > -Infinity) {
      const before = images.totalBytes;
      images.deleteOlderThan(lastDeleted - IMAGE_RECORD_MARGIN_MS);
      total -= before - images.totalBytes;
    }
    if (total > this.maxTotalBytes) images.shrinkTo(Math.max(0, images.totalBytes - (total - this.maxTotalBytes)));
  }

  close(): void {
    clearInterval(this.timer);
    this.flush();
    if (this.fd >= 0) closeSync(this.fd);
    if (this.colsFd >= 0) closeSync(this.colsFd);
    this.fd = this.colsFd = -1;
  }
}

/** The `<prefix>*.jsonl` files of a folder, oldest first (their names sort by time); none for a missing folder. */
export function jsonlFiles(dir: string, prefix: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.startsWith(prefix) && f.endsWith('.jsonl'))
      .sort()
      .map((f) => join(dir, f));
  } catch {
    return [];
  }
}

export function logFiles(dir: string): string[] {
  return jsonlFiles(dir, LOG_FILE_PREFIX);
}

/** Redacted features are logged as missing (NaN, '') in the columnar file. */
function redactColumns(c: ColumnarRequest, keys: Set<string>): ColumnarRequest {
  const s = c.schema;
  if (!s || !c.rows) return c;
  const F = s.features.length;
  const K = s.categories.length;
  const nf = s.features.map((f, j) => (keys.has(f) ? j : -1)).filter((j) => j >= 0);
  const nk = s.categories.map((f, j) => (keys.has(f) ? j : -1)).filter((j) => j >= 0);
  if (!nf.length && !nk.length && !keys.has('features') && !keys.has('inputs')) return c;
  const all = keys.has('features') || keys.has('inputs') || keys.has('instances');
  const numeric = c.numeric ? Float32Array.from(c.numeric) : undefined;
  const categories = c.categories ? [...c.categories] : undefined;
  for (let i = 0; i < c.rows; i++) {
    for (let j = 0; j < F; j++) if (numeric && (all || nf.includes(j))) numeric[i * F + j] = NaN;
    for (let j = 0; j < K; j++) if (categories && (all || nk.includes(j))) categories[i * K + j] = '';
  }
  return { ...c, numeric, categories };
}

function redactKeys(value: unknown, keys: Set<string>): unknown {
  if (Array.isArray(value)) return value.map((v) => redactKeys(v, keys));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = keys.has(k) ? REDACTED : redactKeys(v, keys);
  return out;
}
