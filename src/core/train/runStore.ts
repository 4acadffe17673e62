// The on-disk layout of one training run, `<project>/.mlloop/runs/<runId>/`:
//   run.json       summary (experiment, resolved params, data version, status, times, metrics, model size)
//   metrics.jsonl  append-only history (one JSON object per line: progress steps, then final metrics)
//   model.onnx     the exported model (when the run completed)
//   log.txt        human-readable log
// Whole-file writes are atomic (temp file + rename) so a reader never sees a half-written file.

import { appendFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { BuiltinModel } from '../spec/types';
import type { DataVersion } from '../data/types';
import type { SplitMetrics } from './metrics';
import { runsDir } from '../spec/layout';

/** `queued`: submitted to a cluster and waiting there (src/core/cluster); the reason is in `cluster.reason`. */
export type RunStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

/** A run submitted to a SLURM cluster (src/core/cluster): SLURM, not a local process, says whether it lives. */
export interface ClusterJob {
  /** The cluster's name in mlloop.json. */
  cluster: string;
  /** The job id sbatch gave (the array's id for a sweep). */
  jobId: string;
  /** The task of the job array this run is (sweeps). */
  arrayTaskId?: number;
  /** SLURM's state and reason when last seen (PENDING/Priority, RUNNING/None, …). */
  state?: string;
  reason?: string;
  /** The job script, relative to the run folder. */
  script: string;
}

/** What trained a run: a built-in model, or a script experiment's command (src/core/scripts). */
export type RunModel = BuiltinModel | 'script';

/** The sweep a run belongs to: one run per combination of the experiment's `sweep` grid. */
export interface RunGroup {
  /** Shared by every run of one sweep. */
  id: string;
  /** 0-based position of this combination in the grid, and the grid's size. */
  index: number;
  size: number;
  /** The swept parameters' values of this run. */
  values: Record<string, unknown>;
}

export interface RunRecord {
  runId: string;
  experiment: string;
  model: RunModel;
  /** Resolved parameters (defaults applied); filled once known. */
  params: Record<string, unknown>;
  seed?: number;
  dataVersion?: DataVersion;
  status: RunStatus;
  startedAt: string;
  endedAt?: string;
  metrics?: { train?: SplitMetrics; dev?: SplitMetrics; test?: SplitMetrics };
  /** Examples in each split of the data the run trained on: the diagnosis gives dev/test errors their intervals from it. */
  rows?: { train: number; dev: number; test: number };
  /** Bytes of model.onnx. */
  modelSize?: number;
  error?: { message: string; param?: string; step?: number };
  /** The process that trains the run and its host: a `running` run whose process is gone was interrupted (src/core/track). */
  pid?: number;
  host?: string;
  /** The commit of the project's git repository when the run started, and whether the work tree had changes. */
  git?: { commit: string; dirty: boolean };
  /** Set when the run is one combination of a sweep. */
  group?: RunGroup;
  /** Script runs: the argv that was run (no shell). */
  command?: string[];
  /** Set when the run was submitted to a cluster (src/core/cluster). */
  cluster?: ClusterJob;
}

/** Sortable by creation time (UTC, millisecond resolution) with a random suffix: 20261127-104512-123-9f3a1c. */
export function newRunId(now = new Date()): string {
  const iso = now.toISOString(); // 2026-11-27T10:45:12.123Z
  const stamp = `${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}-${iso.slice(20, 23)}`;
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

export class RunDir {
  constructor(
    readonly dir: string,
    private record: RunRecord,
  ) {}

  get runId(): string {
    return this.record.runId;
  }
  get current(): RunRecord {
    return structuredClone(this.record);
  }
  get modelPath(): string {
    return join(this.dir, 'model.onnx');
  }

  /** Merges fields into run.json and rewrites it atomically. */
  update(patch: Partial<RunRecord>): void {
    this.record = { ...this.record, ...patch };
    writeFileAtomic(join(this.dir, 'run.json'), JSON.stringify(this.record, null, 2) + '\n');
  }

  log(line: string): void {
    appendFileSync(join(this.dir, 'log.txt'), `${new Date().toISOString()} ${line}\n`);
  }
}

/** Creates the run folder with run.json (status running) and an empty history. */
export function createRun(
  projectDir: string,
  init: { runId?: string; experiment: string; model: RunModel; params?: Record<string, unknown>; group?: RunGroup },
): RunDir {
  const runId = init.runId ?? newRunId();
  const dir = join(runsDir(projectDir), runId);
  mkdirSync(runsDir(projectDir), { recursive: true });
  // Never reuse a run's folder (mkdir without `recursive` fails when it exists).
  mkdirSync(dir);
  writeFileSync(join(dir, 'metrics.jsonl'), '');
  const run = new RunDir(dir, {
    runId,
    experiment: init.experiment,
    model: init.model,
    params: init.params ?? {},
    status: 'running',
    startedAt: new Date().toISOString(),
    pid: process.pid,
    host: hostname(),
    ...(init.group ? { group: init.group } : {}),
  });
  run.update({});
  run.log(`run ${runId}: experiment "${init.experiment}" (${init.model})`);
  return run;
}

/** Appends one line to metrics.jsonl. */
export function appendMetric(run: RunDir, entry: Record<string, unknown>): void {
  appendFileSync(join(run.dir, 'metrics.jsonl'), JSON.stringify(entry) + '\n');
}

/** Writes the model (when given) and the final status, metrics and end time. */
export function finishRun(
  run: RunDir,
  result: { status: Exclude<RunStatus, 'running' | 'queued'>; model?: Uint8Array; metrics?: RunRecord['metrics']; error?: RunRecord['error'] },
): RunRecord {
  if (result.model) writeFileAtomic(run.modelPath, result.model);
  if (result.metrics) appendMetric(run, { final: true, ...result.metrics });
  run.update({
    status: result.status,
    endedAt: new Date().toISOString(),
    ...(result.metrics ? { metrics: result.metrics } : {}),
    ...(result.model ? { modelSize: result.model.byteLength } : {}),
    ...(result.error ? { error: result.error } : {}),
  });
  run.log(result.status === 'failed' ? `failed: ${result.error?.message ?? 'unknown error'}` : result.status);
  return run.current;
}

export function readRun(projectDir: string, runId: string): RunRecord {
  return JSON.parse(readFileSync(join(runsDir(projectDir), runId, 'run.json'), 'utf8')) as RunRecord;
}
