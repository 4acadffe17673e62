// One run of a script experiment: the script is spawned (argv, no shell) in its own process group
// with its inputs (./inputs.ts), its output goes to the run's log, its metric lines become the run's
// curves (./metricLines.ts), and after a clean exit its model.onnx is checked and evaluated by ML Loop
// (./scriptModel.ts) so the run records the same final metrics as a built-in one. Data loading and
// evaluation run in a worker thread (./scriptData.ts).

import { spawn } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import type { ProjectRef } from '../data/dataset';
import { CancelledError } from '../runtime/cancel';
import type { ScriptExperiment } from '../spec/types';
import { gitState, snapshotProjectFile } from '../train/provenance';
import {
  appendMetric,
  createRun,
  finishRun,
  writeFileAtomic,
  type RunDir,
  type RunGroup,
  type RunRecord,
} from '../train/runStore';
import type { ProgressEvent } from '../train/types';
import { inputEnv, paramArgs } from './inputs';
import { LineBuffer, parseMetricLine, type ScriptMetric } from './metricLines';
import { inScriptDataWorker, type PreparedScriptData } from './scriptData';

/** After SIGTERM the script's process group gets this long before SIGKILL. */
export const SCRIPT_KILL_GRACE_MS = 5000;
/** The error of a cancelled run, as a built-in run's. */
const CANCELLED = new CancelledError('Training').message;
/** Lines of stderr kept for the error of a failed run. */
export const STDERR_TAIL_LINES = 10;
/** How often the run's metrics.jsonl is read for lines the script appended itself. */
const TAIL_INTERVAL_MS = 250;
/** Commands replaced by the configured Python (mlLoop.pythonPath / MLLOOP_PYTHON). */
const PYTHON_COMMANDS = new Set(['python', 'python3']);

export interface ScriptRunOptions {
  ref: ProjectRef;
  projectDir: string;
  experimentName: string;
  experiment: ScriptExperiment;
  /** The parameters of this run (the experiment's, or a sweep combination merged into them). */
  params: Record<string, unknown>;
  /** Runs `python`/`python3` commands with this interpreter instead (a setting, or MLLOOP_PYTHON). */
  pythonPath?: string;
  /** A derived data version (src/core/data/dataVersions) to train on; default the data file's own. */
  dataVersion?: string;
  group?: RunGroup;
  /** Fixed run id (tests); default a new time-based id. */
  runId?: string;
  /** Default SCRIPT_KILL_GRACE_MS. */
  killGraceMs?: number;
  signal?: AbortSignal;
  onRunCreated?: (runId: string, runDir: string) => void;
  onProgress?: (e: ProgressEvent) => void;
  /** Every line the script prints, as printed (metric lines included). */
  onOutput?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** The script's process id, which is also its process group id. */
  onSpawn?: (pid: number) => void;
  /** Metric lines that could not be read, and other notices. */
  onWarning?: (message: string) => void;
}

export interface ScriptRunResult {
  run: RunDir;
  record: RunRecord;
}

/** The argv to spawn: the experiment's command (python swapped for the configured one) and `--name value` params. */
export function scriptArgv(command: string[], params: Record<string, unknown>, pythonPath?: string): string[] {
  const [exe, ...rest] = command;
  return [pythonPath && PYTHON_COMMANDS.has(exe) ? pythonPath : exe, ...rest, ...paramArgs(params)];
}

/** media/python (mlloop.py) next to the bundle or the sources: put on PYTHONPATH so `import mlloop` works without a copy. */
export function pythonHelperDir(): string | undefined {
  for (const dir of [
    join(__dirname, '..', 'media', 'python'),
    join(__dirname, '..', '..', 'media', 'python'),
    join(__dirname, '..', '..', '..', 'media', 'python'),
  ]) {
    if (existsSync(join(dir, 'mlloop.py'))) return dir;
  }
  return undefined;
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but is not ours (cannot happen for our own group, but is not "gone").
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** How long a run waits for its killed process group to disappear. */
const GROUP_EXIT_WAIT_MS = 3000;

async function waitGroupGone(pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (groupAlive(pgid)) {
    if (Date.now() > deadline) return false;
    killGroup(pgid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: already gone.
  }
}

export async function runScriptExperiment(opts: ScriptRunOptions): Promise<ScriptRunResult> {
  const run = createRun(opts.projectDir, {
    runId: opts.runId,
    experiment: opts.experimentName,
    model: 'script',
    params: opts.params,
    group: opts.group,
  });
  opts.onRunCreated?.(run.runId, run.dir);
  const argv = scriptArgv(opts.experiment.command, opts.params, opts.pythonPath);
  run.update({ command: argv, seed: typeof opts.params.seed === 'number' ? opts.params.seed : undefined });
  run.log(`params ${JSON.stringify(opts.params)}`);
  snapshotProjectFile(opts.ref.projectFile, run.dir);
  const provenance = gitState(opts.projectDir).then((git) => git && run.update({ git }));
  const fail = (message: string, status: 'failed' | 'cancelled' = 'failed') =>
    provenance.then(() => ({ run, record: finishRun(run, { status, error: { message } }) }));

  // Loading the data and writing the inputs happen in a worker thread (never on the extension host's).
  let prepared: PreparedScriptData;
  try {
    prepared = await inScriptDataWorker(
      {
        job: 'prepare',
        ref: opts.ref,
        runDir: run.dir,
        params: opts.params,
        ...(opts.dataVersion ? { dataVersion: opts.dataVersion } : {}),
      },
      opts.signal,
    );
  } catch (e) {
    return opts.signal?.aborted ? fail(CANCELLED, 'cancelled') : fail((e as Error).message);
  }
  const { version, rows, inputs } = prepared;
  run.update({ dataVersion: version, rows });
  run.log(`data ${version.id}: train ${rows.train}, dev ${rows.dev}, test ${rows.test} rows`);
  if (opts.signal?.aborted) return fail(CANCELLED, 'cancelled');

  const steps: ScriptMetric[] = [];
  const metric = opts.ref.spec.metric;
  const onMetric = (m: ScriptMetric) => {
    const entry = { t: Date.now(), ...m };
    steps.push(entry);
    appendMetric(run, entry);
    try {
      opts.onProgress?.(m);
    } catch {
      // A listener's failure must not break the run.
    }
  };
  const warn = (message: string) => {
    run.log(`warning: ${message}`);
    opts.onWarning?.(message);
  };

  const exit = await spawnScript(opts, run, argv, { ...inputEnv(inputs, run.dir) }, metric, onMetric, warn);
  await provenance;
  // The history as ML Loop reads it: the script's own appended lines are replaced by their normalized form.
  writeFileAtomic(join(run.dir, 'metrics.jsonl'), steps.map((s) => JSON.stringify(s) + '\n').join(''));

  if (exit.cancelled) return fail(CANCELLED, 'cancelled');
  if (exit.error) return fail(exit.error);
  if (exit.code !== 0) {
    const how = exit.code === null ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
    return fail(
      `The script ${how}${exit.stderrTail.length ? `:\n${exit.stderrTail.join('\n')}` : ' (no output on stderr)'}`,
    );
  }
  if (!existsSync(run.modelPath))
    return fail(
      `The script exited 0 but wrote no model: expected ${run.modelPath} (the path in MLLOOP_RUN_DIR + /model.onnx)`,
    );
  try {
    const metrics = await inScriptDataWorker({
      job: 'evaluate',
      ref: opts.ref,
      runDir: run.dir,
      modelPath: run.modelPath,
      dataVersion: version.id,
    });
    run.update({ modelSize: statSync(run.modelPath).size });
    run.log(`model.onnx evaluated by ML Loop: dev ${JSON.stringify(metrics.dev ?? null)}`);
    return { run, record: finishRun(run, { status: 'completed', metrics }) };
  } catch (e) {
    return fail((e as Error).message);
  }
}

interface ScriptExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  cancelled: boolean;
  /** The script could not be started at all. */
  error?: string;
  stderrTail: string[];
}

/** Spawns the script and resolves once it has exited, its output is drained and no process of its group is left. */
function spawnScript(
  opts: ScriptRunOptions,
  run: RunDir,
  argv: string[],
  mlloopEnv: Record<string, string>,
  metric: string,
  onMetric: (m: ScriptMetric) => void,
  warn: (message: string) => void,
): Promise<ScriptExit> {
  const cwd = resolve(opts.projectDir, opts.experiment.cwd ?? '.');
  const helper = pythonHelperDir();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // Python buffers a pipe's stdout: unbuffered, the curves move while it trains.
    PYTHONUNBUFFERED: '1',
    ...(helper ? { PYTHONPATH: [process.env.PYTHONPATH, helper].filter(Boolean).join(delimiter) } : {}),
    ...opts.experiment.env,
    ...mlloopEnv,
  };
  const logFile = join(run.dir, 'log.txt');
  const historyFile = join(run.dir, 'metrics.jsonl');
  const graceMs = opts.killGraceMs ?? SCRIPT_KILL_GRACE_MS;
  run.log(`spawn ${JSON.stringify(argv)} in ${cwd}`);

  return new Promise<ScriptExit>((resolveExit) => {
    const stderrTail: string[] = [];
    let cancelled = false;
    let killTimer: NodeJS.Timeout | undefined;
    // metrics.jsonl is read from where the last read stopped; only the script's own lines (with the "mlloop" marker) count.
    let historyOffset = statSync(historyFile).size;
    const historyLines = new LineBuffer();
    const readHistory = () => {
      let fd: number | undefined;
      try {
        fd = openSync(historyFile, 'r');
        const size = statSync(historyFile).size;
        if (size <= historyOffset) return;
        const buf = Buffer.alloc(size - historyOffset);
        readSync(fd, buf, 0, buf.length, historyOffset);
        historyOffset = size;
        for (const line of historyLines.push(buf.toString('utf8'))) handle(line, undefined);
      } catch {
        // The file is rewritten only after the script has exited; a failed read is retried next tick.
      } finally {
        if (fd !== undefined) closeSync(fd);
      }
    };
    const handle = (line: string, stream: 'stdout' | undefined) => {
      const parsed = parseMetricLine(line, metric);
      if (parsed.kind === 'metric') onMetric(parsed.metric);
      else if (parsed.kind === 'invalid') warn(parsed.warning);
      if (stream) {
        // Output goes to the log as printed.
        appendFileSync(logFile, line + '\n');
        opts.onOutput?.(line, stream);
      }
    };

    const child = spawn(argv[0], argv.slice(1), { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const pgid = child.pid;
    const tail = setInterval(readHistory, TAIL_INTERVAL_MS);
    const onAbort = () => {
      if (cancelled || pgid === undefined) return;
      cancelled = true;
      run.log(`cancel requested: SIGTERM to process group ${pgid}`);
      killGroup(pgid, 'SIGTERM');
      killTimer = setTimeout(() => {
        run.log(`process group ${pgid} still running after ${graceMs} ms: SIGKILL`);
        killGroup(pgid, 'SIGKILL');
      }, graceMs);
    };
    let startError: string | undefined;
    child.on('error', (e) => {
      startError = `Could not start ${JSON.stringify(argv[0])} in ${cwd}: ${e.message}`;
    });
    if (pgid !== undefined) {
      opts.onSpawn?.(pgid);
      if (opts.signal?.aborted) onAbort();
      else opts.signal?.addEventListener('abort', onAbort);
    }

    const stdoutLines = new LineBuffer();
    const stderrLines = new LineBuffer();
    const onStderr = (line: string) => {
      appendFileSync(logFile, line + '\n');
      opts.onOutput?.(line, 'stderr');
      stderrTail.push(line);
      if (stderrTail.length > STDERR_TAIL_LINES) stderrTail.shift();
    };
    child.stdout
      .setEncoding('utf8')
      .on('data', (chunk: string) => stdoutLines.push(chunk).forEach((l) => handle(l, 'stdout')));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => stderrLines.push(chunk).forEach(onStderr));

    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      // Whatever the script left behind in its group (a data loader, a subprocess) goes with it.
      if (pgid !== undefined && groupAlive(pgid)) {
        run.log(`processes of group ${pgid} outlived the script: SIGKILL`);
        killGroup(pgid, 'SIGKILL');
      }
    });
    child.on('close', (code, signal) => {
      clearInterval(tail);
      if (killTimer) clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      stdoutLines.end().forEach((l) => handle(l, 'stdout'));
      stderrLines.end().forEach(onStderr);
      readHistory();
      historyLines.end().forEach((l) => handle(l, undefined));
      const end = exited ?? { code, signal };
      run.log(startError ?? `script ${end.code === null ? `killed by ${end.signal}` : `exited with code ${end.code}`}`);
      // The run ends only once nothing of the script's group is left (a SIGKILL takes a moment to land).
      void (pgid === undefined ? Promise.resolve(true) : waitGroupGone(pgid, GROUP_EXIT_WAIT_MS)).then((gone) => {
        if (!gone) run.log(`warning: process group ${pgid} still exists ${GROUP_EXIT_WAIT_MS} ms after SIGKILL`);
        resolveExit({ code: end.code, signal: end.signal, cancelled, error: startError, stderrTail });
      });
    });
  });
}
