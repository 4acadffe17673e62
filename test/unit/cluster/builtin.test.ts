// Built-in experiments on a cluster without a cluster: the submission (a fake sbatch) writes a job
// script that runs `node <cli> train … --local --run-dir RUN_DIR` and first checks Node on the node
// (run here by bash with a PATH lacking node, or holding an old one); the node's side
// (trainClusterTask) trains into the run folder and prints metric lines; a follower told by a fake
// SLURM that the job completed finishes the run with the trainer's metrics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILTIN_RESULT, trainClusterTask } from '../../../src/core/cluster/builtinTask';
import { ClusterFollower, JOB_SCRIPT, NODE_MAJOR, submitClusterExperiment } from '../../../src/core/cluster/clusterRun';
import type { SlurmRunner } from '../../../src/core/cluster/slurm';
import { readRun } from '../../../src/core/train/runStore';
import { readHistory } from '../../../src/core/track/store';
import { REFERENCE_FILE } from '../../../src/core/train/reference';
import { runCli } from '../../../src/cli/main';
import { irisProject } from '../scripts/fixtures';

/** A project whose built-in experiments name cluster "c", and a stand-in for dist/cli.js. */
function project(): { dir: string; cli: string } {
  const dir = irisProject({
    logreg: { model: 'mlp', params: { hidden: [8], epochs: 5 }, cluster: 'c' },
    swept: { model: 'mlp', params: { hidden: [4], epochs: 2 }, cluster: 'c', sweep: { learningRate: [0.05, 0.2] } },
  });
  const spec = JSON.parse(readFileSync(join(dir, 'mlloop.json'), 'utf8'));
  spec.clusters = { c: { kind: 'slurm', time: '00:05:00' } };
  writeFileSync(join(dir, 'mlloop.json'), JSON.stringify(spec, null, 2));
  const cli = join(mkdtempSync(join(tmpdir(), 'mlloop-cli-')), 'cli with space.js');
  writeFileSync(cli, '');
  return { dir, cli };
}

/** sbatch answers job 42; the job then is in `state.now` (squeue while it lives, scontrol after). */
function fakeSlurm(state: { now: string } = { now: 'PENDING' }): SlurmRunner {
  return async (cmd) => {
    if (cmd === 'sbatch') return '42\n';
    const ended = !['PENDING', 'RUNNING'].includes(state.now);
    if (cmd === 'squeue') return ended ? '' : `42|${state.now}|None\n`;
    if (cmd === 'sacct') return `42|${state.now}|0:0\n`;
    throw new Error(cmd);
  };
}

/** A folder for PATH holding what the job script needs besides node (and `node` when given). */
function pathWithout(node?: string): string {
  const bin = mkdtempSync(join(tmpdir(), 'mlloop-path-'));
  for (const tool of ['hostname', 'date']) {
    const found = spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    if (found) symlinkSync(found, join(bin, tool));
  }
  if (node !== undefined) {
    writeFileSync(join(bin, 'node'), node);
    chmodSync(join(bin, 'node'), 0o755);
  }
  return bin;
}

function runJob(runDir: string, path: string): { status: number | null; stderr: string } {
  const r = spawnSync('/bin/bash', [join(runDir, JOB_SCRIPT)], { encoding: 'utf8', env: { PATH: path } });
  return {
    status: r.status,
    stderr: existsSync(join(runDir, 'stderr.txt')) ? readFileSync(join(runDir, 'stderr.txt'), 'utf8') : r.stderr,
  };
}

test('a built-in run is submitted as a job running the ML Loop CLI with Node on the node, into its run folder', async () => {
  const { dir, cli } = project();
  const sub = await submitClusterExperiment({
    projectDir: dir,
    experimentName: 'logreg',
    cliPath: cli,
    runner: fakeSlurm(),
  });
  assert.equal(sub.jobId, '42');
  const { runId, runDir } = sub.runs[0];
  const record = readRun(dir, runId);
  assert.equal(record.status, 'queued');
  assert.equal(record.model, 'mlp');
  assert.equal(record.params.epochs, 5, 'the resolved params are recorded');
  assert.ok('learningRate' in record.params, 'defaults applied');
  assert.deepEqual(record.command, ['node', cli, 'train', dir, '-e', 'logreg', '--local', '--run-dir', runDir]);

  // A `node` that records its argv (and answers the version check like Node 22) shows what the job runs.
  const seen = join(runDir, 'argv.txt');
  const bin = pathWithout(
    `#!/bin/bash\nif [ "$1" = -e ]; then exit 0; fi\nprintf '%s\\n' "$@" > ${JSON.stringify(seen)}\n`,
  );
  const ok = runJob(runDir, bin);
  assert.equal(ok.status, 0, ok.stderr);
  assert.deepEqual(readFileSync(seen, 'utf8').trimEnd().split('\n'), [
    cli,
    'train',
    dir,
    '-e',
    'logreg',
    '--local',
    '--run-dir',
    runDir,
  ]);
});

test(`the job fails with a sentence when node is missing on the node, or older than ${NODE_MAJOR}`, async () => {
  const { dir, cli } = project();
  const sub = await submitClusterExperiment({
    projectDir: dir,
    experimentName: 'logreg',
    cliPath: cli,
    runner: fakeSlurm(),
  });
  const { runDir } = sub.runs[0];
  const missing = runJob(runDir, pathWithout());
  assert.equal(missing.status, 127);
  assert.match(
    missing.stderr,
    new RegExp(`ML Loop: Node ${NODE_MAJOR} or newer is needed on the node: node is not found on .*module load nodejs`),
  );

  const old = runJob(
    runDir,
    pathWithout(
      `#!/bin/bash\nif [ "$1" = --version ]; then echo v18.19.0; exit 0; fi\n# Node 18 runs the check: the version test fails.\nexec ${JSON.stringify(process.execPath)} -e 'process.exit(1)'\n`,
    ),
  );
  assert.equal(old.status, 127);
  assert.match(
    old.stderr,
    new RegExp(`Node ${NODE_MAJOR} or newer is needed on the node: .* has node v18\\.19\\.0 at `),
  );
});

test('a sweep of a built-in experiment is one job array; a missing CLI path is named', async () => {
  const { dir, cli } = project();
  const calls: string[][] = [];
  const runner: SlurmRunner = (cmd, args) => (calls.push([cmd, ...args]), fakeSlurm()(cmd, args));
  const sub = await submitClusterExperiment({ projectDir: dir, experimentName: 'swept', cliPath: cli, runner });
  assert.equal(sub.runs.length, 2);
  assert.equal(calls.filter((c) => c[0] === 'sbatch').length, 1);
  const script = readFileSync(join(sub.runs[0].runDir, JOB_SCRIPT), 'utf8');
  assert.match(script, /^#SBATCH --array=0-1$/m);
  const records = sub.runs.map((r) => readRun(dir, r.runId));
  assert.deepEqual(
    records.map((r) => r.params.learningRate),
    [0.05, 0.2],
  );
  assert.deepEqual(
    records.map((r) => r.cluster?.arrayTaskId),
    [0, 1],
  );
  assert.equal(new Set(records.map((r) => r.group?.id)).size, 1);
  // Task 1 runs with its own run folder.
  const seen = join(sub.runs[1].runDir, 'argv.txt');
  const bin = pathWithout(
    `#!/bin/bash\nif [ "$1" = -e ]; then exit 0; fi\nprintf '%s\\n' "$@" > ${JSON.stringify(seen)}\n`,
  );
  const r = spawnSync('/bin/bash', [join(sub.runs[0].runDir, JOB_SCRIPT)], {
    encoding: 'utf8',
    env: { PATH: bin, SLURM_ARRAY_TASK_ID: '1' },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(seen, 'utf8').trimEnd().split('\n').pop(), sub.runs[1].runDir);

  await assert.rejects(
    submitClusterExperiment({ projectDir: dir, experimentName: 'logreg', runner: fakeSlurm() }),
    /built-in model: its cluster job runs the ML Loop CLI with Node on the node, and the path of the CLI \(dist\/cli\.js\) was not given/,
  );
  await assert.rejects(
    submitClusterExperiment({
      projectDir: dir,
      experimentName: 'logreg',
      cliPath: join(dir, 'nope.js'),
      runner: fakeSlurm(),
    }),
    /CLI .* is not found: .*nope\.js/,
  );
});

test("the node's training writes metric lines, the model and its result; the follower finishes the run like a local one", async () => {
  const { dir, cli } = project();
  const state = { now: 'PENDING' };
  const sub = await submitClusterExperiment({
    projectDir: dir,
    experimentName: 'logreg',
    cliPath: cli,
    runner: fakeSlurm(state),
  });
  const { runId, runDir } = sub.runs[0];
  state.now = 'RUNNING';
  const lines: string[] = [];
  const result = await trainClusterTask({
    projectDir: dir,
    experimentName: 'logreg',
    runDir,
    onMetricLine: (l) => lines.push(l),
    log: () => undefined,
  });
  assert.equal(lines.length, 5, 'one metric line per epoch');
  assert.equal(JSON.parse(lines[0]).mlloop, 'metric');
  assert.ok(
    existsSync(join(runDir, 'model.onnx')) &&
      existsSync(join(runDir, BUILTIN_RESULT)) &&
      existsSync(join(runDir, REFERENCE_FILE)),
  );
  assert.equal(readRun(dir, runId).status, 'queued', 'the node leaves run.json to the follower');
  // What the job script would have redirected: the metric lines into stdout.txt.
  writeFileSync(join(runDir, 'stdout.txt'), lines.join('\n') + '\n');
  writeFileSync(join(runDir, 'stderr.txt'), 'ML Loop: job 42 started\n');
  const steps: number[] = [];
  const follower = new ClusterFollower({
    runner: fakeSlurm(state),
    pollMinMs: 100,
    tailMs: 50,
    onProgress: (_id, e) => steps.push(e.step),
  });
  const done = follower.follow(dir, runId);
  await new Promise((r) => setTimeout(r, 400));
  state.now = 'COMPLETED';
  const final = await done;
  follower.dispose();
  assert.equal(final.status, 'completed', JSON.stringify(final.error));
  assert.deepEqual(steps, [1, 2, 3, 4, 5]);
  assert.deepEqual(final.metrics, result.metrics, "the trainer's own metrics, as a local run records them");
  assert.equal(final.dataVersion?.id, result.dataVersion.id);
  assert.equal(final.modelSize, result.modelSize);
  const history = readHistory(runDir);
  assert.deepEqual(
    history.steps.map((s) => s.step),
    [1, 2, 3, 4, 5],
  );
  assert.ok(history.steps[0].devMetric !== undefined && history.steps[0].metricName === 'accuracy');
  assert.deepEqual(history.final?.dev, result.metrics.dev);

  // A run folder that is not a cluster run is refused with its file named, by the CLI too; --run-dir goes with --local.
  await assert.rejects(
    trainClusterTask({
      projectDir: dir,
      experimentName: 'logreg',
      runDir: dir,
      onMetricLine: () => undefined,
      log: () => undefined,
    }),
    /--run-dir .*run\.json/,
  );
  const err: string[] = [];
  const io = { out: () => undefined, err: (t: string) => err.push(t), cwd: dir };
  assert.equal(await runCli(['train', dir, '-e', 'logreg', '--local', '--run-dir', dir], io), 1);
  assert.match(err.join('\n'), /cannot read .*run\.json/);
  assert.equal(await runCli(['train', dir, '-e', 'logreg', '--run-dir', runDir], io), 2);
  assert.match(err.join('\n'), /--run-dir needs --local/);
});
