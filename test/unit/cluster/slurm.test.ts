// The SLURM layer without a cluster: the job script (run by bash here, so the quoting is tested by
// what the command receives), the sbatch options, the parsing of squeue/sacct/scontrol output, the
// state mapping, and the order in which the sources are asked (with a fake runner).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  expandTaskIds,
  jobScript,
  mapSlurmState,
  parseSacct,
  parseScontrol,
  parseSqueue,
  queryJobs,
  sbatch,
  sbatchDirectives,
  shellQuote,
  SlurmError,
  type SlurmRunner,
} from '../../../src/core/cluster/slurm';

const NASTY = ["it's", 'two words', '$HOME', '`id`', '"q"', 'a\\b', '', '; rm -rf /', '--lr', 'ü ñ', 'new\nline'];

test('shellQuote: plain words stay as they are, everything else reaches a program byte for byte', () => {
  assert.equal(shellQuote('train.py'), 'train.py');
  assert.equal(shellQuote('--lr=0.01'), '--lr=0.01');
  const r = spawnSync('bash', ['-c', `printf '%s\\0' ${NASTY.map(shellQuote).join(' ')}`], { encoding: 'utf8' });
  assert.deepEqual(r.stdout.split('\0').slice(0, -1), NASTY);
});

function runScript(script: string, env: Record<string, string> = {}): ReturnType<typeof spawnSync> {
  const dir = mkdtempSync(join(tmpdir(), 'mlloop-jobscript-'));
  const file = join(dir, 'job.sbatch');
  writeFileSync(file, script);
  return spawnSync('bash', [file], { encoding: 'utf8', env: { PATH: process.env.PATH!, ...env } });
}

test('the job script runs the argv as given (no shell parsing), with its environment, cwd and setup lines, output into the run folder', () => {
  const runDir = mkdtempSync(join(tmpdir(), 'mlloop-run-'));
  const cwd = mkdtempSync(join(tmpdir(), 'mlloop-cwd-'));
  const argv = [
    process.execPath,
    '-e',
    'require("fs").writeFileSync(process.env.MLLOOP_RUN_DIR + "/seen.json", JSON.stringify({ argv: process.argv.slice(1), cwd: process.cwd(), x: process.env.X, setup: process.env.SETUP }))',
    ...NASTY,
  ];
  const script = jobScript({
    jobName: 'mlloop-t',
    cluster: { kind: 'slurm', setup: ['export SETUP=done'] },
    cwd,
    tasks: [{ runDir, argv, env: { MLLOOP_RUN_DIR: runDir, X: "a 'b' $c" } }],
    slurmOutput: join(runDir, 'slurm-%j.out'),
  });
  const r = runScript(script);
  assert.equal(r.status, 0, readFileSync(join(runDir, 'stderr.txt'), 'utf8'));
  const seen = JSON.parse(readFileSync(join(runDir, 'seen.json'), 'utf8'));
  assert.deepEqual(seen.argv, NASTY);
  assert.equal(seen.cwd, cwd);
  assert.equal(seen.x, "a 'b' $c");
  assert.equal(seen.setup, 'done');
  assert.match(readFileSync(join(runDir, 'stderr.txt'), 'utf8'), /ML Loop: job \? on .* started/);
});

test('the job script of an array runs task i of the sweep; an unknown interpreter is named', () => {
  const dirs = [0, 1].map(() => mkdtempSync(join(tmpdir(), 'mlloop-run-')));
  const script = jobScript({
    jobName: 'mlloop-sweep',
    cluster: { kind: 'slurm' },
    cwd: tmpdir(),
    tasks: dirs.map((runDir, i) => ({
      runDir,
      argv: [process.execPath, '-e', `require("fs").writeFileSync(${JSON.stringify(join(runDir, 'task'))}, "${i}")`],
      env: {},
    })),
    parallel: 1,
    slurmOutput: '/dev/null',
  });
  assert.match(script, /^#SBATCH --array=0-1%1$/m);
  assert.equal(runScript(script, { SLURM_ARRAY_TASK_ID: '1' }).status, 0);
  assert.equal(readFileSync(join(dirs[1], 'task'), 'utf8'), '1');
  assert.equal(runScript(script, { SLURM_ARRAY_TASK_ID: '7' }).status, 2);

  const lonely = mkdtempSync(join(tmpdir(), 'mlloop-run-'));
  const missing = jobScript({
    jobName: 'm',
    cluster: { kind: 'slurm' },
    cwd: tmpdir(),
    tasks: [{ runDir: lonely, argv: ['no-such-python-xyz', 't.py'], env: {} }],
    slurmOutput: '/dev/null',
  });
  assert.equal(runScript(missing).status, 127);
  assert.match(
    readFileSync(join(lonely, 'stderr.txt'), 'utf8'),
    /"no-such-python-xyz" is not found on node .*add a setup line/,
  );
});

test('sbatch options from the cluster; an array limit only when it limits', () => {
  const one = { runDir: '/r', argv: ['x'], env: {} };
  assert.deepEqual(
    sbatchDirectives({
      jobName: 'j',
      cluster: { kind: 'slurm', partition: 'gpu', gres: 'gpu:1', cpusPerTask: 8, memory: '32G', time: '02:00:00' },
      tasks: [one],
      slurmOutput: '/o',
    }),
    [
      '--job-name=j',
      '--output=/o',
      '--ntasks=1',
      '--partition=gpu',
      '--gres=gpu:1',
      '--cpus-per-task=8',
      '--mem=32G',
      '--time=02:00:00',
    ],
  );
  const three = [one, one, one];
  assert.ok(
    sbatchDirectives({
      jobName: 'j',
      cluster: { kind: 'slurm' },
      tasks: three,
      parallel: 5,
      slurmOutput: '/o',
    }).includes('--array=0-2'),
  );
  assert.ok(
    sbatchDirectives({
      jobName: 'j',
      cluster: { kind: 'slurm' },
      tasks: three,
      parallel: 2,
      slurmOutput: '/o',
    }).includes('--array=0-2%2'),
  );
});

test('SLURM states map onto run states', () => {
  assert.deepEqual(mapSlurmState('PENDING', 'Priority'), { status: 'queued', reason: 'Priority' });
  assert.deepEqual(mapSlurmState('PENDING', 'Resources'), { status: 'queued', reason: 'Resources' });
  assert.deepEqual(mapSlurmState('CONFIGURING'), { status: 'running' });
  assert.deepEqual(mapSlurmState('RUNNING'), { status: 'running' });
  assert.deepEqual(mapSlurmState('COMPLETING'), { status: 'running' });
  assert.deepEqual(mapSlurmState('COMPLETED'), { status: 'completed' });
  for (const s of ['FAILED', 'TIMEOUT', 'OUT_OF_MEMORY', 'NODE_FAIL', 'PREEMPTED'])
    assert.deepEqual(mapSlurmState(s), { status: 'failed', reason: s });
  assert.deepEqual(mapSlurmState('CANCELLED by 1000'), { status: 'cancelled' });
  assert.deepEqual(mapSlurmState('CANCELLED+'), { status: 'cancelled' });
  assert.equal(mapSlurmState('SOMETHING_NEW').status, 'queued');
});

test('parsing: squeue, sacct (steps left out, pending array ranges expanded), scontrol (a range of tasks that never started)', () => {
  assert.deepEqual(parseSqueue('12_0|RUNNING|None\n12_1|PENDING|JobArrayTaskLimit\n\n'), [
    { id: '12_0', state: 'RUNNING', reason: 'None' },
    { id: '12_1', state: 'PENDING', reason: 'JobArrayTaskLimit' },
  ]);
  assert.deepEqual(
    parseSacct('7|COMPLETED|0:0\n7.batch|COMPLETED|0:0\n8_[1-2%1]|PENDING|0:0\n9|CANCELLED by 0|0:15\n'),
    [
      { id: '7', state: 'COMPLETED', exitCode: '0:0' },
      { id: '8_1', state: 'PENDING', exitCode: '0:0' },
      { id: '8_2', state: 'PENDING', exitCode: '0:0' },
      { id: '9', state: 'CANCELLED by 0', exitCode: '0:15' },
    ],
  );
  const scontrol = [
    'JobId=13 ArrayJobId=13 ArrayTaskId=1-2 JobName=x JobState=CANCELLED Reason=None ExitCode=0:0',
    'JobId=14 ArrayJobId=13 ArrayTaskId=0 JobName=x JobState=TIMEOUT Reason=TimeLimit ExitCode=0:15',
    'JobId=20 JobName=y JobState=FAILED Reason=NonZeroExitCode ExitCode=3:0',
  ].join('\n');
  assert.deepEqual(parseScontrol(scontrol), [
    { id: '13_1', state: 'CANCELLED', reason: 'None', exitCode: '0:0' },
    { id: '13_2', state: 'CANCELLED', reason: 'None', exitCode: '0:0' },
    { id: '13_0', state: 'TIMEOUT', reason: 'TimeLimit', exitCode: '0:15' },
    { id: '20', state: 'FAILED', reason: 'NonZeroExitCode', exitCode: '3:0' },
  ]);
  assert.deepEqual(expandTaskIds('[0-6:3%2]'), [0, 3, 6]);
  assert.deepEqual(expandTaskIds('1,4-5'), [1, 4, 5]);
});

test('queryJobs asks squeue, then sacct, and scontrol only where accounting is off', async () => {
  const calls: string[] = [];
  const fake =
    (sacct: 'works' | 'disabled'): SlurmRunner =>
    async (cmd, args) => {
      calls.push(cmd);
      if (cmd === 'squeue') return '5|RUNNING|None\n';
      if (cmd === 'sacct') {
        if (sacct === 'disabled') throw new SlurmError('sacct failed: Slurm accounting storage is disabled');
        return '6|COMPLETED|0:0\n';
      }
      if (cmd === 'scontrol') return `JobId=${args[3]} JobState=TIMEOUT Reason=TimeLimit ExitCode=0:15\n`;
      throw new Error(cmd);
    };
  const real = await queryJobs(fake('works'), ['5', '6']);
  assert.deepEqual([...real.keys()].sort(), ['5', '6']);
  assert.equal(real.get('6')!.state, 'COMPLETED');
  assert.deepEqual(calls, ['squeue', 'sacct']);
  calls.length = 0;
  const local = await queryJobs(fake('disabled'), ['5', '6']);
  assert.equal(local.get('6')!.state, 'TIMEOUT');
  assert.deepEqual(calls, ['squeue', 'sacct', 'scontrol']);
});

test('sbatch: the job id of --parsable, with or without a cluster name; SLURM errors pass through', async () => {
  assert.equal(await sbatch(async () => '4242\n', '/j'), '4242');
  assert.equal(await sbatch(async () => '4243;cluster1\n', '/j'), '4243');
  let seen: string[] = [];
  await sbatch(async (_c, args) => ((seen = args), '1\n'), '/j', ['--account=ml']);
  assert.deepEqual(seen, ['--parsable', '--account=ml', '/j']);
  await assert.rejects(
    sbatch(async () => 'Submitted batch job\n', '/j'),
    /printed no job id/,
  );
});
