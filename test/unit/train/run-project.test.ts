// trainExperiment and `ml-loop train` on a project folder (mlloop.json + CSV) built in a temp dir.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainExperiment } from '../../../src/core/experiment/trainExperiment';
import { readRun } from '../../../src/core/train/runStore';
import { runCli } from '../../../src/cli/main';
import { readMetadata } from '../../../src/core/onnx/builder';
import { resolveProject } from '../../../src/core/data/dataset';
import { isScriptExperiment } from '../../../src/core/spec/types';
import { IRIS_CSV } from '../../datasets';

function irisProject(experiments: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'mlloop-proj-'));
  copyFileSync(IRIS_CSV, join(dir, 'iris.csv'));
  writeFileSync(
    join(dir, 'mlloop.json'),
    JSON.stringify(
      {
        name: 'iris',
        task: 'classification',
        data: { path: 'iris.csv', target: 'species', split: { dev: 0.2, test: 0.2, seed: 1 } },
        metric: 'accuracy',
        experiments,
      },
      null,
      2,
    ),
  );
  return dir;
}

function cli(argv: string[], cwd: string) {
  let out = '';
  let err = '';
  return runCli(['train', ...argv], { cwd, out: (s) => (out += s + '\n'), err: (s) => (err += s + '\n') }).then(
    (code) => ({ code, out, err }),
  );
}

test('trainExperiment loads the project in the worker, resolves default params and records the data version', async () => {
  const dir = irisProject({ lr: { model: 'logistic' } });
  const o = await trainExperiment({ projectDir: dir, experimentName: 'lr' });
  assert.equal(o.status, 'completed', JSON.stringify(o.error));
  const rec = readRun(dir, o.runId);
  assert.deepEqual(rec.params, { l2: 0.001, maxIter: 100, tol: 0.0001 });
  assert.match(rec.dataVersion!.id, /^[0-9a-f]{12}$/);
  assert.equal(readMetadata(readFileSync(o.model!)).data_version, rec.dataVersion!.id);
  assert.ok((rec.metrics!.dev as { accuracy: number }).accuracy > 0.8);
  assert.match(readFileSync(join(o.runDir, 'log.txt'), 'utf8'), /train \d+, dev \d+, test \d+ rows/);
});

test('a parameter the schema rejects is reported at its place in mlloop.json, before any run', async () => {
  const dir = irisProject({ bad: { model: 'logistic', params: { l2: -1 } } });
  await assert.rejects(
    trainExperiment({ projectDir: dir, experimentName: 'bad' }),
    /mlloop\.json:\d+:\d+: error: experiments\.bad\.params\.l2 must be >= 0/,
  );
  const { code, err } = await cli(['--experiment', 'bad'], dir);
  assert.equal(code, 1);
  assert.match(err, /params\.l2 must be >= 0/);
  assert.ok(!existsSync(join(dir, '.mlloop', 'runs')), 'no run folder');
});

test('an unknown experiment is an error, not a run', async () => {
  const dir = irisProject({ lr: { model: 'logistic' } });
  await assert.rejects(trainExperiment({ projectDir: dir, experimentName: 'nope' }), /No experiment "nope".*lr/);
});

test('ml-loop train --json prints runId, status, metrics per split and the model path', async () => {
  const dir = irisProject({ trees: { model: 'gbdt', params: { iterations: 20 } } });
  const { code, out, err } = await cli([dir, '--experiment', 'trees', '--json'], '/');
  assert.equal(code, 0, err);
  assert.equal(err, '', 'no progress on stderr with --json');
  const doc = JSON.parse(out);
  assert.deepEqual(Object.keys(doc), ['runId', 'status', 'metrics', 'model']);
  assert.equal(doc.status, 'completed');
  for (const split of ['train', 'dev', 'test']) assert.equal(typeof doc.metrics[split].accuracy, 'number');
  assert.ok(existsSync(doc.model) && doc.model.endsWith(join(doc.runId, 'model.onnx')));
});

test('ml-loop train without --json writes progress to stderr and a summary to stdout; failures exit 1', async () => {
  const dir = irisProject({ lr: { model: 'logistic', params: { maxIter: 30 } }, one: { model: 'linear' } });
  const ok = await cli(['--experiment', 'lr'], dir);
  assert.equal(ok.code, 0);
  assert.match(ok.err, /step \d+\/30 {2}train loss/);
  assert.match(ok.out, /^completed: run \S+\ntrain: accuracy/);
  const wrongTask = await cli(['--experiment', 'one', '--json'], dir);
  assert.equal(wrongTask.code, 1);
  assert.equal(JSON.parse(wrongTask.out).status, 'failed');
  assert.equal((await cli([dir], '/')).code, 2, 'missing --experiment');
});

test('ml-loop train --json completes every experiment of every sample project (copied to a temp dir)', async () => {
  const examples = join(__dirname, '..', '..', '..', 'examples');
  const names = readdirSync(examples).filter((d) => existsSync(join(examples, d, 'mlloop.json')));
  assert.ok(names.length >= 2);
  const models = new Set<string>();
  for (const name of names) {
    const dir = join(mkdtempSync(join(tmpdir(), 'mlloop-example-')), name);
    cpSync(join(examples, name), dir, { recursive: true, filter: (src) => !src.includes('.mlloop') });
    const { spec } = await resolveProject(dir);
    for (const [exp, e] of Object.entries(spec.experiments)) {
      if (isScriptExperiment(e)) continue;
      const { code, out, err } = await cli([dir, '--experiment', exp, '--json'], '/');
      assert.equal(code, 0, `${name}/${exp}: ${err}${out}`);
      const doc = JSON.parse(out);
      assert.equal(doc.status, 'completed');
      assert.ok(existsSync(doc.model));
      const key = spec.task === 'classification' ? 'accuracy' : 'rmse';
      for (const split of ['train', 'dev'])
        assert.equal(typeof doc.metrics[split][key], 'number', `${name}/${exp} ${split}`);
      models.add(`${e.model}:${spec.task}`);
    }
  }
  console.log(`trained: ${[...models].sort().join(', ')}`);
});

test('a project whose data cannot be loaded (wrong target) records no failed run: the reason is thrown', async () => {
  const dir = irisProject({ lr: { model: 'logistic' } });
  writeFileSync(
    join(dir, 'mlloop.json'),
    readFileSync(join(dir, 'mlloop.json'), 'utf8').replace('"target": "species"', '"target": "specie"'),
  );
  await assert.rejects(trainExperiment({ projectDir: dir, experimentName: 'lr' }), /no column "specie"/);
  assert.deepEqual(existsSync(join(dir, '.mlloop', 'runs')) ? readdirSync(join(dir, '.mlloop', 'runs')) : [], []);
  // The run is named in the CLI's error, not recorded.
  const r = await cli(['--experiment', 'lr'], dir);
  assert.notEqual(r.code, 0);
  assert.match(r.err, /no column "specie"/);
});

test('the run records its split sizes (the diagnosis gives dev/test errors their intervals from them)', async () => {
  const dir = irisProject({ lr: { model: 'logistic' } });
  const o = await trainExperiment({ projectDir: dir, experimentName: 'lr' });
  const rows = readRun(dir, o.runId).rows!;
  assert.equal(rows.train + rows.dev + rows.test, 150);
  assert.ok(rows.dev > 0 && rows.test > 0);
});

test('a GBDT run reports its curve while it trains (the Training panel grows live for every model kind)', async () => {
  const dir = irisProject({ gbdt: { model: 'gbdt', params: { iterations: 60, minSamplesLeaf: 5 } } });
  const statusAtEvent: string[] = [];
  let runDir = '';
  const o = await trainExperiment({
    projectDir: dir,
    experimentName: 'gbdt',
    onRunCreated: (_id, d) => (runDir = d),
    onProgress: () => statusAtEvent.push(JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')).status),
  });
  assert.equal(o.status, 'completed', o.error?.message);
  assert.ok(statusAtEvent.length >= 2, `${statusAtEvent.length} progress events`);
  assert.equal(statusAtEvent[0], 'running', 'the first point arrives while the run is still training');
});

test('a second train on the same data reads the split from the dataset cache and gives the same metrics; log.txt times each stage', async () => {
  const dir = irisProject({ gbdt: { model: 'gbdt', params: { iterations: 20, minSamplesLeaf: 5 } } });
  const first = await trainExperiment({ projectDir: dir, experimentName: 'gbdt' });
  const second = await trainExperiment({ projectDir: dir, experimentName: 'gbdt' });
  assert.equal(first.status, 'completed', first.error?.message);
  assert.equal(second.status, 'completed', second.error?.message);
  const log = (o: typeof first) => readFileSync(join(o.runDir, 'log.txt'), 'utf8');
  assert.match(log(first), /train \d+, dev \d+, test \d+ rows \(parsed in \d+ ms\)/);
  assert.match(log(second), /train \d+, dev \d+, test \d+ rows \(read from the dataset cache in \d+ ms\)/);
  assert.match(
    log(second),
    /trained in \d+ ms; model \d+ bytes; evaluated on every split in \d+ ms, ONNX export \d+ ms, monitoring reference \d+ ms/,
  );
  assert.deepEqual(second.metrics, first.metrics);
  assert.deepEqual(readRun(dir, second.runId).dataVersion, readRun(dir, first.runId).dataVersion);
  assert.equal(
    readFileSync(join(second.runDir, 'reference.json'), 'utf8').replace(/"createdAt":"[^"]*"/, ''),
    readFileSync(join(first.runDir, 'reference.json'), 'utf8').replace(/"createdAt":"[^"]*"/, ''),
  );
});
