// Dynamic batching: concurrent requests for the same model version are stacked along the first
// dimension into one session.run, bounded by a max batch size (rows) and a max queue delay (µs).
// onnxruntime-node's run blocks the event loop, so the gain is fewer runs and fewer loop turns
// (performance-facts.md). A batch that fails is re-run request by request so only the bad one fails.
import * as ort from 'onnxruntime-node';
import { sliceRows } from './datatypes';
import type { ServedVersion } from './model';

export interface BatchingOptions {
  /** Rows per session.run at most; 1 (or less) turns batching off: one run per request. */
  maxBatchSize: number;
  /** How long the first queued request may wait for others, in microseconds. 0: the end of the current event-loop turn. */
  maxQueueDelayUs: number;
}

export const DEFAULT_BATCHING: BatchingOptions = { maxBatchSize: 64, maxQueueDelayUs: 0 };

export interface RunResult {
  outputs: ort.InferenceSession.OnnxValueMapType;
  /** Time from submit to the start of the run, and of the run itself (ms). */
  queueMs: number;
  inferMs: number;
  /** Rows of the run this request was part of. */
  batchRows: number;
}

interface Pending {
  feeds: Record<string, ort.Tensor>;
  rows: number;
  signature: string;
  enqueued: number;
  resolve(r: RunResult): void;
  reject(e: unknown): void;
}

/** Per-version execution statistics in the shape Triton's statistics extension reports. */
export class VersionStats {
  inferenceCount = 0;
  executionCount = 0;
  lastInference = 0;
  success = { count: 0, ns: 0 };
  fail = { count: 0, ns: 0 };
  queue = { count: 0, ns: 0 };
  computeInfer = { count: 0, ns: 0 };
  readonly batches = new Map<number, { count: number; ns: number }>();

  recordRun(rows: number, ms: number): void {
    this.executionCount++;
    this.inferenceCount += rows;
    this.lastInference = Date.now();
    const ns = Math.round(ms * 1e6);
    this.computeInfer.count++;
    this.computeInfer.ns += ns;
    const b = this.batches.get(rows) ?? { count: 0, ns: 0 };
    b.count++;
    b.ns += ns;
    this.batches.set(rows, b);
  }
}

export class Batcher {
  private queue: Pending[] = [];
  private queuedRows = 0;
  private scheduled = false;
  readonly stats = new VersionStats();

  constructor(
    readonly version: ServedVersion,
    private readonly options: BatchingOptions,
    private readonly onRun?: (rows: number, ms: number) => void,
  ) {}

  run(feeds: Record<string, ort.Tensor>, rows: number): Promise<RunResult> {
    const enqueued = performance.now();
    if (this.options.maxBatchSize <= 1 || !this.version.batchable) return this.runAlone(feeds, rows, enqueued);
    return new Promise<RunResult>((resolve, reject) => {
      this.queue.push({ feeds, rows, signature: signatureOf(feeds), enqueued, resolve, reject });
      this.queuedRows += rows;
      if (this.queuedRows >= this.options.maxBatchSize) this.schedule(0);
      else this.schedule(this.options.maxQueueDelayUs);
    });
  }

  private schedule(delayUs: number): void {
    if (this.scheduled && delayUs > 0) return;
    this.scheduled = true;
    // setImmediate runs after the I/O callbacks of this turn: every request parsed in it joins the batch.
    if (delayUs <= 0) setImmediate(() => this.flush());
    else setTimeout(() => this.flush(), delayUs / 1000);
  }

  private flush(): void {
    this.scheduled = false;
    while (this.queue.length > 0) {
      const batch: Pending[] = [];
      let rows = 0;
      const signature = this.queue[0].signature;
      while (this.queue.length > 0 && this.queue[0].signature === signature && (batch.length === 0 || rows + this.queue[0].rows <= this.options.maxBatchSize)) {
        const p = this.queue.shift()!;
        batch.push(p);
        rows += p.rows;
      }
      this.queuedRows -= rows;
      void this.runBatch(batch, rows);
    }
  }

  private async runBatch(batch: Pending[], rows: number): Promise<void> {
    if (batch.length === 1) {
      const p = batch[0];
      this.runAlone(p.feeds, p.rows, p.enqueued).then(p.resolve, p.reject);
      return;
    }
    const feeds: Record<string, ort.Tensor> = {};
    for (const name of Object.keys(batch[0].feeds)) feeds[name] = concatRows(batch.map((p) => p.feeds[name]));
    const start = performance.now();
    let outputs: ort.InferenceSession.OnnxValueMapType;
    try {
      outputs = await this.version.session.run(feeds);
    } catch {
      for (const p of batch) this.runAlone(p.feeds, p.rows, p.enqueued).then(p.resolve, p.reject);
      return;
    }
    const inferMs = performance.now() - start;
    this.stats.recordRun(rows, inferMs);
    this.onRun?.(rows, inferMs);
    let offset = 0;
    for (const p of batch) {
      const mine: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(outputs)) mine[name] = sliceRows(t as ort.Tensor, offset, offset + p.rows);
      offset += p.rows;
      p.resolve({ outputs: mine, queueMs: start - p.enqueued, inferMs, batchRows: rows });
    }
  }

  private async runAlone(feeds: Record<string, ort.Tensor>, rows: number, enqueued: number): Promise<RunResult> {
    const start = performance.now();
    const outputs = await this.version.session.run(feeds);
    const inferMs = performance.now() - start;
    this.stats.recordRun(rows, inferMs);
    this.onRun?.(rows, inferMs);
    return { outputs, queueMs: start - enqueued, inferMs, batchRows: rows };
  }
}

/** Requests batch together only when every input has the same type and trailing dimensions. */
function signatureOf(feeds: Record<string, ort.Tensor>): string {
  let s = '';
  for (const [name, t] of Object.entries(feeds)) s += `${name}:${t.type}:${t.dims.slice(1).join('x')};`;
  return s;
}

function concatRows(parts: ort.Tensor[]): ort.Tensor {
  const first = parts[0];
  const rows = parts.reduce((a, t) => a + t.dims[0], 0);
  const dims = [rows, ...first.dims.slice(1)];
  if (first.type === 'string') return new ort.Tensor('string', parts.flatMap((t) => t.data as string[]), dims);
  const total = parts.reduce((a, t) => a + (t.data as Float32Array).length, 0);
  const Ctor = (first.data as Float32Array).constructor as Float32ArrayConstructor;
  const out = new Ctor(total);
  let o = 0;
  for (const t of parts) {
    out.set(t.data as Float32Array, o);
    o += (t.data as Float32Array).length;
  }
  return new ort.Tensor(first.type as 'float32', out, dims);
}
