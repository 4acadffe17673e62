// Retraining for the learning and validation curves: each point is one job of the training worker
// (src/worker/train.ts, the same job machinery as a run: train, evaluate every split), but nothing
// is recorded as a run. Cancellation follows the one worker policy (src/core/runtime/worker.ts).

import { mulberry32 } from '../data/prng';
import { selectRows } from '../data/rows';
import type { Rows, SplitDataset } from '../data/types';
import type { BuiltinModel } from '../spec/types';
import type { JobResult, TrainJob, WorkerInput, WorkerMessage } from '../train/job';
import { mlloopVersion } from '../runtime/version';
import { runWorkerJob } from '../runtime/worker';
import { TrainingError } from '../train/types';
import { CancelledError } from '../runtime/cancel';

export interface RetrainSpec {
  model: BuiltinModel;
  /** Resolved parameters (defaults applied), as in run.json. */
  params: Record<string, unknown>;
  seed: number;
}

/** Trains one job in a training worker; rejects with CancelledError when `signal` aborts. */
export function trainInWorker(job: TrainJob, signal?: AbortSignal): Promise<JobResult> {
  const cancelFlag = new SharedArrayBuffer(4);
  const input: WorkerInput = { job, meta: { runId: 'diagnose', mlloopVersion }, cancelFlag };
  return runWorkerJob<JobResult, WorkerMessage>({
    worker: 'train',
    workerData: input,
    job: 'Training',
    signal,
    cancelFlag,
    onMessage: (m, end) => {
      if (m.type === 'done') end.resolve(m.result);
      else if (m.type === 'error')
        end.reject(
          m.error.name === 'CancelledError'
            ? new CancelledError('Training')
            : new TrainingError(m.error.message, m.error.param, m.error.step),
        );
    },
  });
}

/**
 * A seeded order of the training rows whose prefixes are stratified by class (classification):
 * each class's rows are shuffled and interleaved by their rank within the class, so that even a
 * 10 % prefix holds every class in proportion. Prefixes are nested: 10 % ⊂ 20 % ⊂ … ⊂ 100 %.
 */
export function stratifiedOrder(y: Float64Array, stratify: boolean, seed: number): Uint32Array {
  const rand = mulberry32(seed ^ 0x5bd1e995);
  const n = y.length;
  const keys = new Float64Array(n);
  if (!stratify) {
    for (let i = 0; i < n; i++) keys[i] = rand();
  } else {
    const byClass = new Map<number, number[]>();
    for (let i = 0; i < n; i++) {
      const list = byClass.get(y[i]) ?? [];
      list.push(i);
      byClass.set(y[i], list);
    }
    for (const rows of byClass.values()) {
      // Fisher-Yates, then the key is the rank's position in [0, 1) with a jitter to break ties.
      for (let i = rows.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [rows[i], rows[j]] = [rows[j], rows[i]];
      }
      rows.forEach((row, rank) => (keys[row] = (rank + rand()) / rows.length));
    }
  }
  return Uint32Array.from({ length: n }, (_, i) => i).sort((a, b) => keys[a] - keys[b]);
}

/** The dataset with its training split cut to the first `size` rows of `order`. */
export function withTrainSubset(dataset: SplitDataset, order: Uint32Array, size: number): SplitDataset {
  const { schema } = dataset;
  const train = selectRows(dataset.train, order.subarray(0, size), schema.numeric.length, schema.categorical.length);
  return withoutTest({ ...dataset, train });
}

/** The dataset without its test split: curves only need train and dev, and the test split stays unseen. */
export function withoutTest(dataset: SplitDataset): SplitDataset {
  return { ...dataset, test: emptyRows() };
}

function emptyRows(): Rows {
  return {
    features: { n: 0, numeric: new Float32Array(0), categories: [] },
    y: new Float64Array(0),
    ids: [],
    rowIndex: new Uint32Array(0),
  };
}

/** Runs `tasks` with at most `concurrency` at a time, in order of start; stops starting new ones once `signal` aborts. */
export async function runPool<T>(tasks: (() => Promise<T>)[], concurrency: number, signal?: AbortSignal): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const lane = async () => {
    while (next < tasks.length) {
      if (signal?.aborted) throw new CancelledError('Training');
      const i = next++;
      results[i] = await tasks[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, tasks.length)) }, lane));
  return results;
}
