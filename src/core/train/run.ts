// Orchestrates one training run from the host side (extension host, CLI, server): creates the run
// folder, trains in a worker thread (never on the caller's thread), forwards progress, handles
// cancellation, and records the outcome (run.json, metrics.jsonl, model.onnx, log.txt).

import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isScriptExperiment, type BuiltinModel, type ExperimentSpec } from '../spec/types';
import { resolveParams } from '../spec/schema';
import { resolveProject } from '../data/dataset';
import type { SplitDataset } from '../data/types';
import { version as mlloopVersion } from '../../../package.json';
import { runSeed, type JobResult, type SerializedError, type TrainJob, type WorkerInput, type WorkerMessage } from './job';
import { appendMetric, createRun, finishRun, type RunDir, type RunGroup, type RunRecord, type RunStatus } from './runStore';
import { runScriptExperiment } from '../scripts/runScript';
import { writeReference } from '../monitor/reference';
import type { ProgressEvent } from './types';
import { gitState, snapshotProjectFile } from '../track/provenance';

export { mlloopVersion };

/** After a cancel request the worker gets this long to stop by itself before it is terminated. */
export const CANCEL_GRACE_MS = 2000;

export interface RunHooks {
  onProgress?: (e: ProgressEvent) => void;
  /** Called once the run folder exists (before training starts). */
  onRunCreated?: (runId: string, runDir: string) => void;
  signal?: AbortSignal;
  /** Fixed run id (tests of byte-determinism); default: a new time-based id. */
  runId?: string;
  /** Script experiments: every line the script prints (src/core/scripts). */
  onOutput?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** The sweep this run is one combination of (src/core/scripts/sweep). */
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

/**
 * How to start a worker (src/worker/<name>.ts; the training worker by default): the bundled
 * dist/worker-<name>.js, or, when this module runs from TypeScript source (unit tests under tsx),
 * the source entry loaded through tsx's require hook.
 */
export function workerScript(name: 'train' | 'errors' | 'script' = 'train'): { source: string; eval: boolean } {
  if (__filename.endsWith('.ts')) {
    const entry = join(__dirname, '..', '..', 'worker', `${name}.ts`);
    return { source: `require('tsx/cjs'); require(${JSON.stringify(entry)});`, eval: true };
  }
  // dist/extension.js and dist/cli.js sit beside it; bundled test entries live deeper under dist/.
  for (const dir of [__dirname, join(__dirname, '..'), join(__dirname, '..', '..')]) {
    const file = join(dir, `worker-${name}.js`);
    if (existsSync(file)) return { source: file, eval: false };
  }
  throw new Error(`worker-${name}.js not found next to ${__filename}`);
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

/**
 * Trains the named experiment of the project in `projectDir` (its mlloop.json): the data is loaded
 * and the model trained in a worker thread; a script experiment runs its command instead
 * (src/core/scripts/runScript). Errors of the project file itself (no mlloop.json, no such
 * experiment) are thrown; anything that goes wrong once the run exists
 * (bad parameters, unusable data, training errors) gives a failed run.
 */
export async function trainExperiment(
  opts: {
    projectDir: string;
    experimentName: string;
    /** Parameters to train with instead of the experiment's own (a re-run with edited params); validated like mlloop.json's. */
    params?: Record<string, unknown>;
    /** Train on this derived data version (augmented, added rows, fixed labels) instead of the data file's own. */
    dataVersion?: string;
    /** Script experiments: the interpreter for `python`/`python3` commands (default: $MLLOOP_PYTHON, else the command as written). */
    pythonPath?: string;
  } & RunHooks,
): Promise<TrainOutcome> {
  const ref = await resolveProject(opts.projectDir);
  const projectDir = dirname(ref.projectFile);
  const experiment = ref.spec.experiments[opts.experimentName];
  if (!experiment) {
    const names = Object.keys(ref.spec.experiments);
    throw new Error(`No experiment "${opts.experimentName}" in ${ref.projectFile}${names.length ? ` (experiments: ${names.join(', ')})` : ''}`);
  }
  if (isScriptExperiment(experiment)) {
    if (opts.dataVersion) throw new Error(`Experiment "${opts.experimentName}" runs a script: it trains on the data file, not on a derived data version`);
    const { run, record } = await runScriptExperiment({
      ...opts,
      ref,
      projectDir,
      experiment,
      params: opts.params ?? experiment.params ?? {},
      pythonPath: opts.pythonPath || process.env.MLLOOP_PYTHON || undefined,
    });
    return outcome(run, record);
  }
  // mlloop.json was validated against the schema by resolveProject, so the params are valid here.
  const params = resolveParams(opts.params ? { ...experiment, params: opts.params } : (experiment as ExperimentSpec));
  return trainJobRun(projectDir, opts.experimentName, { data: { project: ref, ...(opts.dataVersion ? { dataVersion: opts.dataVersion } : {}) }, model: experiment.model, params, seed: runSeed(params) }, opts, ref.projectFile);
}

async function trainJobRun(projectDir: string, experiment: string, job: TrainJob, hooks: RunHooks, projectFile?: string): Promise<TrainOutcome> {
  const run = createRun(projectDir, { runId: hooks.runId, experiment, model: job.model, params: job.params, group: hooks.group });
  run.update({ seed: job.seed });
  hooks.onRunCreated?.(run.runId, run.dir);
  run.log(`params ${JSON.stringify(job.params)} seed ${job.seed}`);
  // Provenance (src/core/track/provenance): the project file as it was, and the git state (asked while the worker trains).
  if (projectFile) snapshotProjectFile(projectFile, run.dir);
  const provenance = gitState(projectDir).then((git) => git && run.update({ git }));
  try {
    const result = await runWorker(job, run, hooks).finally(() => provenance);
    run.log(`trained in ${result.trainMs} ms; model ${result.onnx.byteLength} bytes`);
    if (result.reference) writeReference(run.dir, result.reference);
    return outcome(run, finishRun(run, { status: 'completed', model: result.onnx, metrics: result.metrics }));
  } catch (e) {
    const error = e as SerializedError;
    const status = error.name === 'CancelledError' ? 'cancelled' : 'failed';
    return outcome(run, finishRun(run, { status, error: { message: error.message, param: error.param, step: error.step } }));
  }
}

function outcome(run: RunDir, record: RunRecord): TrainOutcome {
  return {
    runId: run.runId,
    runDir: run.dir,
    status: record.status as TrainOutcome['status'],
    metrics: record.metrics ?? {},
    model: record.status === 'completed' ? run.modelPath : undefined,
    error: record.error ? { name: record.status === 'cancelled' ? 'CancelledError' : 'TrainingError', ...record.error } : undefined,
    record,
  };
}

/** Resolves with the job's result; rejects with a SerializedError (name 'CancelledError' when cancelled). */
function runWorker(job: TrainJob, run: RunDir, hooks: RunHooks): Promise<JobResult> {
  const cancelFlag = new SharedArrayBuffer(4);
  const flag = new Int32Array(cancelFlag);
  const script = workerScript();
  const input: WorkerInput = { job, meta: { runId: run.runId, mlloopVersion }, cancelFlag };
  return new Promise<JobResult>((resolve, reject) => {
    let settled = false;
    let killTimer: NodeJS.Timeout | undefined;
    const worker = new Worker(script.source, { workerData: input, eval: script.eval });
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      if (killTimer) clearTimeout(killTimer);
      hooks.signal?.removeEventListener('abort', onAbort);
      fn();
      void worker.terminate();
    };
    const onAbort = () => {
      if (settled) return;
      Atomics.store(flag, 0, 1);
      run.log('cancel requested');
      // Last resort: a worker stuck in a long step is terminated.
      killTimer = setTimeout(() => {
        run.log(`worker did not stop within ${CANCEL_GRACE_MS} ms: terminated`);
        settle(() => reject({ name: 'CancelledError', message: 'Training was cancelled' }));
      }, CANCEL_GRACE_MS);
    };
    if (hooks.signal?.aborted) onAbort();
    else hooks.signal?.addEventListener('abort', onAbort);
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'loaded') {
        run.update({ dataVersion: m.info.version });
        run.log(`data ${m.info.version.id}: train ${m.info.rows.train}, dev ${m.info.rows.dev}, test ${m.info.rows.test} rows`);
      } else if (m.type === 'progress') {
        appendMetric(run, { t: Date.now(), ...m.event });
        try {
          hooks.onProgress?.(m.event);
        } catch {
          // A listener's failure must not break the run.
        }
      } else if (m.type === 'done') settle(() => resolve(m.result));
      else settle(() => reject(m.error));
    });
    worker.on('error', (e) => settle(() => reject({ name: e.name, message: `Training worker crashed: ${e.message}` })));
    worker.on('exit', (code) => settle(() => reject({ name: 'Error', message: `Training worker exited (code ${code}) without a result` })));
  });
}
