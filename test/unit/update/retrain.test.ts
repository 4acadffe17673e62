// Retrain with Production Data: labelled production examples from a consented request log joined to
// feedback (bad records counted and skipped), a new data version from them, the experiment trained on
// it, and both models compared on the same evaluation sets (the gate's input).
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../src/cli/main';
import { loadSplitDataset } from '../../../src/core/data/dataset';
import type { SplitDataset } from '../../../src/core/data/types';
import { loadDataVersion, readRecipe } from '../../../src/core/data/dataVersions';
import { RequestLog } from '../../../src/core/requestLog/log';
import { trainExperiment } from '../../../src/core/experiment/trainExperiment';
import { readProductionExamples } from '../../../src/core/update/productionData';
import {
  HOLDOUT_FILE,
  PROMOTION_FILE,
  isHeldOut,
  readHoldout,
  retrainWithProductionData,
  splitHoldout,
} from '../../../src/core/update/retrain';
import { deploymentDir, versionsDir } from '../../../src/core/spec/layout';

const EXAMPLES = join(__dirname, '..', '..', '..', 'examples');
const iris = mkdtempSync(join(tmpdir(), 'mlloop-retrain-iris-'));
let base: SplitDataset;
let productionRun: string;

before(async () => {
  cpSync(join(EXAMPLES, 'iris'), iris, { recursive: true });
  rmSync(join(iris, '.mlloop'), { recursive: true, force: true });
  base = await loadSplitDataset(iris);
  const out = await trainExperiment({ projectDir: iris, experimentName: 'logistic' });
  assert.equal(out.status, 'completed');
  productionRun = out.runId;
});

const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];

function instance(ds: SplitDataset, split: 'train' | 'dev' | 'test', i: number, shift = 0): Record<string, number> {
  const F = FEATURES.length;
  return Object.fromEntries(
    FEATURES.map((f, j) => [f, ds[split].features.numeric[i * F + j] + (f === 'petal_length' ? shift : 0)]),
  );
}

function writeLog(dir: string, records: Array<{ id: string; inputs: unknown; status?: number }>): void {
  const log = new RequestLog({ dir, flushIntervalMs: 60_000 });
  for (const r of records)
    log.append({
      time: new Date().toISOString(),
      id: r.id,
      model: 'iris',
      version: '1',
      status: r.status ?? 200,
      inputs: r.inputs,
      outputs: [{ label: 'setosa' }],
      latency_ms: 0.3,
    });
  log.close();
}

function writeFeedback(dir: string, items: Array<{ id: string; label: unknown }>): void {
  mkdirSync(dir, { recursive: true });
  appendFileSync(
    join(dir, 'feedback-20260101T000000-0000.jsonl'),
    items.map((f) => JSON.stringify({ time: new Date().toISOString(), ...f })).join('\n') + '\n',
  );
}

test('labelled production examples: joined by request id, deduplicated, every bad record counted and skipped', async () => {
  const dir = join(tmpdir(), `mlloop-prod-${process.pid}-a`);
  rmSync(dir, { recursive: true, force: true });
  const a = instance(base, 'test', 0);
  const b = instance(base, 'test', 1);
  writeLog(dir, [
    { id: 'r1', inputs: [a] },
    { id: 'r2', inputs: [a] }, // same content and label as r1: a duplicate
    { id: 'r3', inputs: { features: Object.values(b) } }, // /infer form, flat data
    { id: 'r4', inputs: [a, b] }, // several instances: one label cannot cover them
    { id: 'r5', inputs: [{ x: 1, y: 2 }] }, // an older model version's inputs
    { id: 'r6', inputs: [{ ...a, petal_width: '[redacted]' }] },
    { id: 'r7', inputs: [a], status: 400 },
    { id: 'r8', inputs: [b] }, // labelled with a class the model does not know
    { id: 'r9', inputs: [b] }, // never labelled
  ]);
  // A crash mid-write leaves a truncated last line.
  const logs = readFileSync(join(dir, readdirOne(dir, 'requests-')), 'utf8');
  writeFileSync(join(dir, readdirOne(dir, 'requests-')), logs + '{"time":"2026-01-01T00:00:00Z","id":"r10","inp');
  const label0 = base.schema.classes![base.test.y[0]];
  const label1 = base.schema.classes![base.test.y[1]];
  writeFeedback(dir, [
    { id: 'r1', label: label0 },
    { id: 'r2', label: label0 },
    { id: 'r3', label: 'virginica-ish' },
    { id: 'r3', label: label1 }, // a corrected label: the last one wins
    { id: 'r4', label: label0 },
    { id: 'r5', label: label0 },
    { id: 'r6', label: label0 },
    { id: 'r7', label: label0 },
    { id: 'r8', label: 'tulip' },
    { id: 'nobody', label: label0 },
  ]);
  appendFileSync(join(dir, 'feedback-20260101T000000-0000.jsonl'), '{"id": "r1", "lab\n');
  const prod = await readProductionExamples(dir, base.schema);
  assert.equal(prod.requests, 9);
  assert.equal(prod.feedback, 10);
  assert.equal(prod.labelled, 3);
  assert.equal(prod.duplicates, 1);
  assert.deepEqual(prod.requestIds, ['r1', 'r3']);
  assert.equal(prod.rows.features.n, 2);
  assert.deepEqual([...prod.rows.y], [base.test.y[0], base.test.y[1]]);
  assert.deepEqual(
    [...prod.rows.features.numeric],
    [...Object.values(a), ...Object.values(b)].map((v) => Math.fround(v)),
  );
  assert.deepEqual(prod.skipped, {
    'corrupt line': 2,
    'several instances': 1,
    'inputs of another shape': 1,
    'redacted inputs': 1,
    'failed request': 1,
    'label not a class': 1,
    'feedback for unknown request': 1,
  });
  assert.notEqual(prod.rows.ids[0], prod.rows.ids[1]);
});

test('requests of several rows: every row labelled by the feedback label array counts; single-row requests as before', async () => {
  const dir = join(tmpdir(), `mlloop-prod-${process.pid}-rows`);
  rmSync(dir, { recursive: true, force: true });
  // Three test examples of three classes, so that the same content with another label is another example.
  const at = [0, 1, 2].map((k) => [...base.test.y].indexOf(k));
  const [a, b, c] = at.map((i) => instance(base, 'test', i));
  const cls = (k: number) => base.schema.classes![k];
  writeLog(dir, [
    { id: 'batch', inputs: [a, b, c] }, // /predict, three rows, one label per row
    { id: 'tensor', inputs: { features: [Object.values(c), Object.values(b)] } }, // /infer [2, F]: the second row repeats batch#1
    { id: 'short', inputs: [a, b] }, // an array of another length: skipped once
    { id: 'one', inputs: [b] }, // a single row labelled with a one-element array
    { id: 'single', inputs: [c] }, // a single row and a plain label: unchanged
    { id: 'bad-row', inputs: [a, b] }, // one row's label is not a class: only that row is skipped
  ]);
  writeFeedback(dir, [
    { id: 'batch', label: [cls(0), cls(1), cls(2)] },
    { id: 'tensor', label: [cls(0), cls(1)] },
    { id: 'short', label: [cls(0)] },
    { id: 'one', label: [cls(0)] },
    { id: 'single', label: cls(1) },
    { id: 'bad-row', label: ['tulip', cls(2)] },
  ]);
  const prod = await readProductionExamples(dir, base.schema);
  assert.equal(prod.requests, 6);
  assert.deepEqual(prod.requestIds, ['batch#0', 'batch#1', 'batch#2', 'tensor#0', 'one', 'single', 'bad-row#1']);
  assert.equal(prod.labelled, 8, 'three batch rows, two tensor rows, one, single, one row of bad-row');
  assert.equal(prod.duplicates, 1, 'tensor#1 is batch#1 with the same label');
  assert.deepEqual([...prod.rows.y], [0, 1, 2, 0, 0, 1, 2]);
  const F = FEATURES.length;
  assert.deepEqual(
    [...prod.rows.features.numeric.subarray(3 * F, 4 * F)],
    Object.values(c).map((v) => Math.fround(v)),
    'tensor#0 holds the first [N, F] row',
  );
  assert.deepEqual(prod.skipped, { 'labels do not match the rows': 1, 'label not a class': 1 });
  // Each row's unlabelled id is its content without the label: what a review-queue item had before its feedback.
  assert.equal(prod.unlabelledIds.length, 7);
  // Rows 2, 3 and 5 are example c with three labels (three example ids), rows 1, 4 and 6 example b.
  assert.equal(new Set(prod.rows.ids).size, 7);
  assert.deepEqual(
    [2, 3, 5].map((i) => prod.unlabelledIds[i]),
    Array(3).fill(prod.unlabelledIds[2]),
  );
  assert.deepEqual(
    [1, 4, 6].map((i) => prod.unlabelledIds[i]),
    Array(3).fill(prod.unlabelledIds[1]),
  );
  assert.notEqual(prod.unlabelledIds[0], prod.rows.ids[0]);
});

test('a label sent to one row of a request (<id>#<k>, as the review queue names it) labels that row; it wins over the array', async () => {
  const dir = join(tmpdir(), `mlloop-prod-${process.pid}-row-ids`);
  rmSync(dir, { recursive: true, force: true });
  const at = [0, 1, 2].map((k) => [...base.test.y].indexOf(k));
  const [a, b, c] = at.map((i) => instance(base, 'test', i));
  const cls = (k: number) => base.schema.classes![k];
  writeLog(dir, [
    { id: 'batch', inputs: [a, b, c] },
    { id: 'mixed', inputs: [b, c] },
    { id: 'odd#1', inputs: [a] }, // a single-row request whose own id looks like a row reference
    { id: 'failed', inputs: [a, b], status: 500 },
  ]);
  writeFeedback(dir, [
    { id: 'batch#2', label: cls(2) }, // only row 2 of batch
    { id: 'batch#0', label: cls(0) },
    { id: 'mixed', label: [cls(1), cls(1)] },
    { id: 'mixed#0', label: cls(0) }, // row 0's own label wins over the array's
    { id: 'odd#1', label: cls(1) },
    { id: 'failed#1', label: cls(1) },
    { id: 'batch#7', label: cls(1) }, // no such row: labels nothing
    { id: 'ghost#0', label: cls(0) },
  ]);
  const prod = await readProductionExamples(dir, base.schema);
  assert.deepEqual(prod.requestIds, ['batch#0', 'batch#2', 'mixed#0', 'mixed#1', 'odd#1']);
  assert.deepEqual([...prod.rows.y], [0, 2, 0, 1, 1]);
  assert.deepEqual(
    prod.skipped,
    { 'failed request': 1, 'feedback for unknown request': 1 },
    'ghost#0 is unknown; batch#7 names a logged request',
  );
});

function readdirOne(dir: string, prefix: string): string {
  return readdirSync(dir).find((f) => f.startsWith(prefix) && f.endsWith('.jsonl'))!;
}

test('the held-out split is stable per example id and never leaves a side empty', () => {
  const rows = { ...base.train, ids: base.train.ids };
  const a = splitHoldout(rows, 0.3, 4, 0);
  const b = splitHoldout(rows, 0.3, 4, 0);
  assert.deepEqual(a.heldOut.ids, b.heldOut.ids);
  assert.equal(a.train.features.n + a.heldOut.features.n, rows.features.n);
  for (const id of a.heldOut.ids) assert.ok(isHeldOut(id, 0.3));
  for (const id of a.train.ids) assert.ok(!isHeldOut(id, 0.3));
  const share = a.heldOut.features.n / rows.features.n;
  assert.ok(share > 0.15 && share < 0.45, `held-out share ${share}`);
  const two = { ...rows, features: { ...rows.features, n: 2 }, ids: rows.ids.slice(0, 2) };
  const s = splitHoldout(two, 0.3, 4, 0);
  assert.equal(s.train.features.n, 1);
  assert.equal(s.heldOut.features.n, 1);
});

test('retrain with production data: a new data version with the labelled requests, a trained run, both models on the same sets', async () => {
  const dir = deploymentDir(iris, 'iris');
  // Production drifted: petal_length arrives 2.5 cm longer. Every test example is sent (twice: duplicates) and labelled.
  const n = base.test.features.n;
  const records = [];
  const labels = [];
  for (let i = 0; i < n; i++) {
    for (const copy of [0, 1]) {
      records.push({ id: `q${i}-${copy}`, inputs: [instance(base, 'test', i, 2.5)] });
      labels.push({ id: `q${i}-${copy}`, label: base.schema.classes![base.test.y[i]] });
    }
  }
  writeLog(dir, records);
  writeFeedback(dir, labels);
  const steps: string[] = [];
  const result = await retrainWithProductionData({
    projectDir: iris,
    deployment: 'iris',
    productionRun,
    onStep: (m) => steps.push(m),
  });
  assert.equal(result.candidateStatus, 'completed', result.error);
  assert.equal(result.production.requests, 2 * n);
  assert.equal(result.production.labelled, 2 * n);
  assert.equal(result.production.duplicates, n);
  assert.equal(result.production.train + result.production.heldOut, n);
  assert.ok(result.production.heldOut > 0 && result.production.train > 0);
  // The new data version: the production run's data plus the training part of the production examples.
  const recipe = await readRecipe(iris, result.dataVersion);
  assert.equal(recipe?.parent, base.version.id);
  assert.equal(recipe?.details.source, 'production');
  const v = await loadDataVersion(iris, result.dataVersion);
  assert.equal(v.train.features.n, base.train.features.n + result.production.train);
  assert.deepEqual(v.dev.ids, base.dev.ids);
  assert.ok(existsSync(join(versionsDir(iris), result.dataVersion, HOLDOUT_FILE)));
  const held = await readHoldout(iris, base, result.dataVersion);
  assert.equal(held.features.n, result.production.heldOut);
  // The candidate run trained on it.
  const runRecord = JSON.parse(readFileSync(join(iris, '.mlloop', 'runs', result.candidateRunId, 'run.json'), 'utf8'));
  assert.equal(runRecord.dataVersion.id, result.dataVersion);
  // Same evaluation sets for both models: dev (all of it) and the held-out production examples.
  const c = result.comparison!;
  assert.equal(c.metric, 'accuracy');
  const overall = c.groups.filter((g) => g.kind === 'overall');
  assert.deepEqual(
    overall.map((g) => [g.set, g.support]),
    [
      ['dev', base.dev.features.n],
      ['production', result.production.heldOut],
    ],
  );
  const prodSet = overall.find((g) => g.set === 'production')!;
  // The production model never saw the shift; the candidate learned it.
  assert.ok(
    prodSet.candidate > prodSet.production,
    `candidate ${prodSet.candidate} vs production ${prodSet.production} on held-out production data`,
  );
  const saved = JSON.parse(readFileSync(join(iris, '.mlloop', 'runs', result.candidateRunId, PROMOTION_FILE), 'utf8'));
  assert.deepEqual(saved.comparison.groups.length, c.groups.length);
  assert.ok(steps.some((s) => s.includes('held out')));
});

test('retrain refuses a deployment without logs or without labels, saying what to do', async () => {
  await assert.rejects(
    retrainWithProductionData({ projectDir: iris, deployment: 'never-logged', productionRun }),
    /No logged requests .*logRequests/,
  );
  const dir = deploymentDir(iris, 'unlabelled');
  writeLog(dir, [{ id: 'u1', inputs: [instance(base, 'test', 0)] }]);
  await assert.rejects(
    retrainWithProductionData({ projectDir: iris, deployment: 'unlabelled', productionRun }),
    /usable feedback label.*feedback/,
  );
});

test('ml-loop retrain: the text table and --json; usage errors exit 2', async () => {
  const dir = deploymentDir(iris, 'cli');
  const n = base.test.features.n;
  writeLog(
    dir,
    Array.from({ length: n }, (_, i) => ({ id: `c${i}`, inputs: [instance(base, 'test', i)] })),
  );
  writeFeedback(
    dir,
    Array.from({ length: n }, (_, i) => ({ id: `c${i}`, label: base.schema.classes![base.test.y[i]] })),
  );
  const run = async (args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(args, { out: (t) => out.push(t), err: (t) => err.push(t), cwd: iris });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  const json = await run([
    'retrain',
    '--deployment',
    'cli',
    '--production-run',
    productionRun,
    '--margin',
    '0.5',
    '--json',
  ]);
  assert.equal(json.code, 0, json.err);
  const r = JSON.parse(json.out);
  assert.equal(r.production.labelled, n);
  assert.equal(r.comparison.margin, 0.5);
  assert.match(json.err, /step training logistic on data version/);
  const text = await run(['retrain', '--deployment', 'cli', '--production-run', productionRun, '--experiment', 'gbdt']);
  assert.equal(text.code, 0, text.err);
  assert.match(text.out, /Data version \w+: \+\d+ production examples in training, \d+ held out/);
  assert.match(text.out, /All examples\s+dev\s+30/);
  assert.match(text.out, /Gate: /);
  assert.equal((await run(['retrain', '--deployment', 'cli'])).code, 2);
  assert.equal(
    (await run(['retrain', '--deployment', 'cli', '--production-run', productionRun, '--holdout', '2'])).code,
    2,
  );
});
