// `ml-loop train DIR -e NAME --cluster NAME` against the real local SLURM (test/runners/slurm.tier.mjs):
// the run is submitted, followed until it ends, and printed as JSON; --detach only submits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../src/cli/main';
import type { CliIO } from '../../src/cli/command';
import { unfinishedClusterRuns, ClusterFollower } from '../../src/core/cluster/clusterRun';
import { irisProject } from '../unit/scripts/fixtures';
import { trainer } from './fixtures';

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = { out: (t) => out.push(t), err: (t) => err.push(t), cwd: process.cwd() };
  const code = await runCli(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

function project(): string {
  const dir = irisProject({});
  const command = trainer(dir, { steps: 1, delayMs: 100 });
  const spec = JSON.parse(readFileSync(join(dir, 'mlloop.json'), 'utf8'));
  spec.clusters = { local: { kind: 'slurm', time: '00:05:00' } };
  spec.experiments = { here: { command }, there: { command, cluster: 'local' } };
  writeFileSync(join(dir, 'mlloop.json'), JSON.stringify(spec, null, 2));
  return dir;
}

test('ml-loop train --cluster submits, follows and reports the completed, evaluated run', async () => {
  const dir = project();
  const r = await run(['train', dir, '-e', 'here', '--cluster', 'local', '--json']);
  assert.equal(r.code, 0, r.err + r.out);
  const [doc] = JSON.parse(r.out);
  assert.equal(doc.status, 'completed');
  assert.match(doc.cluster.jobId, /^\d+$/);
  assert.ok(doc.metrics.dev);
});

test('an experiment with a "cluster" goes there by default; --detach leaves it queued for a later follower; an unknown cluster is named', async () => {
  const dir = project();
  const r = await run(['train', dir, '-e', 'there', '--detach']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /submitted to cluster "local": SLURM job \d+ \(1 run, queued\)/);
  const [runId] = unfinishedClusterRuns(dir);
  assert.ok(runId);
  const follower = new ClusterFollower({ pollMinMs: 500, tailMs: 200 });
  assert.equal((await follower.follow(dir, runId)).status, 'completed');
  follower.dispose();
  const bad = await run(['train', dir, '-e', 'here', '--cluster', 'gpu']);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /No cluster "gpu" in .*mlloop.json \(clusters: local\)/);
});
