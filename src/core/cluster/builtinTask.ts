// A built-in experiment's run as a SLURM job trains it on the node: the job runs
// `node <dist/cli.js> train PROJECT -e NAME --local --run-dir RUN_DIR`, which lands here. The run
// folder was created by the submitter (src/core/cluster/clusterRun.ts), whose follower owns run.json:
// this side only trains (in a worker thread, as a local run) with the run's recorded params and seed,
// prints its progress as metric lines on stdout (the script protocol the follower streams, as for a
// script experiment), and leaves model.onnx, reference.json and BUILTIN_RESULT in the folder.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveProject } from '../data/dataset';
import type { DataVersion } from '../data/types';
import { isScriptExperiment } from '../spec/types';
import { mlloopVersion } from '../runtime/version';
import { runWorkerJob } from '../runtime/worker';
import {
  finishedLine,
  loadedLine,
  runSeed,
  type JobResult,
  type SerializedError,
  type WorkerInput,
  type WorkerMessage,
} from '../train/job';
import { writeReference } from '../train/reference';
import { writeFileAtomic, type RunRecord } from '../train/runStore';
import { METRIC_MARKER } from '../scripts/metricLines';

/** What the node's training hands to the follower besides model.onnx: the final metrics (computed by the trainer, as for a local run) and the data it trained on. */
export const BUILTIN_RESULT = 'builtin-result.json';

export interface BuiltinResult {
  dataVersion: DataVersion;
  metrics: JobResult['metrics'];
  trainMs: number;
  modelSize: number;
}

/**
 * Trains the run of `runDir` (a built-in experiment submitted to a cluster) here. Resolves once
 * model.onnx and BUILTIN_RESULT are written; rejects with the trainer's error (the job then exits
 * non-zero and the follower fails the run with its stderr).
 */
export async function trainClusterTask(o: {
  projectDir: string;
  experimentName: string;
  runDir: string;
  /** One metric line (JSON, the script protocol) per progress step. */
  onMetricLine: (line: string) => void;
  log: (line: string) => void;
  signal?: AbortSignal;
}): Promise<BuiltinResult> {
  const recordFile = join(o.runDir, 'run.json');
  let record: RunRecord;
  try {
    record = JSON.parse(readFileSync(recordFile, 'utf8')) as RunRecord;
  } catch (e) {
    throw new Error(
      `--run-dir ${o.runDir}: cannot read ${recordFile} (${(e as Error).message}): the folder must be a run created by a cluster submission`,
    );
  }
  if (!record.cluster)
    throw new Error(`--run-dir ${o.runDir}: ${recordFile} is not a cluster run (no "cluster" in it)`);
  if (record.experiment !== o.experimentName)
    throw new Error(
      `--run-dir ${o.runDir}: the run is of experiment "${record.experiment}", not "${o.experimentName}"`,
    );
  const ref = await resolveProject(o.projectDir);
  const experiment = ref.spec.experiments[o.experimentName];
  if (!experiment) throw new Error(`No experiment "${o.experimentName}" in ${ref.projectFile}`);
  if (isScriptExperiment(experiment))
    throw new Error(
      `Experiment "${o.experimentName}" runs a script: its cluster job runs the command, not ml-loop train --run-dir`,
    );
  // The params and seed the submitter resolved (a sweep's combination included): what the run records.
  const params = record.params;
  const seed = record.seed ?? runSeed(params);
  const cancelFlag = new SharedArrayBuffer(4);
  const input: WorkerInput = {
    job: { data: { project: ref }, model: experiment.model, params, seed },
    meta: { runId: record.runId, mlloopVersion },
    cancelFlag,
  };
  let dataVersion: DataVersion | undefined;
  const result = await runWorkerJob<JobResult, WorkerMessage>({
    worker: 'train',
    workerData: input,
    job: 'Training',
    signal: o.signal,
    cancelFlag,
    log: o.log,
    onMessage: (m, end) => {
      if (m.type === 'loaded') {
        dataVersion = m.info.version;
        o.log(loadedLine(m.info));
      } else if (m.type === 'progress') o.onMetricLine(JSON.stringify({ mlloop: METRIC_MARKER, ...m.event }));
      else if (m.type === 'done') end.resolve(m.result);
      else end.reject(Object.assign(new Error((m.error as SerializedError).message), m.error));
    },
  });
  if (!dataVersion) throw new Error('the training worker reported no data version');
  writeFileAtomic(join(o.runDir, 'model.onnx'), result.onnx);
  if (result.reference) writeReference(o.runDir, result.reference);
  const out: BuiltinResult = {
    dataVersion,
    metrics: result.metrics,
    trainMs: result.trainMs,
    modelSize: result.onnx.byteLength,
  };
  // Written last: its presence says the model is complete.
  writeFileAtomic(join(o.runDir, BUILTIN_RESULT), JSON.stringify(out, null, 2) + '\n');
  o.log(finishedLine(result));
  return out;
}
