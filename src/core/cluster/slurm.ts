// SLURM, as ML Loop talks to it: the job script a run is submitted with, the client commands
// (sbatch, squeue, sacct, scontrol, scancel) run as argv through child_process (never a shell of
// user strings, never blocking the caller's thread), the parsing of their output, and the mapping of
// SLURM's job states onto ML Loop's run states.

import { execFile } from 'node:child_process';
import type { SlurmCluster } from '../spec/types';
import type { ClusterJob } from '../train/runStore';

/** The id squeue/sacct/scancel know one run by: `123` or `123_4` for a task of an array. */
export function jobIdOf(ref: Pick<ClusterJob, 'jobId' | 'arrayTaskId'>): string {
  return ref.arrayTaskId === undefined ? ref.jobId : `${ref.jobId}_${ref.arrayTaskId}`;
}

// ---- the job script ----

/** POSIX single-quoting: the argument reaches the program as one word, byte for byte. */
export function shellQuote(arg: string): string {
  if (arg === '') return "''";
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** One task of a job: where its run lives, its command (argv) and its environment. */
export interface JobTask {
  runDir: string;
  argv: string[];
  env: Record<string, string>;
}

export interface JobScriptOptions {
  jobName: string;
  cluster: SlurmCluster;
  /** The working directory of the command (on the shared file system). */
  cwd: string;
  /** One task: a plain job; several: a job array, task i running tasks[i]. */
  tasks: JobTask[];
  /** Tasks of an array running at once (`%P`); default all. */
  parallel?: number;
  /** Where SLURM writes what happens before the task's own redirection (e.g. a failing `cd`). */
  slurmOutput: string;
  /** The command is `node …` (a built-in experiment runs the ML Loop CLI on the node): this Node major version or newer is checked first. */
  nodeMajor?: number;
}

/** The `#SBATCH` options of a cluster (mlloop.json's `clusters.NAME`) and a job. */
export function sbatchDirectives(
  o: Pick<JobScriptOptions, 'jobName' | 'cluster' | 'tasks' | 'parallel' | 'slurmOutput'>,
): string[] {
  const c = o.cluster;
  const opts = [`--job-name=${o.jobName}`, `--output=${o.slurmOutput}`, '--ntasks=1'];
  if (c.partition) opts.push(`--partition=${c.partition}`);
  if (c.gres) opts.push(`--gres=${c.gres}`);
  if (c.cpusPerTask) opts.push(`--cpus-per-task=${c.cpusPerTask}`);
  if (c.memory) opts.push(`--mem=${c.memory}`);
  if (c.time) opts.push(`--time=${c.time}`);
  if (o.tasks.length > 1) {
    const p = o.parallel !== undefined && o.parallel < o.tasks.length ? `%${Math.max(1, o.parallel)}` : '';
    opts.push(`--array=0-${o.tasks.length - 1}${p}`);
  }
  return opts;
}

/**
 * The job script: `#SBATCH` options, then per task (by $SLURM_ARRAY_TASK_ID) its run folder, its
 * environment and its argv as quoted words. The user's `setup` lines (module load, source a venv)
 * are the only shell the user writes; the command itself runs with `exec "$@"`, never re-parsed.
 * Output goes to the run folder's stdout.txt/stderr.txt, which ML Loop reads for metric lines.
 */
export function jobScript(o: JobScriptOptions): string {
  const lines = ['#!/bin/bash', '# Written by ML Loop: one run of an experiment (see run.json beside this file).'];
  for (const d of sbatchDirectives(o)) lines.push(`#SBATCH ${d}`);
  lines.push('', 'set -u');
  const taskLines = (t: JobTask, indent: string) => [
    `${indent}RUN_DIR=${shellQuote(t.runDir)}`,
    ...Object.entries(t.env).map(([k, v]) => `${indent}export ${k}=${shellQuote(v)}`),
    `${indent}set -- ${t.argv.map(shellQuote).join(' ')}`,
  ];
  if (o.tasks.length === 1) lines.push(...taskLines(o.tasks[0], ''));
  else {
    lines.push('case "${SLURM_ARRAY_TASK_ID:-}" in');
    o.tasks.forEach((t, i) => lines.push(`  ${i})`, ...taskLines(t, '    '), '    ;;'));
    lines.push('  *) echo "ML Loop: unknown array task ${SLURM_ARRAY_TASK_ID:-}" >&2; exit 2 ;;', 'esac');
  }
  lines.push(
    'exec >>"$RUN_DIR/stdout.txt" 2>>"$RUN_DIR/stderr.txt"',
    'echo "ML Loop: job ${SLURM_JOB_ID:-?} on $(hostname) started $(date -u +%FT%TZ)" >&2',
    `cd ${shellQuote(o.cwd)} || exit 1`,
  );
  const setup = o.cluster.setup ?? [];
  if (setup.length) lines.push('# setup (from mlloop.json)', ...setup);
  if (o.nodeMajor !== undefined) lines.push(...nodeCheck(o.nodeMajor));
  lines.push(
    // A node without the interpreter (or Node) fails with a sentence, not a bare 127.
    'if ! command -v "$1" >/dev/null 2>&1; then',
    '  echo "ML Loop: \\"$1\\" is not found on node $(hostname) (PATH=$PATH): install it there or add a setup line (module load / source a venv) to the cluster in mlloop.json" >&2',
    '  exit 127',
    'fi',
    'exec "$@"',
    '',
  );
  return lines.join('\n');
}

/** Shell lines that stop the job with a sentence when `node` on the node is missing or older than `major`. */
function nodeCheck(major: number): string[] {
  const fix = 'install it there or add a setup line (e.g. module load nodejs) to the cluster in mlloop.json';
  return [
    `# Built-in experiments run the ML Loop CLI: Node ${major} or newer.`,
    'if ! command -v node >/dev/null 2>&1; then',
    `  echo "ML Loop: Node ${major} or newer is needed on the node: node is not found on $(hostname) (PATH=$PATH): ${fix}" >&2`,
    '  exit 127',
    'fi',
    `if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= ${major} ? 0 : 1)' >/dev/null 2>&1; then`,
    `  echo "ML Loop: Node ${major} or newer is needed on the node: $(hostname) has node $(node --version 2>&1) at $(command -v node): ${fix}" >&2`,
    '  exit 127',
    'fi',
  ];
}

// ---- states ----

export type ClusterRunState =
  | { status: 'queued'; reason: string }
  | { status: 'running' }
  | { status: 'completed' }
  | { status: 'failed'; reason: string }
  | { status: 'cancelled' };

/** SLURM job states (squeue %T, sacct State, scontrol JobState) → ML Loop's run states. */
export function mapSlurmState(state: string, reason = ''): ClusterRunState {
  // sacct writes "CANCELLED by 1000"; squeue may add "+" for a requeued state.
  const s = state.trim().split(/[\s+]/)[0].toUpperCase();
  switch (s) {
    case 'PENDING':
    case 'REQUEUED':
    case 'REQUEUE_HOLD':
    case 'REQUEUE_FED':
    case 'RESV_DEL_HOLD':
    case 'SUSPENDED':
    case 'STOPPED':
      return {
        status: 'queued',
        reason: s === 'PENDING' ? reason || 'Pending' : reason && reason !== 'None' ? `${s} (${reason})` : s,
      };
    case 'CONFIGURING':
    case 'RUNNING':
    case 'COMPLETING':
    case 'SIGNALING':
    case 'STAGE_OUT':
    case 'RESIZING':
      return { status: 'running' };
    case 'COMPLETED':
      return { status: 'completed' };
    case 'CANCELLED':
      return { status: 'cancelled' };
    case 'FAILED':
    case 'TIMEOUT':
    case 'OUT_OF_MEMORY':
    case 'NODE_FAIL':
    case 'PREEMPTED':
    case 'BOOT_FAIL':
    case 'DEADLINE':
    case 'SPECIAL_EXIT':
    case 'REVOKED':
      return { status: 'failed', reason: s };
    default:
      return { status: 'queued', reason: `unknown SLURM state ${state}` };
  }
}

/** What one query says about one job (or array task). */
export interface JobInfo {
  /** `123` or `123_4`. */
  id: string;
  state: string;
  reason?: string;
  /** `code:signal` from sacct/scontrol. */
  exitCode?: string;
}

/** Array task ids as SLURM writes a group of tasks that share a state: `3`, `1-4`, `[0-9%2]`, `1,3,5-7`, `0-10:2`. */
export function expandTaskIds(text: string): number[] {
  const out: number[] = [];
  for (const part of text
    .replace(/^\[|\]$/g, '')
    .split('%')[0]
    .split(',')) {
    const m = /^(\d+)(?:-(\d+)(?::(\d+))?)?$/.exec(part.trim());
    if (!m) continue;
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    const step = m[3] === undefined ? 1 : Math.max(1, Number(m[3]));
    for (let i = from; i <= to; i += step) out.push(i);
  }
  return out;
}

/** One entry per array task when `id` names a group of them (`12_[1-3]`). */
function perTask(j: JobInfo): JobInfo[] {
  const m = /^(\d+)_(.*[-,\[].*)$/.exec(j.id);
  return m ? expandTaskIds(m[2]).map((t) => ({ ...j, id: `${m[1]}_${t}` })) : [j];
}

/** The `|`-separated fields of each non-empty line (`-P`/`-o` output of the SLURM commands). */
function fieldLines(text: string): string[][] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => l.split('|'));
}

/** `squeue -h -r -o %i|%T|%r` lines. */
export function parseSqueue(text: string): JobInfo[] {
  return fieldLines(text).map(([id, state, reason]) => ({ id, state, reason: reason || undefined }));
}

/** `sacct -n -P -X -o JobID,State,ExitCode` lines (array tasks are `123_4`; steps `123.batch` are left out). */
export function parseSacct(text: string): JobInfo[] {
  return fieldLines(text)
    .map(([id, state, exitCode]) => ({ id, state, exitCode }))
    .filter((j) => !j.id.includes('.'))
    .flatMap(perTask);
}

/** `scontrol show job -o ID` (one line per job or array task of key=value pairs). */
export function parseScontrol(text: string): JobInfo[] {
  const out: JobInfo[] = [];
  for (const line of text.split('\n')) {
    if (!line.includes('JobId=')) continue;
    const kv = new Map<string, string>();
    for (const m of line.matchAll(/(\w+)=(\S*)/g)) if (!kv.has(m[1])) kv.set(m[1], m[2]);
    const task = kv.get('ArrayTaskId');
    const info = { state: kv.get('JobState') ?? '', reason: kv.get('Reason'), exitCode: kv.get('ExitCode') };
    // Tasks that never started share one record: `ArrayTaskId=1-2`.
    if (task === undefined) out.push({ id: kv.get('JobId')!, ...info });
    else for (const t of expandTaskIds(task)) out.push({ id: `${kv.get('ArrayJobId')}_${t}`, ...info });
  }
  return out;
}

// ---- the client commands ----

export class SlurmError extends Error {}

export interface SlurmRunner {
  /** Runs a SLURM client command; resolves with its stdout, rejects with a SlurmError that says what went wrong. */
  (command: string, args: string[]): Promise<string>;
}

/** Runs the real commands (asynchronously: the caller's thread never waits on SLURM). */
export const execSlurm: SlurmRunner = (command, args) =>
  new Promise((resolve, reject) => {
    execFile(command, args, { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        reject(
          new SlurmError(
            `${command} is not on PATH: ML Loop submits to SLURM from a machine where the SLURM client commands work (the cluster's login node, e.g. through Remote - SSH)`,
          ),
        );
      } else {
        const said = stderr.trim() || stdout.trim() || err.message;
        reject(new SlurmError(`${command} failed: ${said}`));
      }
    });
  });

/** Submits a job script; the job id. Extra arguments (mlloop.json's `sbatch`) come before the script. */
export async function sbatch(run: SlurmRunner, scriptPath: string, extraArgs: string[] = []): Promise<string> {
  const out = await run('sbatch', ['--parsable', ...extraArgs, scriptPath]);
  // `--parsable` prints `jobid` or `jobid;cluster`.
  const id = out.trim().split('\n').pop()!.split(';')[0];
  if (!/^\d+$/.test(id)) throw new SlurmError(`sbatch printed no job id: ${out.trim()}`);
  return id;
}

/** Cancels jobs (an array id cancels every task of it). */
export async function scancel(run: SlurmRunner, ids: string[]): Promise<void> {
  if (ids.length) await run('scancel', ids);
}

/**
 * The states of the given jobs: squeue for those still known to the queue, then sacct for the ones
 * that left it, and where accounting is off (no slurmdbd) `scontrol show job` while the controller
 * still remembers them (MinJobAge). Jobs no source knows are missing from the answer.
 */
export async function queryJobs(run: SlurmRunner, ids: string[]): Promise<Map<string, JobInfo>> {
  const found = new Map<string, JobInfo>();
  if (ids.length === 0) return found;
  const baseIds = [...new Set(ids.map((id) => id.split('_')[0]))];
  // squeue exits non-zero for an id that left the queue: that is an answer ("not queued"), not an error.
  try {
    const out = await run('squeue', ['-h', '-r', '-j', baseIds.join(','), '-o', '%i|%T|%r']);
    for (const j of parseSqueue(out)) found.set(j.id, j);
  } catch (e) {
    if (!/Invalid job id/i.test((e as Error).message)) throw e;
  }
  const missing = () => ids.filter((id) => !found.has(id));
  if (missing().length === 0) return found;
  const rest = [...new Set(missing().map((id) => id.split('_')[0]))];
  let accounting = true;
  try {
    const out = await run('sacct', ['-n', '-P', '-X', '-j', rest.join(','), '-o', 'JobID,State,ExitCode']);
    for (const j of parseSacct(out)) if (!found.has(j.id)) found.set(j.id, j);
  } catch (e) {
    if (!/accounting storage is disabled|slurmdbd|Connection refused/i.test((e as Error).message)) throw e;
    accounting = false;
  }
  if (accounting && missing().length === 0) return found;
  for (const id of [...new Set(missing().map((i) => i.split('_')[0]))]) {
    try {
      const out = await run('scontrol', ['show', 'job', '-o', id]);
      for (const j of parseScontrol(out)) if (!found.has(j.id)) found.set(j.id, j);
    } catch (e) {
      if (!/Invalid job id/i.test((e as Error).message)) throw e;
    }
  }
  return found;
}
