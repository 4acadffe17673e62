// The built-in trainer's side of a run, on the host (extension host, CLI, server): creates the run
// folder, trains in a worker thread (never on the caller's thread), forwards progress, handles
// cancellation, and records the outcome (run.json, metrics.jsonl, model.onnx, log.txt).
// Which trainer an experiment uses (built-in or script) is decided above, in src/core/experiment.

import { rmSync } from 'node:fs';
import type { BuiltinModel } from '../spec/types';
import type { SplitDataset } from '../data/types';
import { mlloopVersion } from '../runtime/version';
import { runWorkerJob } from '../runtime/worker';
import {
  finishedLine,
  loadedLine,
  type JobResult,
  type SerializedError,
  type TrainJob,
  type WorkerInput,
  type WorkerMessage,
} from './job';
import {
  appendMetric,
  createRun,
  finishRun,
  type RunDir,
  type RunGroup,
  type RunRecord,
  type RunStatus,
} from './runStore';
import { writeReference } from './reference';
import type { ProgressEvent } from './types';
import { gitState, snapshotProjectFile } from './provenance';

export interface RunHooks {
  onProgress?: (e: ProgressEvent) => void;
  /** Called once the run folder exists (before training starts). */
  onRunCreated?: (runId: string, runDir: string) => void;
  signal?: AbortSignal;
  /** Fixed run id (tests of byte-determinism); default: a new time-based id. */
  runId?: string;
  /** Script experiments: every line the script prints (src/core/scripts). */
  onOutput?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** The sweep this run is one combination of (src/core/experiment/sweep.ts). */
  group?: RunGroup;
}

export interface TrainOutcome {
  runId: string;
  runDir: string;
  status: Exclude<RunStatus, 'running'>;
  metrics: NonNullable<RunRecord['metrics']>;
  /** Path of model.onnx when the run completed. */
  model?: string;
  error?: SerializedError;
  record: RunRecord;
}

/** Trains a prepared dataset in a worker and records the run under `<projectDir>/.mlloop/runs/`. */
export function trainDatasetRun(
  projectDir: string,
  experiment: string,
  job: { dataset: SplitDataset; model: BuiltinModel; params: Record<string, unknown>; seed: number },
  hooks: RunHooks = {},
): Promise<TrainOutcome> {
  const { dataset, ...rest } = job;
  return trainJobRun(projectDir, experiment, { ...rest, data: { dataset } }, hooks);
}

/** Trains one job of a built-in model in a worker and records it as a run (`projectFile`: mlloop.json, snapshotted into the run). */
export async function trainJobRun(
  projectDir: string,
  experiment: string,
  job: TrainJob,
  hooks: RunHooks,
  projectFile?: string,
): Promise<TrainOutcome> {
  const run = createRun(projectDir, {
    runId: hooks.runId,
    experiment,
    model: job.model,
    params: job.params,
    group: hooks.group,
  });
  run.update({ seed: job.seed });
  hooks.onRunCreated?.(run.runId, run.dir);
  run.log(`params ${JSON.stringify(job.params)} seed ${job.seed}`);
  // Provenance (./provenance.ts): the project file as it was, and the git state (asked while the worker trains).
  if (projectFile) snapshotProjectFile(projectFile, run.dir);
  const provenance = gitState(projectDir).then((git) => git && run.update({ git }));
  try {
    const result = await runWorker(job, run, hooks).finally(() => provenance);
    run.log(finishedLine(result));
    if (result.reference) writeReference(run.dir, result.reference);
    return outcome(run, finishRun(run, { status: 'completed', model: result.onnx, metrics: result.metrics }));
  } catch (e) {
    const error = e as SerializedError;
    // Data that cannot be loaded (a wrong target, a missing file) makes the project invalid, not a
    // run that failed: nothing trained, so no run is recorded and the caller gets the reason.
    if (error.name === 'DataError' && !run.current.dataVersion) {
      await provenance.catch(() => undefined);
      rmSync(run.dir, { recursive: true, force: true });
      throw Object.assign(new Error(error.message), { name: 'DataError' });
    }
    const status = error.name === 'CancelledError' ? 'cancelled' : 'failed';
    return outcome(
      run,
      finishRun(run, { status, error: { message: error.message, param: error.param, step: error.step } }),
    );
  }
}

/** What a trainer returns, from its run folder and final record. */
export function outcome(run: RunDir, record: RunRecord): TrainOutcome {
  return {
    runId: run.runId,
    runDir: run.dir,
    status: record.status as TrainOutcome['status'],
    metrics: record.metrics ?? {},
    model: record.status === 'completed' ? run.modelPath : undefined,
    error: record.error
      ? { name: record.status === 'cancelled' ? 'CancelledError' : 'TrainingError', ...record.error }
      : undefined,
    record,
  };
}

/** Resolves with the job's result; rejects with a SerializedError, or CancelledError when cancelled (src/core/runtime/worker). */
function runWorker(job: TrainJob, run: RunDir, hooks: RunHooks): Promise<JobResult> {
  const cancelFlag = new SharedArrayBuffer(4);
  const input: WorkerInput = { job, meta: { runId: run.runId, mlloopVersion }, cancelFlag };
  return runWorkerJob<JobResult, WorkerMessage>({
    worker: 'train',
    workerData: input,
    job: 'Training',
    signal: hooks.signal,
    cancelFlag,
    log: (line) => run.log(line),
    onMessage: (m, end) => {
      if (m.type === 'loaded') {
        run.update({ dataVersion: m.info.version, rows: m.info.rows });
        run.log(loadedLine(m.info));
      } else if (m.type === 'progress') {
        appendMetric(run, { t: Date.now(), ...m.event });
        try {
          hooks.onProgress?.(m.event);
        } catch {
          // A listener's failure must not break the run.
        }
      } else if (m.type === 'done') end.resolve(m.result);
      else end.reject(m.error);
    },
  });
}
