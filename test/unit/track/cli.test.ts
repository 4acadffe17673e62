import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runCli } from '../../../src/cli/main';
import type { CliIO } from '../../../src/cli/command';
import { tempDir, writeRun } from './fixtures';

async function cli(argv: string[], cwd: string): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIO = { out: (t) => (out += t + '\n'), err: (t) => (err += t + '\n'), cwd };
  const code = await runCli(argv, io);
  return { code, out, err };
}

function project(): string {
  const dir = tempDir();
  require('node:fs').writeFileSync(join(dir, 'mlloop.json'), '{ // comment\n "metric": "accuracy" }');
  writeRun(
    dir,
    {
      runId: 'r1',
      experiment: 'mlp',
      params: { hidden: [32] },
      startedAt: '2026-01-01T00:00:00Z',
      endedAt: '2026-01-01T00:00:30Z',
      metrics: { dev: { accuracy: 0.9, f1: 0.88, logloss: 0.3 } },
    },
    { meta: { name: 'small' } },
  );
  writeRun(
    dir,
    {
      runId: 'r2',
      experiment: 'mlp',
      params: { hidden: [64] },
      startedAt: '2026-01-02T00:00:00Z',
      endedAt: '2026-01-02T00:01:00Z',
      metrics: { dev: { accuracy: 0.972, f1: 0.97, logloss: 0.1 } },
    },
    { meta: { starred: true } },
  );
  writeRun(dir, {
    runId: 'r3',
    experiment: 'gbdt',
    model: 'gbdt',
    startedAt: '2026-01-03T00:00:00Z',
    status: 'failed',
  });
  return dir;
}

test('ml-loop runs --json lists runs newest first with their metrics; the text form shows the key metric', async () => {
  const dir = project();
  const j = await cli(['runs', dir, '--json'], '/');
  assert.equal(j.code, 0);
  const doc = JSON.parse(j.out);
  assert.deepEqual(
    doc.runs.map((r: { runId: string }) => r.runId),
    ['r3', 'r2', 'r1'],
  );
  assert.equal(doc.runs[1].metrics.dev.accuracy, 0.972);
  assert.equal(doc.runs[1].starred, true);
  assert.equal(doc.runs[2].name, 'small');
  assert.deepEqual(doc.problems, []);
  const only = JSON.parse((await cli(['runs', '--experiment', 'gbdt', '--json'], dir)).out);
  assert.deepEqual(
    only.runs.map((r: { runId: string }) => r.runId),
    ['r3'],
  );
  const text = await cli(['runs'], dir);
  assert.match(text.out, /★ r2\s+mlp\s+completed\s+dev acc 97\.2%\s+1 min 00 s/);
});

test('ml-loop compare --json gives the rows with differences and best columns; --csv the table', async () => {
  const dir = project();
  const j = await cli(['compare', 'r1', 'r2', '--dir', dir, '--json'], '/');
  assert.equal(j.code, 0, j.err);
  const doc = JSON.parse(j.out);
  assert.deepEqual(
    doc.runs.map((r: { runId: string }) => r.runId),
    ['r1', 'r2'],
  );
  const acc = doc.rows.find((r: { key: string }) => r.key === 'dev accuracy');
  assert.deepEqual(acc, { section: 'metric', key: 'dev accuracy', values: [0.9, 0.972], differs: true, best: [1] });
  assert.equal(doc.rows.find((r: { key: string }) => r.key === 'hidden').differs, true);
  const csv = await cli(['compare', 'r1', 'r2', '--csv'], dir);
  assert.match(csv.out, /^section,key,small \(r1\),r2\n/);
  const text = await cli(['compare', 'r1', 'r2'], dir);
  assert.match(text.out, /≠ dev accuracy\s+90\.0%\s+97\.2% \*/);
  assert.equal((await cli(['compare', 'r1'], dir)).code, 2);
  const missing = await cli(['compare', 'r1', 'nope'], dir);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /run nope: run\.json is missing/);
});

test('ml-loop export-runs --format mlflow and import-runs round-trip through the CLI', async () => {
  const dir = project();
  const out = join(tempDir(), 'mlruns');
  const e = await cli(['export-runs', dir, '--format', 'mlflow', '--out', out, '--json'], '/');
  assert.equal(e.code, 0, e.err);
  assert.equal(JSON.parse(e.out).exported.length, 3);
  assert.equal((await cli(['export-runs', dir], '/')).code, 2);
  const target = tempDir();
  const i = await cli(['import-runs', out, '--dir', target, '--json'], '/');
  assert.equal(i.code, 0, i.err);
  assert.deepEqual(JSON.parse(i.out).imported.sort(), ['r1', 'r2', 'r3']);
  const back = JSON.parse((await cli(['runs', target, '--json'], '/')).out);
  const orig = JSON.parse((await cli(['runs', dir, '--json'], '/')).out);
  const strip = (rs: { dir: string }[]) => rs.map(({ dir: _d, ...r }) => r);
  assert.deepEqual(strip(back.runs), strip(orig.runs));
});
