// Request logging ("log x and ŷ"), only when the user consented: append-only JSON Lines under
// `.mlloop/deployments/<name>/`, rotated by size, total size capped (oldest files deleted), optional
// sampling and redaction. Records are buffered and written every `flushIntervalMs` (200 ms): writes
// reach the OS on each flush, so a crashed server loses at most the records of the last interval.
import { closeSync, mkdirSync, openSync, readdirSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

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
}

export const LOG_FILE_PREFIX = 'requests-';
export const REDACTED = '[redacted]';

export function deploymentDir(projectDir: string, name: string): string {
  return join(projectDir, '.mlloop', 'deployments', name);
}

export class RequestLog {
  private fd = -1;
  private fileBytes = 0;
  private buffer: string[] = [];
  private readonly timer: NodeJS.Timeout;
  private seq = 0;
  readonly maxFileBytes: number;
  readonly maxTotalBytes: number;
  readonly sampleRate: number;
  private readonly redact: Set<string>;
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

  append(record: RequestRecord): void {
    this.buffer.push(JSON.stringify(this.redact.size ? redactKeys(record, this.redact) : record));
  }

  flush(): void {
    if (this.buffer.length === 0) return;
    const lines = this.buffer;
    this.buffer = [];
    for (const line of lines) {
      const bytes = Buffer.byteLength(line) + 1;
      if (this.fd < 0 || (this.fileBytes > 0 && this.fileBytes + bytes > this.maxFileBytes)) this.rotate();
      writeSync(this.fd, line + '\n');
      this.fileBytes += bytes;
      this.written++;
    }
  }

  private rotate(): void {
    if (this.fd >= 0) closeSync(this.fd);
    // Sortable names: the oldest file sorts first.
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('.', '-');
    const file = join(this.options.dir, `${LOG_FILE_PREFIX}${stamp}-${String(this.seq++).padStart(4, '0')}.jsonl`);
    this.fd = openSync(file, 'a');
    this.fileBytes = 0;
    this.enforceCap(file);
  }

  private enforceCap(current: string): void {
    const files = logFiles(this.options.dir).map((f) => ({ f, size: statSync(f).size }));
    let total = files.reduce((a, x) => a + x.size, 0) + this.maxFileBytes;
    for (const { f, size } of files) {
      if (total <= this.maxTotalBytes || f === current) break;
      unlinkSync(f);
      total -= size;
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.flush();
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

export function logFiles(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.startsWith(LOG_FILE_PREFIX) && f.endsWith('.jsonl'))
      .sort()
      .map((f) => join(dir, f));
  } catch {
    return [];
  }
}

function redactKeys(value: unknown, keys: Set<string>): unknown {
  if (Array.isArray(value)) return value.map((v) => redactKeys(v, keys));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = keys.has(k) ? REDACTED : redactKeys(v, keys);
  return out;
}
