// ClusterFollower against a fake SLURM (a runner that answers like squeue/sacct/scontrol): how
// often it asks, backing off while nothing changes, and asking at once when a job starts writing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterFollower } from '../../../src/core/cluster/clusterRun';
import { SlurmError, type SlurmRunner } from '../../../src/core/cluster/slurm';
import { createRun } from '../../../src/core/train/runStore';

function queuedRun(): { projectDir: string; runId: string; runDir: string } {
  const projectDir = mkdtempSync(join(tmpdir(), 'mlloop-follow-'));
  const run = createRun(projectDir, { experiment: 'e', model: 'script' });
  run.update({
    status: 'queued',
    pid: undefined,
    host: undefined,
    cluster: { cluster: 'c', jobId: '77', script: 'job.sbatch', state: 'PENDING' },
  });
  return { projectDir, runId: run.runId, runDir: run.dir };
}

/** A SLURM whose job 77 is in `state.now`; squeue forgets it once it ended, scontrol remembers. */
function fakeSlurm(state: { now: string }, calls: string[]): SlurmRunner {
  return async (cmd) => {
    calls.push(cmd);
    const ended = !['PENDING', 'RUNNING'].includes(state.now);
    if (cmd === 'squeue') return ended ? '' : `77|${state.now}|${state.now === 'PENDING' ? 'Priority' : 'None'}\n`;
    if (cmd === 'sacct') throw new SlurmError('sacct failed: Slurm accounting storage is disabled');
    if (cmd === 'scontrol') return `JobId=77 JobState=${state.now} Reason=None ExitCode=0:15\n`;
    if (cmd === 'scancel') return '';
    throw new Error(cmd);
  };
}

test("polling backs off while a job waits, and the job's first write into its run folder asks SLURM at once", async () => {
  const { projectDir, runId, runDir } = queuedRun();
  const state = { now: 'PENDING' };
  const calls: string[] = [];
  const statuses: string[] = [];
  const follower = new ClusterFollower({
    runner: fakeSlurm(state, calls),
    pollMinMs: 100,
    pollMaxMs: 60_000,
    tailMs: 50,
    onChange: (_d, _id, r) => statuses.push(`${r.status}${r.cluster?.reason ? `:${r.cluster.reason}` : ''}`),
  });
  const done = follower.follow(projectDir, runId);
  await new Promise((r) => setTimeout(r, 6000));
  const waitingPolls = calls.filter((c) => c === 'squeue').length;
  // 6 s at 100 ms would be 60 polls; backing off by 1.5 gives about 10.
  assert.ok(waitingPolls >= 3 && waitingPolls <= 15, `${waitingPolls} polls while pending`);
  assert.deepEqual(statuses, ['queued:Priority']);
  // The job starts on its node: it writes stderr.txt, and runs for a moment shorter than the backed-off interval.
  state.now = 'RUNNING';
  writeFileSync(join(runDir, 'stderr.txt'), 'ML Loop: job 77 started\n');
  await new Promise((r) => setTimeout(r, 1000));
  state.now = 'CANCELLED';
  const final = await done;
  follower.dispose();
  assert.ok(statuses.includes('running'), `statuses: ${statuses}`);
  assert.equal(final.status, 'cancelled');
  // Where accounting is off, the final state came from scontrol.
  assert.ok(calls.includes('scontrol'));
});
