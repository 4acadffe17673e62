// Cluster training against a real one-node SLURM (started by test/runners/slurm.tier.mjs, SLURM_CONF
// in the environment): script experiments (small Node scripts, so no Python is needed on the node)
// submitted with sbatch, followed through squeue/scontrol, their curves streamed from the job's
// files, completed runs evaluated by ML Loop; sweeps as job arrays; cancel; failures; pick-up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ClusterFollower,
  JOB_SCRIPT,
  submitClusterExperiment,
  unfinishedClusterRuns,
} from '../../src/core/cluster/clusterRun';
import { execSlurm, type SlurmRunner } from '../../src/core/cluster/slurm';
import { readRun, type RunRecord } from '../../src/core/train/runStore';
import { readHistory } from '../../src/core/track/store';
import type { ProgressEvent } from '../../src/core/train/types';
import { REFERENCE_FILE } from '../../src/core/train/reference';
import { irisProject } from '../unit/scripts/fixtures';
import { trainer } from './fixtures';

const FAST = { pollMinMs: 500, pollMaxMs: 2000, tailMs: 200 };

function project(experiments: Record<string, unknown>, cluster: Record<string, unknown> = {}): string {
  const dir = irisProject({});
  const spec = JSON.parse(readFileSync(join(dir, 'mlloop.json'), 'utf8'));
  spec.clusters = { local: { kind: 'slurm', partition: 'debug', cpusPerTask: 1, time: '00:10:00', ...cluster } };
  spec.experiments = experiments;
  writeFileSync(join(dir, 'mlloop.json'), JSON.stringify(spec, null, 2));
  return dir;
}

/** A SLURM runner that records the commands it ran (the real ones). */
function recording(): { runner: SlurmRunner; calls: string[][] } {
  const calls: string[][] = [];
  return { calls, runner: (cmd, args) => (calls.push([cmd, ...args]), execSlurm(cmd, args)) };
}

test('a script experiment: submitted, queued, running, curves streamed, completed and evaluated', async () => {
  const dir = project({});
  const spec = JSON.parse(readFileSync(join(dir, 'mlloop.json'), 'utf8'));
  spec.experiments.cnn = {
    command: trainer(dir, { steps: 4 }),
    params: { lr: 0.5, note: "it's a 'quoted' $HOME" },
    cluster: 'local',
  };
  writeFileSync(join(dir, 'mlloop.json'), JSON.stringify(spec));
  const sub = await submitClusterExperiment({ projectDir: dir, experimentName: 'cnn' });
  assert.equal(sub.runs.length, 1);
  const { runId, runDir } = sub.runs[0];
  const queued = readRun(dir, runId);
  assert.equal(queued.status, 'queued');
  assert.equal(queued.cluster?.jobId, sub.jobId);
  assert.equal(queued.pid, undefined, 'no local process trains a cluster run');
  assert.match(readFileSync(join(runDir, JOB_SCRIPT), 'utf8'), /^#SBATCH --partition=debug$/m);

  const statuses: string[] = [];
  const progress: ProgressEvent[] = [];
  const follower = new ClusterFollower({
    ...FAST,
    onChange: (_d, _id, r) => statuses.push(r.status),
    onProgress: (_id, e) => progress.push(e),
  });
  const final = await follower.follow(dir, runId);
  follower.dispose();
  assert.equal(final.status, 'completed', JSON.stringify(final.error));
  assert.ok(statuses.includes('running'), `statuses seen: ${statuses}`);
  assert.deepEqual(
    progress.map((e) => e.step),
    [1, 2, 3, 4],
  );
  assert.equal(progress[3].totalSteps, 4);
  // The argv reached the script as words (quotes and $ untouched), the params through the inputs.
  assert.deepEqual(final.command!.slice(-4), ['--lr', '0.5', '--note', "it's a 'quoted' $HOME"]);
  // Evaluated by ML Loop: the same final metrics a local script run records.
  assert.ok(final.metrics?.dev && 'accuracy' in final.metrics.dev && typeof final.metrics.dev.accuracy === 'number');
  assert.ok(existsSync(join(runDir, REFERENCE_FILE)), 'the monitoring reference is written, as for a local script run');
  const history = readHistory(runDir);
  assert.deepEqual(
    history.steps.map((s) => s.step),
    [1, 2, 3, 4],
  );
  assert.ok(history.final?.dev);
  assert.ok(existsSync(join(runDir, 'stdout.txt')));
});

test('a sweep is one job array with its parallel limit; the pending tasks say why they wait', async () => {
  const dir = project({}, { parallel: 1 });
  const spec = JSON.parse(readFileSync(join(dir, 'mlloop.json'), 'utf8'));
  spec.experiments.swept = {
    command: trainer(dir, { steps: 2, delayMs: 400 }),
    params: { lr: 0 },
    cluster: 'local',
    sweep: { lr: [0.1, 0.2, 0.3] },
  };
  writeFileSync(join(dir, 'mlloop.json'), JSON.stringify(spec));
  const rec = recording();
  const sub = await submitClusterExperiment({ projectDir: dir, experimentName: 'swept', runner: rec.runner });
  assert.equal(sub.runs.length, 3);
  assert.match(readFileSync(join(sub.runs[0].runDir, JOB_SCRIPT), 'utf8'), /^#SBATCH --array=0-2%1$/m);
  assert.equal(rec.calls.filter((c) => c[0] === 'sbatch').length, 1, 'one sbatch for the whole sweep');
  const reasons = new Set<string>();
  // SLURM's own view of how many tasks run at once, asked on the side.
  let runningAtOnce = 0;
  const watch = setInterval(() => {
    void execSlurm('squeue', ['-h', '-r', '-j', sub.jobId, '-t', 'RUNNING', '-o', '%i']).then(
      (out) => (runningAtOnce = Math.max(runningAtOnce, out.split('\n').filter(Boolean).length)),
      () => undefined,
    );
  }, 200);
  const follower = new ClusterFollower({
    ...FAST,
    onChange: (_d, _id, r) => {
      if (r.status === 'queued' && r.cluster?.reason) reasons.add(r.cluster.reason);
    },
  });
  const finals = await Promise.all(sub.runs.map((r) => follower.follow(dir, r.runId)));
  clearInterval(watch);
  follower.dispose();
  assert.deepEqual(
    finals.map((r) => r.status),
    ['completed', 'completed', 'completed'],
    JSON.stringify(finals.map((r) => r.error)),
  );
  assert.deepEqual(
    finals.map((r) => r.cluster?.arrayTaskId),
    [0, 1, 2],
  );
  assert.deepEqual(
    finals.map((r) => r.params.lr),
    [0.1, 0.2, 0.3],
  );
  assert.ok(new Set(finals.map((r) => r.group?.id)).size === 1);
  assert.equal(runningAtOnce, 1, 'never more tasks running than the array allows');
  assert.ok(reasons.has('JobArrayTaskLimit'), `reasons seen: ${[...reasons]}`);
});

test('cancel: a running job, and a whole array', async () => {
  const dir = project({});
  const spec = JSON.parse(readFileSync(join(dir, 'mlloop.json'), 'utf8'));
  spec.experiments.slow = { command: trainer(dir, { steps: 100, delayMs: 500 }), cluster: 'local' };
  spec.experiments.slowSweep = {
    command: trainer(dir, { steps: 100, delayMs: 500 }),
    cluster: 'local',
    sweep: { lr: [1, 2, 3] },
  };
  writeFileSync(join(dir, 'mlloop.json'), JSON.stringify(spec));

  const one = await submitClusterExperiment({ projectDir: dir, experimentName: 'slow' });
  let sawRunning!: () => void;
  const running = new Promise<void>((r) => (sawRunning = r));
  const follower = new ClusterFollower({ ...FAST, onProgress: () => sawRunning() });
  const done = follower.follow(dir, one.runs[0].runId);
  await running;
  await follower.cancel(one.runs[0].runId);
  const final = await done;
  assert.equal(final.status, 'cancelled');

  const sweep = await submitClusterExperiment({ projectDir: dir, experimentName: 'slowSweep' });
  const finals = Promise.all(sweep.runs.map((r) => follower.follow(dir, r.runId)));
  await follower.cancel(sweep.runs[0].runId, true);
  assert.deepEqual(
    (await finals).map((r) => r.status),
    ['cancelled', 'cancelled', 'cancelled'],
  );
  follower.dispose();
});

test('a job that exits non-zero fails with the last lines of its stderr; one over its time limit fails as TIMEOUT', async () => {
  const dir = project({});
  const spec = JSON.parse(readFileSync(join(dir, 'mlloop.json'), 'utf8'));
  spec.clusters.short = { kind: 'slurm', time: '00:01:00' };
  spec.experiments.bad = { command: trainer(dir, { steps: 1, delayMs: 100, exit: 3 }), cluster: 'local' };
  spec.experiments.forever = { command: trainer(dir, { steps: 10_000, delayMs: 1000 }), cluster: 'short' };
  writeFileSync(join(dir, 'mlloop.json'), JSON.stringify(spec));
  const bad = await submitClusterExperiment({ projectDir: dir, experimentName: 'bad' });
  const slow = await submitClusterExperiment({ projectDir: dir, experimentName: 'forever' });
  const follower = new ClusterFollower(FAST);
  const [b, s] = await Promise.all([follower.follow(dir, bad.runs[0].runId), follower.follow(dir, slow.runs[0].runId)]);
  follower.dispose();
  assert.equal(b.status, 'failed');
  assert.match(b.error!.message, /ended FAILED \(exit code 3:0\)/);
  assert.match(b.error!.message, /boom: the trainer gave up/);
  assert.equal(s.status, 'failed');
  assert.match(s.error!.message, /ended TIMEOUT/);
});

test('errors a user meets: an invalid partition (SLURM says so), a node without the interpreter', async () => {
  const dir = project({});
  const spec = JSON.parse(readFileSync(join(dir, 'mlloop.json'), 'utf8'));
  spec.clusters.nowhere = { kind: 'slurm', partition: 'no-such-partition' };
  spec.experiments.lost = { command: trainer(dir), cluster: 'nowhere' };
  spec.experiments.nopython = { command: ['no-such-python-xyz', 'train.py'], cluster: 'local' };
  writeFileSync(join(dir, 'mlloop.json'), JSON.stringify(spec));
  await assert.rejects(
    submitClusterExperiment({ projectDir: dir, experimentName: 'lost' }),
    /sbatch failed: .*invalid partition/i,
  );
  const failedRun = unfinishedClusterRuns(dir);
  assert.deepEqual(failedRun, [], 'the refused run is failed, not left queued');
  const sub = await submitClusterExperiment({ projectDir: dir, experimentName: 'nopython' });
  const follower = new ClusterFollower(FAST);
  const r = await follower.follow(dir, sub.runs[0].runId);
  follower.dispose();
  assert.equal(r.status, 'failed');
  assert.match(r.error!.message, /"no-such-python-xyz" is not found on node/);
  const notOnPath: SlurmRunner = (cmd, args) =>
    execSlurm(`${cmd}-missing-xyz`, args).catch((e: Error) =>
      Promise.reject(new Error(e.message.replace(`${cmd}-missing-xyz`, cmd))),
    );
  await assert.rejects(
    submitClusterExperiment({ projectDir: dir, experimentName: 'nopython', runner: notOnPath }),
    /sbatch is not on PATH/,
  );
});

test('restart: a new follower (the editor reopened) picks up a running job by its id and completes it', async () => {
  const dir = project({});
  const spec = JSON.parse(readFileSync(join(dir, 'mlloop.json'), 'utf8'));
  spec.experiments.long = { command: trainer(dir, { steps: 6, delayMs: 600 }), cluster: 'local' };
  writeFileSync(join(dir, 'mlloop.json'), JSON.stringify(spec));
  const sub = await submitClusterExperiment({ projectDir: dir, experimentName: 'long' });
  const runId = sub.runs[0].runId;
  let firstStep!: () => void;
  const started = new Promise<void>((r) => (firstStep = r));
  const first = new ClusterFollower({ ...FAST, onProgress: () => firstStep() });
  void first.follow(dir, runId);
  await started;
  first.dispose(); // the editor closes; the job goes on
  assert.equal(readRun(dir, runId).status, 'running');
  assert.deepEqual(unfinishedClusterRuns(dir), [runId]);

  const steps: number[] = [];
  const second = new ClusterFollower({ ...FAST, onProgress: (_id, e) => steps.push(e.step) });
  const final: RunRecord = await second.follow(dir, runId);
  second.dispose();
  assert.equal(final.status, 'completed', JSON.stringify(final.error));
  // The new follower replays the curve from the start of the job's output.
  assert.deepEqual(steps, [1, 2, 3, 4, 5, 6]);
  assert.ok(final.metrics?.dev);
  assert.deepEqual(unfinishedClusterRuns(dir), []);
});
