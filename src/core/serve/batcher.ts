// Dynamic batching: concurrent requests for the same model version are stacked along the first
// dimension into one session.run, bounded by a max batch size (rows) and a max queue delay (µs).
// onnxruntime-node's run blocks the event loop, so the gain is fewer runs and fewer loop turns
// (performance-facts.md). Batches go to the version's engine (its own thread, or a worker pool) as
// long as it has a free slot; requests that arrive meanwhile wait and form the next, larger batch.
// A batch that fails is re-run request by request so only the bad one fails. Every request has a
// deadline: one still queued when it passes, or whose run ends after it, gets DeadlineExceeded.
import * as ort from 'onnxruntime-node';
import { sliceRows } from './datatypes';
import type { Feeds, InferenceEngine, Outputs } from './engine';
import { HttpError } from './errors';
import type { ServedVersion } from './model';

export interface BatchingOptions {
  /** Rows per session.run at most; 1 (or less) turns batching off: one run per request. */
  maxBatchSize: number;
  /** How long the first queued request may wait for others, in microseconds. 0: the end of the current event-loop turn. */
  maxQueueDelayUs: number;
}

export const DEFAULT_BATCHING: BatchingOptions = { maxBatchSize: 64, maxQueueDelayUs: 0 };

export interface RunResult {
  outputs: Outputs;
  /** Time from submit to the start of the run, and of the run itself (ms). */
  queueMs: number;
  inferMs: number;
  /** Rows of the run this request was part of. */
  batchRows: number;
}

/** The request's deadline passed before its answer was ready: 503, as Triton answers an expired queue timeout. */
export class DeadlineExceeded extends HttpError {
  constructor(timeoutMs: number, waitedMs: number, running: boolean) {
    super(
      503,
      `the inference did not finish within the request's timeout of ${round(timeoutMs)} ms (it waited ${round(waitedMs)} ms, ${running ? 'its run was still computing' : 'still queued behind other runs'}); ` +
        'retry later, or allow more time with "parameters": {"timeout": <microseconds>} or the server\'s --infer-timeout-ms',
    );
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

interface Pending {
  feeds: Feeds;
  rows: number;
  enqueued: number;
  timeoutMs: number;
  /** enqueued + timeoutMs: past it the answer is DeadlineExceeded. */
  deadline: number;
  /** Run on its own (its batch failed: find out whether this request was the bad one). */
  alone: boolean;
  settled: boolean;
  resolve(r: RunResult): void;
  reject(e: unknown): void;
}

/** Per-version execution statistics in the shape Triton's statistics extension reports. */
export class VersionStats {
  inferenceCount = 0;
  executionCount = 0;
  lastInference = 0;
  computeInfer = { count: 0, ns: 0 };
  readonly batches = new Map<number, { count: number; ns: number }>();

  recordRun(rows: number, ms: number): void {
    this.executionCount++;
    this.inferenceCount += rows;
    this.lastInference = Date.now();
    const ns = Math.round(ms * 1e6);
    this.computeInfer.count++;
    this.computeInfer.ns += ns;
    const b = this.batches.get(rows);
    if (b) {
      b.count++;
      b.ns += ns;
    } else this.batches.set(rows, { count: 1, ns });
  }
}

export class Batcher {
  private queue: Pending[] = [];
  private queuedRows = 0;
  private scheduled = false;
  /** A pump is queued for the end of this event-loop turn. */
  private immediate = false;
  private runningRuns = 0;
  /** Requests whose run is in a worker, watched by the deadline sweep (a run on this thread cannot be interrupted). */
  private readonly inWorker = new Set<Pending>();
  private sweepAt = Infinity;
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly batching: boolean;
  /** Runs in flight now (at most the engine's capacity). */
  get running(): number {
    return this.runningRuns;
  }
  readonly stats = new VersionStats();

  constructor(
    readonly version: ServedVersion,
    private readonly options: BatchingOptions,
    private readonly engine: InferenceEngine,
    private readonly onRun?: (rows: number, ms: number) => void,
  ) {
    this.batching = options.maxBatchSize > 1 && version.batchable;
  }

  /** Queues a request that must be answered within `timeoutMs` (Infinity: no limit). */
  run(feeds: Feeds, rows: number, timeoutMs = Infinity): Promise<RunResult> {
    return new Promise<RunResult>((resolve, reject) => {
      const enqueued = performance.now();
      const deadline = enqueued + timeoutMs;
      this.queue.push({ feeds, rows, enqueued, timeoutMs, deadline, alone: false, settled: false, resolve, reject });
      this.queuedRows += rows;
      if (deadline < this.sweepAt) this.armSweep(deadline, enqueued);
      this.schedule(!this.batching || this.queuedRows >= this.options.maxBatchSize ? 0 : this.options.maxQueueDelayUs);
    });
  }

  private schedule(delayUs: number): void {
    if (delayUs <= 0) {
      // One pump per turn however many requests arrive in it (not one setImmediate per request).
      if (this.immediate) return;
      this.immediate = true;
      // setImmediate runs after the I/O callbacks of this turn: every request parsed in it joins the batch.
      setImmediate(() => {
        this.immediate = false;
        this.pump();
      });
      return;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    setTimeout(() => this.pump(), delayUs / 1000);
  }

  /** Sends batches to the engine while it has a free slot. */
  private pump(): void {
    this.scheduled = false;
    while (this.queue.length > 0 && this.runningRuns < this.engine.capacity) {
      const batch = this.take(performance.now());
      if (batch.length > 0) this.dispatch(batch);
    }
  }

  /**
   * The next batch: the request at the head of the queue and the queued requests that stack with it
   * (same input types and trailing dimensions), up to maxBatchSize rows; the others keep their order.
   * Expired requests are answered on the way.
   */
  private take(now: number): Pending[] {
    const q = this.queue;
    const batch: Pending[] = [];
    let rows = 0;
    let kept = 0;
    let i = 0;
    for (; i < q.length; i++) {
      const p = q[i];
      if (p.deadline <= now) {
        this.queuedRows -= p.rows;
        this.expire(p, now, false);
        continue;
      }
      const head = batch[0];
      if (head !== undefined) {
        if (head.alone || !this.batching || rows >= this.options.maxBatchSize) break;
        if (p.alone || rows + p.rows > this.options.maxBatchSize || !stackable(head.feeds, p.feeds)) {
          q[kept++] = p;
          continue;
        }
      }
      batch.push(p);
      rows += p.rows;
      this.queuedRows -= p.rows;
    }
    // Requests left behind move to the front, in their order, ahead of those not looked at.
    q.splice(0, i, ...q.slice(0, kept));
    return batch;
  }

  private dispatch(batch: Pending[]): void {
    this.runningRuns++;
    const pooled = this.engine.workers > 0;
    let rows = 0;
    for (const p of batch) {
      rows += p.rows;
      if (pooled && p.deadline < Infinity) this.inWorker.add(p);
    }
    let feeds = batch[0].feeds;
    if (batch.length > 1) {
      feeds = {};
      for (const name of Object.keys(batch[0].feeds)) feeds[name] = concatRows(batch.map((p) => p.feeds[name]));
    }
    const start = performance.now();
    this.engine.run(feeds).then(
      (outputs) => {
        this.runningRuns--;
        const end = performance.now();
        const inferMs = end - start;
        this.stats.recordRun(rows, inferMs);
        this.onRun?.(rows, inferMs);
        let offset = 0;
        for (const p of batch) {
          if (pooled) this.inWorker.delete(p);
          if (p.settled) continue;
          if (end > p.deadline) {
            this.expire(p, end, true);
            continue;
          }
          let mine = outputs;
          if (batch.length > 1) {
            mine = {};
            for (const name of Object.keys(outputs)) mine[name] = sliceRows(outputs[name], offset, offset + p.rows);
            offset += p.rows;
          }
          p.settled = true;
          p.resolve({ outputs: mine, queueMs: start - p.enqueued, inferMs, batchRows: rows });
        }
        if (this.queue.length > 0) this.schedule(0);
      },
      (e) => {
        this.runningRuns--;
        if (batch.length === 1) {
          const p = batch[0];
          if (pooled) this.inWorker.delete(p);
          if (!p.settled) {
            p.settled = true;
            p.reject(e);
          }
        } else {
          // Back to the head of the queue one by one, so only the request that made the run fail fails.
          const retry = batch.filter((p) => !p.settled);
          for (const p of retry) {
            p.alone = true;
            this.queuedRows += p.rows;
            if (pooled) this.inWorker.delete(p);
          }
          this.queue.unshift(...retry);
        }
        if (this.queue.length > 0) this.schedule(0);
      },
    );
  }

  private expire(p: Pending, now: number, running: boolean): void {
    if (p.settled) return;
    p.settled = true;
    this.inWorker.delete(p);
    p.reject(new DeadlineExceeded(p.timeoutMs, now - p.enqueued, running));
  }

  /** One timer per batcher, at the earliest deadline of a queued or pooled request. */
  private armSweep(at: number, now: number): void {
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.sweepAt = at;
    this.sweepTimer = setTimeout(() => this.sweep(), Math.max(0, at - now) + 1);
    this.sweepTimer.unref();
  }

  private sweep(): void {
    this.sweepTimer = undefined;
    this.sweepAt = Infinity;
    const now = performance.now();
    let next = Infinity;
    const kept: Pending[] = [];
    for (const p of this.queue) {
      if (p.deadline <= now) {
        this.queuedRows -= p.rows;
        this.expire(p, now, false);
      } else {
        kept.push(p);
        if (p.deadline < next) next = p.deadline;
      }
    }
    this.queue = kept;
    for (const p of this.inWorker) {
      if (p.deadline <= now) this.expire(p, now, true);
      else if (p.deadline < next) next = p.deadline;
    }
    if (next < Infinity) this.armSweep(next, now);
  }

  /** Stops the deadline timer (the version is unloaded). */
  dispose(): void {
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
  }
}

/** Requests batch together only when every input has the same type and trailing dimensions (the model fixes the names). */
function stackable(a: Feeds, b: Feeds): boolean {
  for (const name in a) {
    const x = a[name];
    const y = b[name];
    if (y === undefined || x.type !== y.type || x.dims.length !== y.dims.length) return false;
    for (let k = 1; k < x.dims.length; k++) if (x.dims[k] !== y.dims[k]) return false;
  }
  return true;
}

function concatRows(parts: ort.Tensor[]): ort.Tensor {
  const first = parts[0];
  let rows = 0;
  for (const t of parts) rows += t.dims[0];
  const dims = [rows, ...first.dims.slice(1)];
  if (first.type === 'string')
    return new ort.Tensor(
      'string',
      parts.flatMap((t) => t.data as string[]),
      dims,
    );
  let total = 0;
  for (const t of parts) total += (t.data as Float32Array).length;
  const Ctor = (first.data as Float32Array).constructor as Float32ArrayConstructor;
  const out = new Ctor(total);
  let o = 0;
  for (const t of parts) {
    out.set(t.data as Float32Array, o);
    o += (t.data as Float32Array).length;
  }
  return new ort.Tensor(first.type as 'float32', out, dims);
}
