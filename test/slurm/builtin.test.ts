// Built-in experiments on a real one-node SLURM (test/runners/slurm.tier.mjs): the job runs the
// built ML Loop CLI (dist/cli.js: `npm run build` first) with Node on the node, which trains into
// the run folder the submitter created; the follower streams its curve and completes the run with
// the trainer's metrics. A sweep is one job array; the bundled CLI submits with its own path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ClusterFollower, JOB_SCRIPT, submitClusterExperiment } from '../../src/core/cluster/clusterRun';
import { readRun } from '../../src/core/train/runStore';
import { runDir } from '../../src/core/spec/layout';
import { readHistory } from '../../src/core/track/store';
import type { ProgressEvent } from '../../src/core/train/types';
import { REFERENCE_FILE } from '../../src/core/train/reference';
import { irisProject } from '../unit/scripts/fixtures';

const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');
const FAST = { pollMinMs: 500, pollMaxMs: 2000, tailMs: 200 };

function project(): string {
  const dir = irisProject({
    mlp: { model: 'mlp', params: { hidden: [8], epochs: 6 }, cluster: 'local' },
    gbdt: { model: 'gbdt', params: { iterations: 10 }, cluster: 'local', sweep: { learningRate: [0.1, 0.3] } },
  });
  const spec = JSON.parse(readFileSync(join(dir, 'mlloop.json'), 'utf8'));
  spec.clusters = { local: { kind: 'slurm', partition: 'debug', cpusPerTask: 1, time: '00:10:00' } };
  writeFileSync(join(dir, 'mlloop.json'), JSON.stringify(spec, null, 2));
  return dir;
}

test('a built-in experiment: the node runs ml-loop train with Node, the curve streams, the run completes evaluated with its model', async () => {
  assert.ok(existsSync(CLI), `${CLI} is missing: npm run build first`);
  const dir = project();
  const sub = await submitClusterExperiment({ projectDir: dir, experimentName: 'mlp', cliPath: CLI });
  const { runId, runDir: folder } = sub.runs[0];
  assert.equal(readRun(dir, runId).status, 'queued');
  assert.match(readFileSync(join(folder, JOB_SCRIPT), 'utf8'), /Node 20 or newer is needed on the node/);

  const statuses: string[] = [];
  const progress: ProgressEvent[] = [];
  const follower = new ClusterFollower({
    ...FAST,
    onChange: (_d, _id, r) => statuses.push(r.status),
    onProgress: (_id, e) => progress.push(e),
  });
  const final = await follower.follow(dir, runId);
  follower.dispose();
  assert.equal(
    final.status,
    'completed',
    `${JSON.stringify(final.error)}\n${existsSync(join(folder, 'stderr.txt')) ? readFileSync(join(folder, 'stderr.txt'), 'utf8') : ''}`,
  );
  assert.ok(statuses.includes('running'), `statuses seen: ${statuses}`);
  assert.deepEqual(
    progress.map((e) => e.step),
    [1, 2, 3, 4, 5, 6],
  );
  assert.ok(progress.every((e) => e.metricName === 'accuracy' && typeof e.devMetric === 'number'));
  assert.equal(final.model, 'mlp');
  assert.ok(final.metrics?.train && final.metrics.dev && final.metrics.test, 'evaluated on every split');
  assert.ok('accuracy' in final.metrics.dev && typeof final.metrics.dev.accuracy === 'number');
  assert.ok(final.dataVersion?.id);
  assert.ok(
    existsSync(join(folder, 'model.onnx')) && final.modelSize === readFileSync(join(folder, 'model.onnx')).byteLength,
  );
  assert.ok(existsSync(join(folder, REFERENCE_FILE)), 'the monitoring reference is written, as for a local run');
  const history = readHistory(folder);
  assert.deepEqual(
    history.steps.map((s) => s.step),
    [1, 2, 3, 4, 5, 6],
  );
  assert.deepEqual(history.final?.dev, final.metrics.dev);
});

test('a sweep of a built-in experiment is one job array; every task trains its own combination', async () => {
  const dir = project();
  const sub = await submitClusterExperiment({ projectDir: dir, experimentName: 'gbdt', cliPath: CLI });
  assert.equal(sub.runs.length, 2);
  assert.match(readFileSync(join(sub.runs[0].runDir, JOB_SCRIPT), 'utf8'), /^#SBATCH --array=0-1$/m);
  const follower = new ClusterFollower(FAST);
  const finals = await Promise.all(sub.runs.map((r) => follower.follow(dir, r.runId)));
  follower.dispose();
  assert.deepEqual(
    finals.map((r) => r.status),
    ['completed', 'completed'],
    JSON.stringify(finals.map((r) => r.error)),
  );
  assert.deepEqual(
    finals.map((r) => r.cluster?.arrayTaskId),
    [0, 1],
  );
  assert.deepEqual(
    finals.map((r) => r.params.learningRate),
    [0.1, 0.3],
  );
  assert.equal(new Set(finals.map((r) => r.group?.id)).size, 1);
  assert.ok(finals.every((r) => r.metrics?.dev && existsSync(join(runDir(dir, r.runId), 'model.onnx'))));
});

test('the bundled CLI submits a built-in experiment with its own path and reports the completed run', async () => {
  const dir = project();
  const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'train', dir, '-e', 'mlp', '--json'], {
    encoding: 'utf8',
  });
  const [doc] = JSON.parse(stdout);
  assert.equal(doc.status, 'completed', JSON.stringify(doc.error));
  assert.match(doc.cluster.jobId, /^\d+$/);
  assert.ok(doc.metrics.dev);
  assert.equal(readRun(dir, doc.runId).command?.[1], CLI);
});
