// The `slurm` tier: node tests of cluster training (test/slurm/*.test.ts) against a real one-node
// SLURM on localhost, started before them and stopped after (./slurm-cluster.mjs). `.ci/run`
// installs slurm-wlm and munge; on a machine without them the tier says so and counts one failure
// under CI (where they must be there) and skips elsewhere.
import { readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeTestTier } from './node-test.mjs';
import { slurmInstalled, startSlurmCluster } from './slurm-cluster.mjs';

export const name = 'slurm';

export async function run() {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  if (!slurmInstalled()) {
    console.log('SLURM is not installed here (apt-get install -y slurm-wlm munge): the slurm tier is skipped');
    return process.env.CI ? { passed: 0, failed: 1, skipped: 0 } : { passed: 0, failed: 0, skipped: 1 };
  }
  const cluster = await startSlurmCluster();
  try {
    const dir = join(root, 'test', 'slurm');
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.test.ts'))
      .sort()
      .map((f) => join(dir, f));
    // One file at a time: the cluster has two CPUs and the tests count on them.
    return nodeTestTier(root, files, ['--test-concurrency=1']);
  } finally {
    cluster.stop();
  }
}
