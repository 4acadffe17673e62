import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createRun, appendMetric, finishRun, writeFileAtomic } from '../../../src/core/train/runStore';
import { ProgressGate, EVERY_STEP_LIMIT } from '../../../src/core/train/pipeline';
import {
  annotateRun,
  deleteRun,
  deriveStatus,
  listRuns,
  parseHistory,
  readHistory,
  readTrackedRun,
  type Liveness,
} from '../../../src/core/track/store';
import { FOLDERS_PER_CHECK, RunIndex } from '../../../src/core/track/runIndex';
import { digitsProject, tempDir, writeRun } from './fixtures';
import { runsDir } from '../../../src/core/spec/layout';

const live = (alive: number[], host = 'here', now = Date.parse('2026-01-01T00:10:00Z')): Liveness => ({
  host,
  isAlive: (pid) => alive.includes(pid),
  now,
});

test('runs are listed newest first with their annotations', async () => {
  const dir = tempDir();
  writeRun(dir, { runId: 'a', startedAt: '2026-01-01T00:00:00.000Z' });
  writeRun(
    dir,
    { runId: 'c', startedAt: '2026-01-03T00:00:00.000Z' },
    { meta: { name: 'wide', note: 'more units', starred: true } },
  );
  writeRun(dir, { runId: 'b', startedAt: '2026-01-02T00:00:00.000Z' });
  const { runs, problems } = await listRuns(dir);
  assert.deepEqual(problems, []);
  assert.deepEqual(
    runs.map((r) => r.runId),
    ['c', 'b', 'a'],
  );
  assert.deepEqual(runs[0].annotations, { name: 'wide', note: 'more units', starred: true });
  assert.deepEqual(runs[1].annotations, {});
});

test('corrupt or partial files are reported and skipped, never thrown', async () => {
  const dir = tempDir();
  writeRun(dir, { runId: 'good', startedAt: '2026-01-02T00:00:00.000Z' });
  const store = runsDir(dir);
  mkdirSync(join(store, 'truncated'));
  writeFileSync(join(store, 'truncated', 'run.json'), '{"runId": "truncated", "experiment": "mlp", "sta');
  mkdirSync(join(store, 'empty'));
  mkdirSync(join(store, 'wrong-id'));
  writeFileSync(
    join(store, 'wrong-id', 'run.json'),
    JSON.stringify({ runId: 'other', experiment: 'x', status: 'completed', startedAt: '2026-01-01T00:00:00Z' }),
  );
  mkdirSync(join(store, 'bad-status'));
  writeFileSync(
    join(store, 'bad-status', 'run.json'),
    JSON.stringify({ runId: 'bad-status', experiment: 'x', status: 'exploded', startedAt: '2026-01-01T00:00:00Z' }),
  );
  writeRun(dir, { runId: 'bad-meta', startedAt: '2026-01-01T00:00:00.000Z' });
  writeFileSync(join(store, 'bad-meta', 'meta.json'), '[1,2');
  writeFileSync(join(store, 'stray-file.txt'), 'not a run');
  const { runs, problems } = await listRuns(dir);
  assert.deepEqual(
    runs.map((r) => r.runId),
    ['good', 'bad-meta'],
  );
  const byRun = Object.fromEntries(problems.map((p) => [p.runId, p.message]));
  assert.match(byRun.truncated, /not valid JSON/);
  assert.match(byRun.empty, /run\.json is missing/);
  assert.match(byRun['wrong-id'], /names run "other"/);
  assert.match(byRun['bad-status'], /unknown status "exploded"/);
  assert.match(byRun['bad-meta'], /meta\.json ignored/);
  assert.equal(problems.length, 5);
});

test('a history cut mid-line keeps every whole line', () => {
  const h = parseHistory('{"step":1,"trainLoss":2}\n{"step":2,"trainLoss":1.5}\n{"step":3,"trai');
  assert.deepEqual(
    h.steps.map((s) => s.step),
    [1, 2],
  );
  assert.equal(h.skippedLines, 1);
  assert.equal(h.final, undefined);
  const done = parseHistory('{"step":1}\n{"final":true,"dev":{"accuracy":0.9}}\n');
  assert.deepEqual(done.final, { dev: { accuracy: 0.9 } });
});

test('running → interrupted when the training process on this host is gone; other hosts by staleness', () => {
  const rec = {
    runId: 'r',
    experiment: 'e',
    model: 'mlp' as const,
    params: {},
    status: 'running' as const,
    startedAt: '2026-01-01T00:00:00Z',
    pid: 42,
    host: 'here',
  };
  assert.equal(deriveStatus(rec, 0, live([42])), 'running');
  assert.equal(deriveStatus(rec, 0, live([])), 'interrupted');
  const remote = { ...rec, host: 'elsewhere' };
  const now = Date.parse('2026-01-01T05:00:00Z');
  assert.equal(deriveStatus(remote, now - 60_000, live([], 'here', now)), 'running');
  assert.equal(deriveStatus(remote, now - 2 * 3600_000, live([], 'here', now)), 'interrupted');
  assert.equal(deriveStatus({ ...rec, status: 'completed' }, 0, live([])), 'completed');
  // A cluster's job lives elsewhere: SLURM's state in run.json is the truth, however stale the files.
  const job = { cluster: 'gpu', jobId: '7', script: 'job.sbatch' };
  assert.equal(deriveStatus({ ...remote, cluster: job }, now - 2 * 3600_000, live([], 'here', now)), 'running');
  assert.equal(
    deriveStatus({ ...rec, status: 'queued', pid: undefined, host: undefined, cluster: job }, 0, live([])),
    'queued',
  );
});

test(
  'a run whose training process is killed (SIGKILL) mid-run shows interrupted, with its history kept',
  { timeout: 120_000 },
  async () => {
    const project = digitsProject(400);
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'train-child.ts'), project, 'mlp'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let runId = '';
    let steps = 0;
    for await (const line of createInterface({ input: child.stdout! })) {
      if (line.startsWith('run ')) runId = line.slice(4);
      if (line.startsWith('step ')) steps++;
      if (line.startsWith('done')) assert.fail(`the run finished before it was killed: ${line}`);
      if (steps >= 5) break;
    }
    const before = readTrackedRun(project, runId).run!;
    assert.equal(before.status, 'running');
    assert.equal(before.record.pid, child.pid);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const { runs, problems } = await listRuns(project);
    assert.deepEqual(problems, []);
    assert.equal(runs.length, 1);
    assert.equal(runs[0].status, 'interrupted');
    assert.equal(runs[0].record.status, 'running', 'run.json is left as the dead process wrote it');
    const history = readHistory(runs[0].dir);
    assert.ok(history.steps.length >= 5, `history kept: ${history.steps.length} steps`);
    assert.deepEqual(
      history.steps.slice(0, 5).map((s) => s.step),
      [1, 2, 3, 4, 5],
    );
    assert.ok(existsSync(join(runs[0].dir, 'log.txt')));
    // Provenance: the project file was snapshotted into the run folder.
    assert.equal(
      readFileSync(join(runs[0].dir, 'mlloop.json'), 'utf8'),
      readFileSync(join(project, 'mlloop.json'), 'utf8'),
    );
  },
);

test('short runs report every epoch (a curve point per epoch), long ones stay throttled', () => {
  const seen: number[] = [];
  const gate = new ProgressGate({ onProgress: (e) => seen.push(e.step) }, 1000);
  for (let step = 1; step <= 100; step++) gate.report({ step, totalSteps: 100 });
  assert.equal(seen.length, 100);
  const long: number[] = [];
  const longGate = new ProgressGate({ onProgress: (e) => long.push(e.step) }, 1000);
  for (let step = 1; step <= EVERY_STEP_LIMIT + 1; step++) longGate.report({ step, totalSteps: EVERY_STEP_LIMIT + 1 });
  assert.deepEqual(long, [1, EVERY_STEP_LIMIT + 1]);
});

test(
  'atomic writes: a reader in another process never sees a partial run.json, and no temp file is left',
  { timeout: 60_000 },
  async () => {
    const dir = tempDir();
    const run = createRun(dir, { experiment: 'mlp', model: 'mlp', params: { epochs: 3 } });
    // Another process rewrites run.json (growing) and appends history while this one reads.
    const writer = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `const s = require(${JSON.stringify(require.resolve('../../../src/core/train/runStore'))});
       const rec = JSON.parse(require('node:fs').readFileSync(${JSON.stringify(join(run.dir, 'run.json'))}, 'utf8'));
       const run = new s.RunDir(${JSON.stringify(run.dir)}, rec);
       for (let i = 0; i < 1500; i++) { run.update({ params: { epochs: 3, filler: 'x'.repeat((i % 300) * 40) } }); s.appendMetric(run, { step: i + 1, trainLoss: 1 / (i + 1) }); }
       s.finishRun(run, { status: 'completed', metrics: { train: { accuracy: 1, f1: 1, logloss: 0.1 } } });`,
      ],
      { stdio: 'inherit' },
    );
    let exited = false;
    const done = new Promise((r) => writer.once('exit', (code) => ((exited = true), r(code))));
    let reads = 0;
    while (!exited) {
      const r = readTrackedRun(dir, run.runId);
      assert.ok(r.run, `read ${reads}: ${JSON.stringify(r.problems)}`);
      reads++;
      await new Promise((res) => setImmediate(res));
    }
    assert.equal(await done, 0);
    assert.ok(reads > 20, `only ${reads} reads overlapped the writes`);
    assert.equal(readTrackedRun(dir, run.runId).run!.status, 'completed');
    assert.deepEqual(readdirSync(run.dir).sort(), ['log.txt', 'metrics.jsonl', 'run.json']);
    assert.equal(readHistory(run.dir).steps.length, 1500);
    writeFileAtomic(join(dir, 'x.txt'), 'one');
    assert.equal(readFileSync(join(dir, 'x.txt'), 'utf8'), 'one');
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.endsWith('.tmp')),
      [],
    );
  },
);

test('rename, note and star live in meta.json; delete removes the run; a running run cannot be deleted', async () => {
  const dir = tempDir();
  writeRun(dir, { runId: 'r1' });
  assert.deepEqual(annotateRun(dir, 'r1', { name: 'baseline', note: 'hypothesis: wider helps' }), {
    name: 'baseline',
    note: 'hypothesis: wider helps',
  });
  assert.deepEqual(annotateRun(dir, 'r1', { starred: true }), {
    name: 'baseline',
    note: 'hypothesis: wider helps',
    starred: true,
  });
  assert.deepEqual(annotateRun(dir, 'r1', { name: '', starred: false }), { note: 'hypothesis: wider helps' });
  assert.deepEqual((await listRuns(dir)).runs[0].annotations, { note: 'hypothesis: wider helps' });
  assert.throws(() => annotateRun(dir, '../escape', { name: 'x' }), /not a run id/);
  writeRun(dir, { runId: 'live', status: 'running', pid: process.pid, host: require('node:os').hostname() });
  assert.throws(() => deleteRun(dir, 'live'), /still running/);
  writeRun(dir, { runId: 'waiting', status: 'queued', cluster: { cluster: 'gpu', jobId: '7', script: 'job.sbatch' } });
  assert.throws(() => deleteRun(dir, 'waiting'), /still queued: cancel it/);
  deleteRun(dir, 'r1');
  assert.deepEqual((await listRuns(dir)).runs.map((r) => r.runId).sort(), ['live', 'waiting']);
});

test('the run index reloads one run at a time and re-derives running runs', async () => {
  const dir = tempDir();
  writeRun(dir, { runId: 'r1', experiment: 'a', startedAt: '2026-01-01T00:00:00Z' });
  writeRun(dir, {
    runId: 'r2',
    experiment: 'b',
    startedAt: '2026-01-02T00:00:00Z',
    status: 'running',
    pid: 7,
    host: 'here',
  });
  let alive = [7];
  const index = new RunIndex(dir, () => ({ host: 'here', isAlive: (p) => alive.includes(p), now: Date.now() }));
  await index.load();
  assert.deepEqual(
    index.all().map((r) => r.runId),
    ['r2', 'r1'],
  );
  assert.equal(index.get('r2')!.status, 'running');
  writeRun(dir, { runId: 'r3', experiment: 'a', startedAt: '2026-01-03T00:00:00Z' });
  index.reload('r3');
  assert.deepEqual(
    index.ofExperiment('a').map((r) => r.runId),
    ['r3', 'r1'],
  );
  // A change that keeps the run's place (an annotation) shows in the cached lists.
  annotateRun(dir, 'r1', { name: 'renamed' });
  index.reload('r1');
  assert.equal(index.ofExperiment('a')[1].annotations.name, 'renamed');
  assert.equal(index.all()[2].annotations.name, 'renamed');
  alive = [];
  assert.deepEqual(index.recheckRunning(), ['r2']);
  assert.equal(index.get('r2')!.status, 'interrupted');
  deleteRun(dir, 'r1');
  index.reload('r1');
  assert.deepEqual(
    index.all().map((r) => r.runId),
    ['r3', 'r2'],
  );
  assert.equal(index.runIdOf(join(runsDir(dir), 'r3', 'run.json')), 'r3');
  assert.equal(index.runIdOf(join(dir, 'mlloop.json')), undefined);
});

test('the periodic re-check finds store changes the file watcher missed', async () => {
  const dir = tempDir();
  writeRun(dir, { runId: 'r1', experiment: 'a', startedAt: '2026-01-01T00:00:00Z' });
  writeRun(dir, {
    runId: 'r2',
    experiment: 'a',
    startedAt: '2026-01-02T00:00:00Z',
    status: 'running',
    pid: process.pid,
    host: 'here',
  });
  const index = new RunIndex(dir, () => ({ host: 'here', isAlive: () => true, now: Date.now() }));
  await index.load();
  assert.deepEqual(index.recheckStore(), [], 'nothing changed: nothing to tell');
  // Another process writes a new run, finishes the running one and deletes an old one; no watcher event arrives.
  writeRun(dir, { runId: 'r3', experiment: 'b', startedAt: '2026-01-03T00:00:00Z' });
  const runJson = join(runsDir(dir), 'r2', 'run.json');
  const record = JSON.parse(readFileSync(runJson, 'utf8'));
  writeFileSync(runJson, JSON.stringify({ ...record, status: 'completed' }));
  const later = new Date(Date.now() + 5000);
  utimesSync(runJson, later, later);
  deleteRun(dir, 'r1');
  assert.deepEqual(index.recheckStore().sort(), ['r1', 'r2', 'r3']);
  assert.deepEqual(
    index.all().map((r) => [r.runId, r.status]),
    [
      ['r3', 'completed'],
      ['r2', 'completed'],
    ],
  );
  assert.deepEqual(
    index.ofExperiment('b').map((r) => r.runId),
    ['r3'],
  );
  // A folder still being written (no run.json yet) is reported once as a problem, then not again until its record appears.
  mkdirSync(join(runsDir(dir), 'r4'));
  assert.deepEqual(index.recheckStore(), ['r4']);
  assert.equal(index.get('r4'), undefined);
  assert.deepEqual(index.recheckStore(), []);
  writeRun(dir, { runId: 'r4', experiment: 'b', startedAt: '2026-01-04T00:00:00Z' });
  assert.deepEqual(index.recheckStore(), ['r4']);
  assert.equal(index.all()[0].runId, 'r4');
  // A finished run annotated by another process (an atomic rewrite of run.json in its folder).
  annotateRun(dir, 'r3', { name: 'renamed elsewhere' });
  const folder = join(runsDir(dir), 'r3');
  const later2 = new Date(Date.now() + 10_000);
  utimesSync(folder, later2, later2); // the rename's mtime, even on a file system with coarse timestamps
  assert.deepEqual(index.recheckStore(), ['r3']);
  assert.equal(index.get('r3')!.annotations.name, 'renamed elsewhere');
  assert.deepEqual(index.recheckStore(), []);
});

test("the re-check looks at finished runs' folders a round at a time", async () => {
  const dir = tempDir();
  const n = FOLDERS_PER_CHECK + 100;
  for (let i = 0; i < n; i++)
    writeRun(dir, {
      runId: `r${String(i).padStart(4, '0')}`,
      experiment: 'a',
      startedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
    });
  const index = new RunIndex(dir, () => ({ host: 'here', isAlive: () => true, now: Date.now() }));
  await index.load();
  const later = new Date(Date.now() + 10_000);
  for (const id of ['r0003', `r${String(n - 2).padStart(4, '0')}`]) {
    annotateRun(dir, id, { note: 'seen?' });
    utimesSync(join(runsDir(dir), id), later, later);
  }
  // Two checks cover every folder once: each change is found in one of them, and only once.
  const found = [...index.recheckStore(), ...index.recheckStore()].sort();
  assert.deepEqual(found, ['r0003', `r${String(n - 2).padStart(4, '0')}`]);
  assert.equal(index.get('r0003')!.annotations.note, 'seen?');
  assert.deepEqual(index.recheckStore(), []);
});
