// ml-loop train [DIR] --experiment NAME [--json]: trains one built-in experiment of the project in DIR
// (in a worker thread) and records the run under DIR/.mlloop/runs/<runId>/. With --json, prints
//   { "runId", "status", "metrics": { "train": {…}, "dev": {…}, "test": {…} }, "model": "<path of model.onnx>" }
// (plus "error" when the run failed); otherwise progress lines go to stderr and a summary to stdout.
// With --cluster NAME (or an experiment whose mlloop.json entry names a `cluster`) the run is
// submitted to that SLURM cluster (src/core/cluster) and followed until it ends; --detach only submits.
import { resolve } from 'node:path';
import { ProjectInvalidError } from '../../core/data/dataset';
import { formatProblem } from '../../core/spec/problems';
import type { SplitMetrics } from '../../core/train/metrics';
import { trainExperiment, type TrainOutcome } from '../../core/experiment/trainExperiment';
import type { ProgressEvent } from '../../core/train/types';
import { EXIT_OK, EXIT_PROBLEMS, UsageError, type CliCommand } from '../command';
import { parseCommandArgs, projectDir } from '../options';

function formatProgress(e: ProgressEvent): string {
  const parts = [`step ${e.step}${e.totalSteps ? `/${e.totalSteps}` : ''}`];
  if (e.trainLoss !== undefined) parts.push(`train loss ${e.trainLoss.toPrecision(5)}`);
  if (e.devLoss !== undefined) parts.push(`dev loss ${e.devLoss.toPrecision(5)}`);
  if (e.devMetric !== undefined) parts.push(`dev ${e.metricName ?? 'metric'} ${e.devMetric.toPrecision(5)}`);
  return parts.join('  ');
}

function formatMetrics(m: SplitMetrics): string {
  return Object.entries(m)
    .map(([k, v]) => `${k} ${Number.isFinite(v) ? v.toPrecision(4) : String(v)}`)
    .join(', ');
}

/** The --json document of a run. */
export function trainResultJson(o: TrainOutcome): Record<string, unknown> {
  const doc: Record<string, unknown> = {
    runId: o.runId,
    status: o.status,
    metrics: { train: o.metrics.train ?? null, dev: o.metrics.dev ?? null, test: o.metrics.test ?? null },
    model: o.model ?? null,
  };
  if (o.error)
    doc.error = {
      message: o.error.message,
      ...(o.error.param ? { param: o.error.param } : {}),
      ...(o.error.step !== undefined ? { step: o.error.step } : {}),
    };
  return doc;
}

export const trainCommand: CliCommand = {
  name: 'train',
  summary: 'Train a built-in experiment and record the run (model.onnx, metrics)',
  usage: `ml-loop train [DIR] --experiment NAME [--data-version ID] [--cluster NAME [--detach] | --local] [--json]

Trains experiment NAME of DIR/mlloop.json (default: the current folder) with the built-in engine, in a
worker thread, and writes the run to DIR/.mlloop/runs/<runId>/ (run.json, metrics.jsonl, model.onnx,
log.txt). Progress goes to stderr; Ctrl-C cancels the run.
Exit code: 0 completed, 1 failed, cancelled or invalid project, 2 wrong usage.

  -e, --experiment NAME   the experiment to train (required)
  --data-version ID       train on a derived data version (ml-loop augment, .mlloop/data/ID)
  --sweep                 train every combination of the experiment's "sweep" grid (one run each, one group)
  --parallel N            runs of a sweep trained at once (default: one per core)
  --json                  print { runId, status, metrics: { train, dev, test }, model } as JSON (a sweep: an array)
  --cluster NAME          submit to cluster NAME of mlloop.json's "clusters" (SLURM sbatch; a sweep is one job
                          array) and follow the runs until they end; the default for an experiment with a "cluster".
                          Ctrl-C stops following only: the jobs go on, and ML Loop finishes them when it next looks.
  --detach                with a cluster: submit and return (the runs stay queued/running in the store)
  --local                 train here even when the experiment names a "cluster"
  --run-dir DIR           with --local: train into the run folder DIR that a cluster submission created (what
                          a built-in experiment's SLURM job runs on its node: progress as metric lines on
                          stdout, model.onnx and the final metrics into DIR; run.json is left to the follower)

A script experiment ("command") runs its command without a shell; python/python3 commands run with
$MLLOOP_PYTHON when it is set. Its output goes to stderr.`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      experiment: { type: 'string', short: 'e' },
      'data-version': { type: 'string' },
      sweep: { type: 'boolean' },
      parallel: { type: 'string' },
      json: { type: 'boolean' },
      cluster: { type: 'string' },
      local: { type: 'boolean' },
      detach: { type: 'boolean' },
      'run-dir': { type: 'string' },
    });
    const experimentName = values.experiment;
    if (typeof experimentName !== 'string' || experimentName === '') throw new UsageError('Missing --experiment NAME');
    const dir = projectDir(positionals, io);
    const json = values.json === true;
    if (typeof values['run-dir'] === 'string') {
      if (values.local !== true)
        throw new UsageError('--run-dir needs --local (it is what a cluster job runs on its node)');
      return trainClusterTaskCommand(dir, experimentName, values['run-dir'], io);
    }
    if (values.local !== true) {
      const onCluster = await trainOnClusterCommand(
        dir,
        experimentName,
        { cluster: values.cluster as string | undefined, detach: values.detach === true, json },
        io,
      );
      if (onCluster !== undefined) return onCluster;
    }
    if (values.sweep === true) {
      const parallel = values.parallel === undefined ? undefined : Number(values.parallel);
      if (parallel !== undefined && !(Number.isInteger(parallel) && parallel > 0))
        throw new UsageError('--parallel takes a positive integer');
      const { trainSweep } = await import('../../core/experiment/sweep');
      let sweep: Awaited<ReturnType<typeof trainSweep>>;
      try {
        sweep = await trainSweep({
          projectDir: dir,
          experimentName,
          parallel,
          signal: io.signal,
          onRunCreated: json
            ? undefined
            : (runId, _dir, group) => io.err(`run ${runId}: ${JSON.stringify(group.values)}`),
        });
      } catch (e) {
        io.err((e as Error).message);
        return EXIT_PROBLEMS;
      }
      if (json) io.out(JSON.stringify(sweep.outcomes.map(trainResultJson), null, 2));
      else
        io.out(
          [
            `sweep ${sweep.groupId}`,
            ...sweep.outcomes.map(
              (o) =>
                `${o.status}: run ${o.runId} ${JSON.stringify(o.record.group?.values)}${o.metrics.dev ? ` dev ${formatMetrics(o.metrics.dev)}` : ''}`,
            ),
          ].join('\n'),
        );
      return sweep.outcomes.every((o) => o.status === 'completed') ? EXIT_OK : EXIT_PROBLEMS;
    }
    let outcome: TrainOutcome;
    try {
      outcome = await trainExperiment({
        projectDir: dir,
        experimentName,
        ...(typeof values['data-version'] === 'string' ? { dataVersion: values['data-version'] } : {}),
        signal: io.signal,
        onRunCreated: json ? undefined : (runId, runDir) => io.err(`run ${runId} (${runDir})`),
        onProgress: json ? undefined : (e) => io.err(formatProgress(e)),
        onOutput: json ? undefined : (line) => io.err(line),
      });
    } catch (e) {
      // The project itself is unusable (invalid mlloop.json, unknown or script experiment): no run was made.
      if (e instanceof ProjectInvalidError) for (const p of e.problems) io.err(formatProblem(p));
      else io.err((e as Error).message);
      if (json)
        io.out(
          JSON.stringify(
            {
              runId: null,
              status: 'failed',
              metrics: { train: null, dev: null, test: null },
              model: null,
              error: { message: (e as Error).message },
            },
            null,
            2,
          ),
        );
      return EXIT_PROBLEMS;
    }
    if (json) io.out(JSON.stringify(trainResultJson(outcome), null, 2));
    else {
      const lines = [`${outcome.status}: run ${outcome.runId}`];
      if (outcome.error) lines.push(`error: ${outcome.error.message}`);
      for (const split of ['train', 'dev', 'test'] as const) {
        const m = outcome.metrics[split];
        if (m) lines.push(`${split}: ${formatMetrics(m)}`);
      }
      if (outcome.model) lines.push(`model: ${outcome.model}`);
      io.out(lines.join('\n'));
    }
    return outcome.status === 'completed' ? EXIT_OK : EXIT_PROBLEMS;
  },
};

/**
 * `--cluster NAME`, or an experiment with a `cluster`: submits (a sweep as one job array) and follows
 * the runs until they end; undefined when the experiment trains here.
 */
async function trainOnClusterCommand(
  dir: string,
  experimentName: string,
  o: { cluster?: string; detach: boolean; json: boolean },
  io: Parameters<CliCommand['run']>[1],
): Promise<number | undefined> {
  const { resolveProject } = await import('../../core/data/dataset');
  const { clusterOf, submitClusterExperiment, trainOnCluster } = await import('../../core/cluster/clusterRun');
  let target: ReturnType<typeof clusterOf>;
  try {
    target = clusterOf(await resolveProject(dir), experimentName, o.cluster);
  } catch (e) {
    if (e instanceof ProjectInvalidError) for (const p of e.problems) io.err(formatProblem(p));
    else io.err((e as Error).message);
    return EXIT_PROBLEMS;
  }
  if (!target) return undefined;
  const say = o.json ? () => undefined : (line: string) => io.err(line);
  try {
    if (o.detach) {
      const sub = await submitClusterExperiment({
        projectDir: dir,
        experimentName,
        cluster: target.name,
        cliPath: cliBundlePath(),
        onRunCreated: (id, runDir) => say(`run ${id} (${runDir})`),
      });
      if (o.json)
        io.out(JSON.stringify({ cluster: sub.cluster, jobId: sub.jobId, runs: sub.runs.map((r) => r.runId) }, null, 2));
      else
        io.out(
          `submitted to cluster "${sub.cluster}": SLURM job ${sub.jobId} (${sub.runs.length} run${sub.runs.length === 1 ? '' : 's'}, queued)`,
        );
      return EXIT_OK;
    }
    const result = await trainOnCluster({
      projectDir: dir,
      experimentName,
      cluster: target.name,
      cliPath: cliBundlePath(),
      signal: io.signal,
      onRunCreated: (id, runDir) => say(`run ${id} (${runDir})`),
      onChange: (_d, id, r) =>
        say(
          `run ${id}: ${r.status}${r.status === 'queued' && r.cluster?.reason ? ` (${r.cluster.reason})` : ''}${r.cluster ? ` · SLURM job ${r.cluster.jobId}${r.cluster.arrayTaskId !== undefined ? `_${r.cluster.arrayTaskId}` : ''}` : ''}`,
        ),
      onProgress: (id, e) => say(`run ${id}: ${formatProgress(e)}`),
      onWarning: (id, m) => say(`run ${id}: warning: ${m}`),
    });
    if (result.detached) {
      io.err(
        `stopped following; the jobs go on (SLURM job ${result.submission.jobId}; scancel ${result.submission.jobId} cancels them). The editor or a later \`ml-loop train\` does not need them to be followed to finish them: the next ML Loop window on this project picks them up.`,
      );
    }
    if (o.json)
      io.out(
        JSON.stringify(
          result.records.map((r) => ({
            runId: r.runId,
            status: r.status,
            cluster: r.cluster,
            metrics: r.metrics ?? {},
            ...(r.error ? { error: r.error } : {}),
          })),
          null,
          2,
        ),
      );
    else
      io.out(
        result.records
          .map(
            (r) =>
              `${r.status}: run ${r.runId}${r.group ? ` ${JSON.stringify(r.group.values)}` : ''}${r.metrics?.dev ? ` dev ${formatMetrics(r.metrics.dev)}` : ''}${r.error ? `\nerror: ${r.error.message}` : ''}`,
          )
          .join('\n'),
      );
    return result.records.every((r) => r.status === 'completed') ? EXIT_OK : EXIT_PROBLEMS;
  } catch (e) {
    io.err((e as Error).message);
    return EXIT_PROBLEMS;
  }
}

/**
 * This CLI's own bundle (dist/cli.js), which a built-in experiment's cluster job runs on the node;
 * undefined when running from TypeScript source (tests), where $MLLOOP_CLI names a built bundle.
 */
function cliBundlePath(): string | undefined {
  return process.env.MLLOOP_CLI || (__filename.endsWith('.js') ? __filename : undefined);
}

/** `--local --run-dir DIR`: a built-in experiment's cluster job, on its node (src/core/cluster/builtinTask). */
async function trainClusterTaskCommand(
  dir: string,
  experimentName: string,
  runDir: string,
  io: Parameters<CliCommand['run']>[1],
): Promise<number> {
  const { trainClusterTask } = await import('../../core/cluster/builtinTask');
  try {
    const result = await trainClusterTask({
      projectDir: dir,
      experimentName,
      runDir: resolve(io.cwd, runDir),
      signal: io.signal,
      onMetricLine: (line) => io.out(line),
      log: (line) => io.err(line),
    });
    io.err(`completed: dev ${result.metrics.dev ? formatMetrics(result.metrics.dev) : '-'}`);
    return EXIT_OK;
  } catch (e) {
    if (e instanceof ProjectInvalidError) for (const p of e.problems) io.err(formatProblem(p));
    else io.err((e as Error).message);
    return EXIT_PROBLEMS;
  }
}
