// Where a version's session.run happens. onnxruntime-node's run is a synchronous native call that
// blocks the event loop (performance-facts.md), so on the server's own thread runs go one at a time.
// A pool of worker threads, each holding its own session of the model, lets the runs of several
// batches overlap across cores and keeps the event loop free for HTTP while a heavy model computes;
// for a small model the hand-over to a thread costs more than the run (measured by bench:server), so
// `auto` uses the pool only when the model's single-row run is slow enough to pay for it.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type * as ort from 'onnxruntime-node';

/** What a run returns per output: an ort.Tensor, or the same fields cloned back from a worker. */
export interface TensorData {
  type: ort.Tensor.Type;
  data: ort.Tensor.DataType;
  dims: readonly number[];
}

export type Feeds = Record<string, ort.Tensor>;
export type Outputs = Record<string, TensorData>;

export interface InferenceEngine {
  /** Runs that may be in flight at once. */
  readonly capacity: number;
  /** Worker threads (0: the server's own thread). */
  readonly workers: number;
  run(feeds: Feeds): Promise<Outputs>;
  close(): Promise<void>;
}

/** `--workers`: a pool size, or `auto` (a pool only for models whose single-row run is slow). */
export type WorkersOption = number | 'auto';

/** A single-row run at least this long (ms) makes `auto` use a pool (the crossover measured by bench:server). */
export const AUTO_POOL_MIN_RUN_MS = 0.5;

/**
 * The pool size `auto` picks: a worker per core but one, which is left to the event loop (HTTP, JSON)
 * and the clients, at most 4. On two cores that is one worker: no more compute than the server's own
 * thread, but the event loop stays free while a slow model runs, and deadlines hold during runs.
 */
export function autoWorkers(singleRowMs: number | undefined, cores = availableParallelism()): number {
  if (singleRowMs === undefined || singleRowMs < AUTO_POOL_MIN_RUN_MS || cores < 2) return 0;
  return Math.min(cores - 1, 4);
}

export class InThreadEngine implements InferenceEngine {
  readonly capacity = 1;
  readonly workers = 0;
  constructor(private readonly session: ort.InferenceSession) {}

  run(feeds: Feeds): Promise<Outputs> {
    return this.session.run(feeds);
  }

  async close(): Promise<void> {}
}

// The worker: loads the model from bytes with the server's session options, then runs what it is sent.
// onnxruntime-node is external to every bundle, so its path is resolved by the server and handed over.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ortPath);
const tensors = (plain) => {
  const feeds = {};
  for (const name of Object.keys(plain)) { const t = plain[name]; feeds[name] = new ort.Tensor(t.type, t.data, t.dims); }
  return feeds;
};
ort.InferenceSession.create(workerData.model, workerData.options).then(
  async (session) => {
    // Warm-up, as on the server's thread: the first request does not pay the kernels' set-up.
    try { await session.run(tensors(workerData.warm)); } catch {}
    parentPort.postMessage({ kind: 'ready' });
    parentPort.on('message', async (m) => {
      try {
        const out = await session.run(tensors(m.feeds));
        const outputs = {};
        for (const name of Object.keys(out)) { const t = out[name]; outputs[name] = { type: t.type, data: t.data, dims: t.dims }; }
        parentPort.postMessage({ kind: 'done', outputs });
      } catch (e) {
        parentPort.postMessage({ kind: 'failed', message: String((e && e.message) || e) });
      }
    });
  },
  (e) => parentPort.postMessage({ kind: 'failed', message: String((e && e.message) || e) }),
);
`;

interface PoolWorker {
  worker: Worker;
  job: { resolve(o: Outputs): void; reject(e: Error): void } | undefined;
  /** Called when the current run ends, whether or not anyone still waits for it (close waits for it). */
  onIdle?: () => void;
}

export class WorkerPool implements InferenceEngine {
  private readonly idle: PoolWorker[] = [];
  private readonly all = new Set<PoolWorker>();
  /** Workers that loaded the model and have not died: a dead one's replacement counts once it is ready. */
  private live = 0;
  private closed = false;

  private constructor(
    private readonly model: Uint8Array,
    private readonly options: ort.InferenceSession.SessionOptions,
    readonly workers: number,
    private readonly warm: Record<string, TensorData>,
  ) {}

  get capacity(): number {
    return this.live;
  }

  /** Starts `size` workers, each loading the model; rejects if one cannot. */
  static async start(
    model: Uint8Array,
    options: ort.InferenceSession.SessionOptions,
    size: number,
    warm: Feeds,
  ): Promise<WorkerPool> {
    const pool = new WorkerPool(model, options, size, plainTensors(warm));
    try {
      await Promise.all(Array.from({ length: size }, () => pool.spawn()));
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  private spawn(): Promise<void> {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        ortPath: require.resolve('onnxruntime-node'),
        model: this.model,
        options: this.options,
        warm: this.warm,
      },
    });
    const w: PoolWorker = { worker, job: undefined };
    this.all.add(w);
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      worker.on('message', (m: { kind: string; outputs?: Outputs; message?: string }) => {
        if (!ready) {
          if (m.kind === 'ready') {
            ready = true;
            this.live++;
            this.release(w);
            resolve();
          } else reject(new Error(`a worker could not load the model: ${m.message}`));
          return;
        }
        const job = w.job;
        w.job = undefined;
        w.onIdle?.();
        this.release(w);
        if (m.kind === 'done') job?.resolve(m.outputs!);
        else job?.reject(new Error(m.message));
      });
      const gone = (e: Error) => {
        if (!this.all.delete(w)) return;
        if (ready) this.live--;
        const i = this.idle.indexOf(w);
        if (i >= 0) this.idle.splice(i, 1);
        w.job?.reject(e);
        w.job = undefined;
        w.onIdle?.();
        if (!ready) reject(e);
        // A worker that died (not closed by us) is replaced, so the pool keeps its size.
        else if (!this.closed) this.spawn().catch(() => {});
      };
      worker.on('error', gone);
      worker.on('exit', (code) => gone(new Error(`an inference worker exited (code ${code})`)));
    });
  }

  private release(w: PoolWorker): void {
    if (this.all.has(w) && !this.closed) this.idle.push(w);
  }

  /** The caller (the batcher) keeps at most `capacity` runs in flight. */
  run(feeds: Feeds): Promise<Outputs> {
    const w = this.idle.pop();
    if (!w) return Promise.reject(new Error('no idle inference worker'));
    return new Promise<Outputs>((resolve, reject) => {
      w.job = { resolve, reject };
      w.worker.postMessage({ feeds: plainTensors(feeds) });
    });
  }

  /**
   * Stops every worker once its current run is over: terminating a thread inside onnxruntime's native
   * run aborts the whole process, and a run whose requests timed out may still be computing.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.idle.length = 0;
    await Promise.all(
      [...this.all].map(async (w) => {
        if (w.job) await new Promise<void>((resolve) => (w.onIdle = resolve));
        await w.worker.terminate();
      }),
    );
  }
}

/** An ort.Tensor's `data` is a getter: structured clone needs the fields as plain properties. */
function plainTensors(feeds: Feeds): Record<string, TensorData> {
  const plain: Record<string, TensorData> = {};
  for (const name of Object.keys(feeds)) {
    const t = feeds[name];
    plain[name] = { type: t.type, data: t.data, dims: t.dims };
  }
  return plain;
}
