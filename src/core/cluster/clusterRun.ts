// Experiments trained on a SLURM cluster, recorded in the run store exactly as local runs:
// submitClusterExperiment creates the run folders (inputs written here, on the shared file system),
// writes the job script into them and submits it (a sweep as one job array); ClusterFollower then
// follows the jobs (squeue → sacct → scontrol, gently, backing off while nothing changes), streams
// the metric lines the job writes (its stdout.txt and metrics.jsonl) as progress, and finishes each
// run like a local script run: model.onnx evaluated by ML Loop where the follower runs. A built-in
// experiment's job runs the ML Loop CLI with Node on the node (./builtinTask.ts), which streams the
// same metric lines and leaves the trainer's own final metrics beside model.onnx.

import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { resolveProject, type ProjectRef } from '../data/dataset';
import { isScriptExperiment, type ExperimentSpec, type SlurmCluster } from '../spec/types';
import { resolveParams } from '../spec/schema';
import { runSeed } from '../train/job';
import { gitState, snapshotProjectFile } from '../train/provenance';
import { runDir, runsDir } from '../spec/layout';
import {
  createRun,
  finishRun,
  newRunId,
  RunDir,
  writeFileAtomic,
  type RunGroup,
  type RunRecord,
} from '../train/runStore';
import type { ProgressEvent } from '../train/types';
import { inputEnv } from '../scripts/inputs';
import { LineBuffer, parseMetricLine, type ScriptMetric } from '../scripts/metricLines';
import { pythonHelperDir, scriptArgv, STDERR_TAIL_LINES } from '../scripts/runScript';
import { inScriptDataWorker } from '../scripts/scriptData';
import { sweepCombinations } from '../experiment/sweep';
import { BUILTIN_RESULT, type BuiltinResult } from './builtinTask';
import {
  execSlurm,
  jobIdOf,
  jobScript,
  mapSlurmState,
  queryJobs,
  sbatch,
  scancel,
  SlurmError,
  type ClusterRunState,
  type JobInfo,
  type JobTask,
  type SlurmRunner,
} from './slurm';

/** The job script's file name in each run folder. */
export const JOB_SCRIPT = 'job.sbatch';

export interface ClusterSubmitOptions {
  projectDir: string;
  experimentName: string;
  /** The cluster to use instead of the experiment's `cluster`. */
  cluster?: string;
  /** Parameters replacing the experiment's (a single run; ignored for a sweep's grid values). */
  params?: Record<string, unknown>;
  /** Submit the experiment's sweep as one job array (default: when it has one). */
  sweep?: boolean;
  /** Runs `python`/`python3` commands with this interpreter on the node (default: the command as written; the cluster's setup lines activate environments). */
  pythonPath?: string;
  /** Built-in experiments: the ML Loop CLI bundle (dist/cli.js) the job runs with Node on the node, at a path the node shares. */
  cliPath?: string;
  runner?: SlurmRunner;
  onRunCreated?: (runId: string, runDir: string, group?: RunGroup) => void;
}

export interface ClusterSubmission {
  cluster: string;
  jobId: string;
  runs: { runId: string; runDir: string }[];
  groupId?: string;
}

/** The cluster an experiment trains on (its `cluster`, or the one asked for), with a clear error when mlloop.json lacks it. */
export function clusterOf(
  ref: ProjectRef,
  experimentName: string,
  asked?: string,
): { name: string; cluster: SlurmCluster } | undefined {
  const experiment = ref.spec.experiments[experimentName];
  const name = asked ?? experiment?.cluster;
  if (name === undefined) return undefined;
  const cluster = ref.spec.clusters?.[name];
  if (!cluster) {
    const names = Object.keys(ref.spec.clusters ?? {});
    throw new Error(
      `No cluster "${name}" in ${ref.projectFile}${names.length ? ` (clusters: ${names.join(', ')})` : ' (it has no "clusters")'}`,
    );
  }
  return { name, cluster };
}

/**
 * Creates the runs of an experiment (one, or one per sweep combination), writes their inputs and
 * job script, and submits them with sbatch. The runs are `queued` when it returns; an sbatch that
 * fails (no sbatch on PATH, an invalid partition or account: SLURM's own message) fails them and
 * is thrown.
 */
export async function submitClusterExperiment(opts: ClusterSubmitOptions): Promise<ClusterSubmission> {
  const ref = await resolveProject(opts.projectDir);
  const projectDir = resolve(opts.projectDir);
  const experiment = ref.spec.experiments[opts.experimentName];
  if (!experiment) throw new Error(`No experiment "${opts.experimentName}" in ${ref.projectFile}`);
  const target = clusterOf(ref, opts.experimentName, opts.cluster);
  if (!target)
    throw new Error(
      `Experiment "${opts.experimentName}" names no "cluster" in ${ref.projectFile}: add one, or pick a cluster`,
    );
  if (!isScriptExperiment(experiment)) return submitBuiltin(opts, ref, experiment, target);
  const grid =
    opts.sweep !== false && experiment.sweep && Object.keys(experiment.sweep).length
      ? sweepCombinations(experiment.sweep)
      : undefined;
  const groupId = grid ? `sweep-${newRunId()}` : undefined;
  const combos = grid ?? [undefined];
  const cwd = resolve(projectDir, experiment.cwd ?? '.');
  const helper = pythonHelperDir();
  const git = gitState(projectDir);

  const runs: RunDir[] = [];
  const tasks: JobTask[] = [];
  for (const [index, values] of combos.entries()) {
    const params = values ? { ...(experiment.params ?? {}), ...values } : (opts.params ?? experiment.params ?? {});
    const group: RunGroup | undefined =
      values && groupId ? { id: groupId, index, size: combos.length, values } : undefined;
    const run = createRun(projectDir, { experiment: opts.experimentName, model: 'script', params, group });
    const argv = scriptArgv(experiment.command, params, opts.pythonPath);
    // No local process trains it: SLURM says whether it lives (src/core/track/store deriveStatus).
    run.update({
      status: 'queued',
      pid: undefined,
      host: undefined,
      command: argv,
      cluster: { cluster: target.name, jobId: '', script: JOB_SCRIPT, ...(grid ? { arrayTaskId: index } : {}) },
    });
    runs.push(run);
    opts.onRunCreated?.(run.runId, run.dir, group);
    snapshotProjectFile(ref.projectFile, run.dir);
    try {
      const prepared = await inScriptDataWorker({ job: 'prepare', ref, runDir: run.dir, params });
      run.update({ dataVersion: prepared.version });
      run.log(
        `data ${prepared.version.id}: train ${prepared.rows.train}, dev ${prepared.rows.dev}, test ${prepared.rows.test} rows`,
      );
      tasks.push({
        runDir: run.dir,
        argv,
        env: {
          PYTHONUNBUFFERED: '1',
          ...(helper ? { PYTHONPATH: helper } : {}),
          ...experiment.env,
          ...inputEnv(prepared.inputs, run.dir),
        },
      });
    } catch (e) {
      for (const r of runs) finishRun(r, { status: 'failed', error: { message: (e as Error).message } });
      throw e;
    }
  }
  return submitJob(opts, target, { runs, tasks, cwd, sweep: grid !== undefined, groupId, git });
}

/** Node on the node for a built-in experiment's job (the CLI's own requirement). */
export const NODE_MAJOR = 20;

/**
 * A built-in experiment (one run, or its sweep as a job array): each job runs
 * `node <cliPath> train PROJECT -e NAME --local --run-dir RUN_DIR` on the node, the job script
 * checking first that Node is there and recent enough.
 */
async function submitBuiltin(
  opts: ClusterSubmitOptions,
  ref: ProjectRef,
  experiment: Exclude<ExperimentSpec, { command: string[] }>,
  target: { name: string; cluster: SlurmCluster },
): Promise<ClusterSubmission> {
  const cliPath = opts.cliPath && resolve(opts.cliPath);
  if (!cliPath)
    throw new Error(
      `Experiment "${opts.experimentName}" is a built-in model: its cluster job runs the ML Loop CLI with Node on the node, and the path of the CLI (dist/cli.js) was not given`,
    );
  if (!existsSync(cliPath))
    throw new Error(`The ML Loop CLI a built-in experiment's cluster job runs is not found: ${cliPath}`);
  const projectDir = resolve(opts.projectDir);
  const grid =
    opts.sweep !== false && experiment.sweep && Object.keys(experiment.sweep).length
      ? sweepCombinations(experiment.sweep)
      : undefined;
  const groupId = grid ? `sweep-${newRunId()}` : undefined;
  const combos = grid ?? [undefined];
  const git = gitState(projectDir);
  // Every combination is validated before any run exists: a bad value is the project's error, not a failed job.
  const paramSets = combos.map((values) =>
    resolveParams({
      ...experiment,
      params: values ? { ...(experiment.params ?? {}), ...values } : (opts.params ?? experiment.params ?? {}),
    } as ExperimentSpec),
  );
  const runs: RunDir[] = [];
  const tasks: JobTask[] = [];
  for (const [index, values] of combos.entries()) {
    const params = paramSets[index];
    const group: RunGroup | undefined =
      values && groupId ? { id: groupId, index, size: combos.length, values } : undefined;
    const run = createRun(projectDir, { experiment: opts.experimentName, model: experiment.model, params, group });
    const argv = ['node', cliPath, 'train', projectDir, '-e', opts.experimentName, '--local', '--run-dir', run.dir];
    run.update({
      status: 'queued',
      pid: undefined,
      host: undefined,
      seed: runSeed(params),
      command: argv,
      cluster: { cluster: target.name, jobId: '', script: JOB_SCRIPT, ...(grid ? { arrayTaskId: index } : {}) },
    });
    run.log(`params ${JSON.stringify(params)} seed ${runSeed(params)}`);
    runs.push(run);
    opts.onRunCreated?.(run.runId, run.dir, group);
    snapshotProjectFile(ref.projectFile, run.dir);
    tasks.push({ runDir: run.dir, argv, env: {} });
  }
  return submitJob(opts, target, {
    runs,
    tasks,
    cwd: projectDir,
    sweep: grid !== undefined,
    groupId,
    git,
    nodeMajor: NODE_MAJOR,
  });
}

/** Writes the job script into every run folder (a sweep's runs share one) and submits it; an sbatch that fails fails the runs. */
async function submitJob(
  opts: ClusterSubmitOptions,
  target: { name: string; cluster: SlurmCluster },
  job: {
    runs: RunDir[];
    tasks: JobTask[];
    cwd: string;
    sweep: boolean;
    groupId?: string;
    git: ReturnType<typeof gitState>;
    nodeMajor?: number;
  },
): Promise<ClusterSubmission> {
  const { runs, groupId } = job;
  const commit = await job.git;
  const script = jobScript({
    jobName: `mlloop-${opts.experimentName}`,
    cluster: target.cluster,
    cwd: job.cwd,
    tasks: job.tasks,
    parallel: target.cluster.parallel,
    slurmOutput: join(runs[0].dir, job.sweep ? 'slurm-%A_%a.out' : 'slurm-%j.out'),
    ...(job.nodeMajor !== undefined ? { nodeMajor: job.nodeMajor } : {}),
  });
  for (const r of runs) writeFileAtomic(join(r.dir, JOB_SCRIPT), script);
  let jobId: string;
  try {
    jobId = await sbatch(opts.runner ?? execSlurm, join(runs[0].dir, JOB_SCRIPT), target.cluster.sbatch ?? []);
  } catch (e) {
    const message = e instanceof SlurmError ? e.message : `sbatch failed: ${(e as Error).message}`;
    for (const r of runs) finishRun(r, { status: 'failed', error: { message } });
    throw new SlurmError(message);
  }
  for (const r of runs) {
    r.update({ ...(commit ? { git: commit } : {}), cluster: { ...r.current.cluster!, jobId, state: 'PENDING' } });
    r.log(`submitted to cluster "${target.name}": SLURM job ${jobIdOf(r.current.cluster!)}`);
  }
  return {
    cluster: target.name,
    jobId,
    runs: runs.map((r) => ({ runId: r.runId, runDir: r.dir })),
    ...(groupId ? { groupId } : {}),
  };
}

/** Runs of a project that a cluster still has (queued or running): what a restarted editor follows again. */
export function unfinishedClusterRuns(projectDir: string): string[] {
  const dir = runsDir(projectDir);
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const id of readdirSync(dir)) {
    try {
      const record = JSON.parse(readFileSync(join(dir, id, 'run.json'), 'utf8')) as RunRecord;
      if (record.cluster?.jobId && (record.status === 'queued' || record.status === 'running')) out.push(id);
    } catch {
      // Not a run folder, or one being written: the store reports those.
    }
  }
  return out.sort();
}

// ---- following ----

/** How often SLURM is asked at first and after a change; the interval grows by BACKOFF while nothing changes, up to the max. */
export const POLL_MIN_MS = 3000;
export const POLL_MAX_MS = 30_000;
const BACKOFF = 1.5;
/** How often a running job's files are read for new metric lines (local reads, no SLURM call). */
const TAIL_MS = 1000;
/** Polls in a row in which no source knows a job before its run is failed. */
const UNKNOWN_POLLS = 3;

export interface FollowerOptions {
  runner?: SlurmRunner;
  pollMinMs?: number;
  pollMaxMs?: number;
  tailMs?: number;
  onProgress?: (runId: string, e: ProgressEvent) => void;
  /** run.json changed (queued → running, reason, final state). */
  onChange?: (projectDir: string, runId: string, record: RunRecord) => void;
  onWarning?: (runId: string, message: string) => void;
}

interface Followed {
  projectDir: string;
  run: RunDir;
  id: string;
  steps: ScriptMetric[];
  tails: { file: string; offset: number; lines: LineBuffer }[];
  unknown: number;
  /** The job has written into the run folder (it started on a node). */
  started?: boolean;
  finishing?: Promise<RunRecord>;
  done: Promise<RunRecord>;
  resolve: (r: RunRecord) => void;
}

/** Follows cluster runs until they end; one SLURM query per poll for all of them. */
export class ClusterFollower {
  private readonly followed = new Map<string, Followed>();
  private readonly runner: SlurmRunner;
  private interval: number;
  private pollTimer?: NodeJS.Timeout;
  private tailTimer?: NodeJS.Timeout;
  private polling = false;
  private disposed = false;

  constructor(private readonly opts: FollowerOptions = {}) {
    this.runner = opts.runner ?? execSlurm;
    this.interval = opts.pollMinMs ?? POLL_MIN_MS;
  }

  /** The runs being followed. */
  runIds(): string[] {
    return [...this.followed.keys()];
  }

  isFollowing(runId: string): boolean {
    return this.followed.has(runId);
  }

  /** Follows a queued or running cluster run; resolves with its final record. Following the same run twice gives the same promise. */
  follow(projectDir: string, runId: string): Promise<RunRecord> {
    const existing = this.followed.get(runId);
    if (existing) return existing.done;
    const dir = runDir(projectDir, runId);
    const record = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as RunRecord;
    if (!record.cluster?.jobId)
      throw new Error(`run ${runId} was not submitted to a cluster (no job id in its run.json)`);
    if (record.status !== 'queued' && record.status !== 'running') return Promise.resolve(record);
    const run = new RunDir(dir, record);
    let resolveDone!: (r: RunRecord) => void;
    const done = new Promise<RunRecord>((r) => (resolveDone = r));
    // The history is read from the start: a restarted follower replays what the job wrote so far.
    const tails = ['stdout.txt', 'metrics.jsonl'].map((f) => ({
      file: join(dir, f),
      offset: 0,
      lines: new LineBuffer(),
    }));
    this.followed.set(runId, {
      projectDir,
      run,
      id: jobIdOf(record.cluster),
      steps: [],
      tails,
      unknown: 0,
      done,
      resolve: resolveDone,
    });
    this.interval = this.opts.pollMinMs ?? POLL_MIN_MS;
    this.schedulePoll(0);
    this.tailTimer ??= setInterval(() => this.tailAll(), this.opts.tailMs ?? TAIL_MS);
    return done;
  }

  /** Cancels a followed run's job with scancel; `wholeArray` cancels every task of its sweep's array. */
  async cancel(runId: string, wholeArray = false): Promise<void> {
    const f = this.followed.get(runId);
    if (!f) throw new Error(`run ${runId} is not a cluster run being followed`);
    const c = f.run.current.cluster!;
    f.run.log(`cancel requested: scancel ${wholeArray ? c.jobId : f.id}`);
    await scancel(this.runner, [wholeArray ? c.jobId : f.id]);
    this.interval = this.opts.pollMinMs ?? POLL_MIN_MS;
    this.schedulePoll(0);
  }

  private schedulePoll(delay: number): void {
    if (this.disposed) return;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = setTimeout(() => void this.poll(), delay);
  }

  private async poll(): Promise<void> {
    if (this.polling || this.disposed) return;
    this.polling = true;
    let changed = false;
    try {
      const active = [...this.followed.values()].filter((f) => !f.finishing);
      if (active.length) {
        let infos: Map<string, JobInfo> | undefined;
        try {
          infos = await queryJobs(
            this.runner,
            active.map((f) => f.id),
          );
        } catch (e) {
          for (const f of active)
            this.opts.onWarning?.(f.run.runId, `could not ask SLURM about job ${f.id}: ${(e as Error).message}`);
        }
        for (const f of infos ? active : []) changed = this.apply(f, infos!.get(f.id)) || changed;
      }
    } finally {
      this.polling = false;
    }
    if (this.followed.size === 0) return this.stopTimers();
    const min = this.opts.pollMinMs ?? POLL_MIN_MS;
    this.interval = changed ? min : Math.min(this.opts.pollMaxMs ?? POLL_MAX_MS, this.interval * BACKOFF);
    this.schedulePoll(this.interval);
  }

  /** Applies what SLURM said about one run; true when its state changed. */
  private apply(f: Followed, info: JobInfo | undefined): boolean {
    const before = f.run.current;
    if (!info) {
      if (++f.unknown < UNKNOWN_POLLS) return false;
      this.finish(
        f,
        { status: 'failed', reason: 'UNKNOWN' },
        `SLURM no longer knows job ${f.id} (no squeue, sacct or scontrol record): without job accounting a finished job is forgotten after MinJobAge`,
      );
      return true;
    }
    f.unknown = 0;
    const mapped = mapSlurmState(info.state, info.reason);
    if (mapped.status === 'queued' || mapped.status === 'running') {
      const reason = mapped.status === 'queued' ? mapped.reason : undefined;
      if (before.status === mapped.status && before.cluster?.state === info.state && before.cluster?.reason === reason)
        return false;
      f.run.update({ status: mapped.status, cluster: { ...before.cluster!, state: info.state, reason } });
      if (before.status !== mapped.status) f.run.log(`SLURM job ${f.id}: ${info.state}${reason ? ` (${reason})` : ''}`);
      this.opts.onChange?.(f.projectDir, f.run.runId, f.run.current);
      return true;
    }
    f.run.update({ cluster: { ...before.cluster!, state: info.state, reason: info.reason } });
    this.finish(f, mapped, undefined, info);
    return true;
  }

  private finish(f: Followed, state: ClusterRunState, message?: string, info?: JobInfo): void {
    f.finishing = this.complete(f, state, message, info).then(
      (record) => record,
      (e: Error) => finishRun(f.run, { status: 'failed', error: { message: e.message } }),
    );
    void f.finishing.then((record) => {
      this.followed.delete(f.run.runId);
      this.opts.onChange?.(f.projectDir, f.run.runId, record);
      f.resolve(record);
      if (this.followed.size === 0) this.stopTimers();
    });
  }

  private async complete(
    f: Followed,
    state: ClusterRunState,
    message: string | undefined,
    info?: JobInfo,
  ): Promise<RunRecord> {
    this.tail(f, true);
    const run = f.run;
    // The history as ML Loop reads it: the job's lines in their normalized form (as for a local script run).
    writeFileAtomic(join(run.dir, 'metrics.jsonl'), f.steps.map((s) => JSON.stringify(s) + '\n').join(''));
    run.log(`SLURM job ${f.id}: ${info?.state ?? 'gone'}${info?.exitCode ? ` (exit ${info.exitCode})` : ''}`);
    if (state.status === 'cancelled')
      return finishRun(run, { status: 'cancelled', error: { message: `The SLURM job ${f.id} was cancelled` } });
    if (state.status === 'failed') {
      return finishRun(run, {
        status: 'failed',
        error: {
          message:
            message ??
            `The SLURM job ${f.id} ended ${state.reason}${info?.exitCode && info.exitCode !== '0:0' ? ` (exit code ${info.exitCode})` : ''}${this.stderrTail(run)}`,
        },
      });
    }
    if (state.status !== 'completed') throw new Error(`unexpected state ${state.status}`);
    if (f.steps.length === 0) {
      const warning = `the job wrote no metric line (to its stdout or ${join(run.dir, 'metrics.jsonl')}): the run has no curves`;
      run.log(`warning: ${warning}`);
      this.opts.onWarning?.(run.runId, warning);
    }
    if (run.current.model !== 'script') return this.completeBuiltin(f);
    if (!existsSync(run.modelPath))
      return finishRun(run, {
        status: 'failed',
        error: {
          message: `The SLURM job ${f.id} completed but wrote no model: expected ${run.modelPath} (MLLOOP_RUN_DIR + /model.onnx)${this.stderrTail(run)}`,
        },
      });
    const ref = await resolveProject(f.projectDir);
    const metrics = await inScriptDataWorker({
      job: 'evaluate',
      ref,
      runDir: run.dir,
      modelPath: run.modelPath,
      dataVersion: run.current.dataVersion!.id,
    });
    run.update({ modelSize: statSync(run.modelPath).size });
    run.log(`model.onnx evaluated by ML Loop: dev ${JSON.stringify(metrics.dev ?? null)}`);
    return finishRun(run, { status: 'completed', metrics });
  }

  /** A built-in experiment's job trained and evaluated on the node (./builtinTask.ts): its final metrics are the trainer's own, as for a local run. */
  private completeBuiltin(f: Followed): RunRecord {
    const run = f.run;
    const file = join(run.dir, BUILTIN_RESULT);
    if (!existsSync(file) || !existsSync(run.modelPath)) {
      return finishRun(run, {
        status: 'failed',
        error: {
          message: `The SLURM job ${f.id} completed but its training left no model: expected ${run.modelPath} and ${file}${this.stderrTail(run)}`,
        },
      });
    }
    const result = JSON.parse(readFileSync(file, 'utf8')) as BuiltinResult;
    run.update({ dataVersion: result.dataVersion, modelSize: result.modelSize });
    run.log(
      `trained on the node in ${result.trainMs} ms; model ${result.modelSize} bytes; dev ${JSON.stringify(result.metrics.dev ?? null)}`,
    );
    return finishRun(run, { status: 'completed', metrics: result.metrics });
  }

  /** The last lines of the job's stderr for a failed run's message; says so when the node never wrote the run folder. */
  private stderrTail(run: RunDir): string {
    const file = join(run.dir, 'stderr.txt');
    if (!existsSync(file)) {
      return `. The job wrote nothing into the run folder (${run.dir}): is the project on a file system the cluster's nodes share? SLURM's own output: ${join(run.dir, 'slurm-*.out')}`;
    }
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n').slice(-STDERR_TAIL_LINES);
    return lines.length && lines[0] !== '' ? `:\n${lines.join('\n')}` : ' (nothing on stderr)';
  }

  /**
   * Reads the followed jobs' files. The first line a job writes (stderr.txt, as it starts on its
   * node) also asks SLURM at once: after a long wait in the queue the poll interval has backed off,
   * and a short job could otherwise run and end between two polls, never shown running.
   */
  private tailAll(): void {
    for (const f of this.followed.values()) {
      if (f.finishing) continue;
      if (!f.started && existsSync(join(f.run.dir, 'stderr.txt'))) {
        f.started = true;
        if (f.run.current.status === 'queued') {
          this.interval = this.opts.pollMinMs ?? POLL_MIN_MS;
          this.schedulePoll(0);
        }
      }
      // Progress is reported from the moment SLURM says running (listeners start the live run then); nothing is lost, the files are read from their start.
      if (f.run.current.status === 'running') this.tail(f, false);
    }
  }

  /** Reads what the job appended to stdout.txt and metrics.jsonl since the last read. */
  private tail(f: Followed, end: boolean): void {
    const metric = readProjectMetric(f.projectDir);
    for (const t of f.tails) {
      if (!existsSync(t.file)) continue;
      const size = statSync(t.file).size;
      if (size > t.offset) {
        const buf = Buffer.alloc(size - t.offset);
        const fd = openSync(t.file, 'r');
        try {
          readSync(fd, buf, 0, buf.length, t.offset);
        } finally {
          closeSync(fd);
        }
        t.offset = size;
        for (const line of t.lines.push(buf.toString('utf8'))) this.onLine(f, line, metric);
      }
      if (end) for (const line of t.lines.end()) this.onLine(f, line, metric);
    }
  }

  private onLine(f: Followed, line: string, metric: string): void {
    const parsed = parseMetricLine(line, metric);
    if (parsed.kind === 'invalid') this.opts.onWarning?.(f.run.runId, parsed.warning);
    if (parsed.kind !== 'metric') return;
    f.steps.push({ t: Date.now(), ...parsed.metric });
    try {
      this.opts.onProgress?.(f.run.runId, parsed.metric);
    } catch {
      // A listener's failure must not break the following.
    }
  }

  private stopTimers(): void {
    if (this.pollTimer) clearTimeout(this.pollTimer);
    if (this.tailTimer) clearInterval(this.tailTimer);
    this.pollTimer = undefined;
    this.tailTimer = undefined;
  }

  /** Stops following (the jobs go on: a later follower picks them up again). */
  dispose(): void {
    this.disposed = true;
    this.stopTimers();
    this.followed.clear();
  }
}

const metricCache = new Map<string, string>();
/** The project's metric name (a `dev_<metric>` key becomes the curve's devMetric). */
function readProjectMetric(projectDir: string): string {
  let m = metricCache.get(projectDir);
  if (!m) {
    try {
      m = (JSON.parse(readFileSync(join(projectDir, 'mlloop.json'), 'utf8')) as { metric?: string }).metric ?? '';
    } catch {
      m = '';
    }
    metricCache.set(projectDir, m);
  }
  return m;
}

/**
 * Submits an experiment and follows its runs until they end (the CLI's `--cluster`): resolves with
 * their final records. An aborted `signal` stops the following only: the jobs go on and a later
 * follower (the editor, `ml-loop runs`) finishes them.
 */
export async function trainOnCluster(
  opts: ClusterSubmitOptions &
    Pick<FollowerOptions, 'onProgress' | 'onChange' | 'onWarning' | 'pollMinMs' | 'pollMaxMs' | 'tailMs'> & {
      signal?: AbortSignal;
    },
): Promise<{ submission: ClusterSubmission; records: RunRecord[]; detached: boolean }> {
  const submission = await submitClusterExperiment(opts);
  const follower = new ClusterFollower(opts);
  const done = Promise.all(submission.runs.map((r) => follower.follow(resolve(opts.projectDir), r.runId)));
  const aborted = new Promise<'aborted'>((r) =>
    opts.signal?.aborted ? r('aborted') : opts.signal?.addEventListener('abort', () => r('aborted'), { once: true }),
  );
  const result = await Promise.race([done, aborted]);
  follower.dispose();
  if (result === 'aborted') {
    return {
      submission,
      records: submission.runs.map((r) => JSON.parse(readFileSync(join(r.runDir, 'run.json'), 'utf8')) as RunRecord),
      detached: true,
    };
  }
  return { submission, records: result, detached: false };
}
