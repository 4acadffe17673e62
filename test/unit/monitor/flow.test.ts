// The monitoring flow on the digits sample: train (reference.json written with the run), serve with
// request logging, send dev examples (no drift), send shifted examples (drift on the shifted pixels),
// send feedback (live accuracy), and `ml-loop drift` exit codes — all through the real server and log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainExperiment } from '../../../src/core/experiment/trainExperiment';
import { loadSplitDataset } from '../../../src/core/data/dataset';
import type { SplitDataset } from '../../../src/core/data/types';
import { InferenceServer } from '../../../src/core/serve/server';
import { monitorDeployment, readReference, runReference } from '../../../src/core/monitor';
import { runCli } from '../../../src/cli/main';
import type { CliIO } from '../../../src/cli/command';
import { deploymentDir } from '../../../src/core/spec/layout';

const EXAMPLE = join(__dirname, '..', '..', '..', 'examples', 'digits');
let project: string;
let runId: string;
let runDir: string;
let dataset: SplitDataset;
let server: InferenceServer;
let logDir: string;
/** Pixels shifted in the "drifted" traffic (40 of 64). */
const SHIFTED = Array.from({ length: 40 }, (_, i) => `px${i + 12}`);

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = { out: (t) => out.push(t), err: (t) => err.push(t), cwd: project };
  const code = await runCli(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

function instance(rows: SplitDataset['dev'], i: number, shift = 0): Record<string, number> {
  const names = dataset.schema.numeric;
  const F = names.length;
  return Object.fromEntries(
    names.map((f, j) => [
      f,
      Math.min(16, rows.features.numeric[i * F + j] + (shift && SHIFTED.includes(f) ? shift : 0)),
    ]),
  );
}

async function predict(inst: Record<string, number>): Promise<string> {
  const res = await fetch(`${server.url}/v2/models/digits/predict`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ instances: [inst] }),
  });
  assert.equal(res.status, 200);
  const id = res.headers.get('x-request-id');
  assert.ok(id, 'a logged request names its id in X-Request-Id');
  await res.json();
  return id;
}

async function postFeedback(body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.url}/v2/models/digits/feedback`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

before(async () => {
  project = mkdtempSync(join(tmpdir(), 'mlloop-monitor-'));
  cpSync(EXAMPLE, project, { recursive: true, filter: (src) => !src.includes('.mlloop') });
  const outcome = await trainExperiment({ projectDir: project, experimentName: 'softmax' });
  assert.equal(outcome.status, 'completed');
  runId = outcome.runId;
  runDir = outcome.runDir;
  dataset = await loadSplitDataset(project);
  logDir = deploymentDir(project, 'digits');
  server = new InferenceServer({
    port: 0,
    processMetrics: false,
    name: 'digits',
    requestLog: { dir: logDir, flushIntervalMs: 20 },
  });
  await server.registry.addVersion('digits', { path: outcome.model!, runId }, { alias: 'production' });
  await server.listen();
});

after(async () => {
  await server?.close();
  rmSync(project, { recursive: true, force: true });
});

test('a built-in run stores its reference (training statistics, dev predictions and score) beside run.json', () => {
  const ref = readReference(runDir);
  assert.ok(ref, 'reference.json written');
  assert.equal(ref.source, 'training');
  assert.equal(ref.rows, dataset.train.features.n);
  assert.equal(ref.features.length, 64);
  const px20 = ref.features.find((f) => f.name === 'px20');
  assert.ok(px20 && px20.kind === 'numeric');
  assert.equal(
    px20.weights.reduce((a, b) => a + b, 0),
    px20.count,
  );
  // The reference's points are the training values: its mean is the training column's mean.
  const F = 64;
  const j = dataset.schema.numeric.indexOf('px20');
  let s = 0;
  for (let i = 0; i < dataset.train.features.n; i++) s += dataset.train.features.numeric[i * F + j];
  assert.ok(Math.abs(px20.mean - s / dataset.train.features.n) < 1e-9);
  assert.equal(ref.predictions?.kind, 'classes');
  assert.equal(
    Object.values(ref.predictions!.classes!).reduce((a, b) => a + b, 0),
    dataset.dev.features.n,
  );
  assert.equal(ref.devScore?.metric, 'accuracy');
  assert.ok(ref.devScore!.value > 0.9);
});

test('dev traffic: no dataset drift; feedback labels give live accuracy equal to the dev accuracy of those rows', async () => {
  const ids: string[] = [];
  const dev = dataset.dev;
  for (let i = 0; i < dev.features.n; i++) ids.push(await predict(instance(dev, i)));
  // Labels for every dev request: half one by one, half in the array form.
  const classes = dataset.schema.classes!;
  const half = Math.floor(ids.length / 2);
  for (let i = 0; i < half; i++)
    assert.deepEqual(await postFeedback({ id: ids[i], label: classes[dev.y[i]] }), {
      status: 200,
      body: { accepted: 1 },
    });
  const rest = ids.slice(half).map((id, k) => ({ id, label: classes[dev.y[half + k]] }));
  assert.deepEqual(await postFeedback({ feedback: rest }), { status: 200, body: { accepted: rest.length } });
  // Feedback for an id that was never logged is accepted (it may arrive before the log flush) and reported by monitoring.
  assert.equal((await postFeedback({ id: 'nope-1', label: classes[0] })).status, 200);
  // Bad feedback: 4xx with what was expected.
  assert.equal((await postFeedback({ id: ids[0], label: 'eleven' })).status, 400);
  assert.equal((await postFeedback({ label: classes[0] })).status, 400);
  assert.equal((await postFeedback([1, 2])).status, 400);
  server.log!.flush();
  const files = readdirSync(logDir);
  assert.ok(files.some((f) => f.startsWith('feedback-') && f.endsWith('.jsonl')));
  assert.ok(
    files.some((f) => f.endsWith('.cols')),
    'the columnar log is written beside the JSON Lines',
  );

  const r = await monitorDeployment({ logDir, window: dev.features.n });
  assert.equal(r.reader, 'columnar');
  assert.equal(r.model, 'digits');
  assert.equal(r.runId, runId);
  assert.equal(r.window.requests, dev.features.n);
  assert.equal(r.window.rows, dev.features.n);
  assert.equal(
    r.dataset.drift,
    false,
    `dev traffic drifted: ${r.features
      .filter((f) => f.drifted)
      .map((f) => f.name)
      .join(', ')}`,
  );
  assert.ok(r.dataset.share < 0.2);
  assert.equal(r.features.length, 64);
  assert.equal(r.features[0].test, 'ks', 'windows of at most 1000 values use KS');
  assert.equal(r.prediction?.drifted, false);
  // Live accuracy: every dev row is labelled; it equals the run's dev accuracy (same rows, same model).
  assert.ok(r.live);
  assert.equal(r.live.labelled, dev.features.n);
  const devAcc = readReference(runDir)!.devScore!.value;
  assert.ok(Math.abs(r.live.value - devAcc) < 1e-9, `live ${r.live.value} vs dev ${devAcc}`);
  assert.ok(Math.abs(r.live.change!) < 1e-9);
  assert.ok(r.estimated && r.estimated.estimate === true && r.estimated.method === 'cbpe');
  assert.ok(r.estimated.value > 0.5 && r.estimated.value <= 1);
  assert.equal(r.operational.requests, dev.features.n);
  assert.equal(r.operational.errors, 0);
  assert.ok(r.operational.p50 > 0 && r.operational.p99 >= r.operational.p50);
  assert.ok(r.issues.some((i) => i.kind === 'unknown-feedback' && i.count === 1));

  const c = await cli(['drift', '--deployment', 'digits', '--window', String(dev.features.n)]);
  assert.equal(c.code, 0, c.out + c.err);
  assert.match(c.out, /live accuracy/);
});

test('shifted traffic: the shifted pixels drift, the dataset drifts, `ml-loop drift` exits 3; the JSON Lines reader agrees', async () => {
  const dev = dataset.dev;
  const n = 300;
  for (let i = 0; i < n; i++) await predict(instance(dev, i % dev.features.n, 6));
  server.log!.flush();
  const r = await monitorDeployment({ logDir, window: n });
  assert.equal(r.window.requests, n);
  assert.equal(r.dataset.drift, true);
  const drifted = new Set(r.features.filter((f) => f.drifted).map((f) => f.name));
  // Pixels that are 0 everywhere stay 0 only if never shifted: every shifted pixel with training variance drifts.
  const ref = readReference(runDir)!;
  for (const f of SHIFTED) {
    const fr = ref.features.find((x) => x.name === f)!;
    if (fr.kind === 'numeric' && fr.std > 0.5) assert.ok(drifted.has(f), `${f} should drift`);
  }
  for (const f of drifted) assert.ok(SHIFTED.includes(f), `${f} drifted but was not shifted`);
  // Worst first.
  for (let i = 1; i < r.features.length; i++) assert.ok(r.features[i - 1].score >= r.features[i].score);
  const c = await cli(['drift', '--deployment', 'digits', '--window', String(n), '--json']);
  assert.equal(c.code, 3);
  const parsed = JSON.parse(c.out);
  assert.equal(parsed.drift, true);

  // The same window from the JSON Lines only (no columnar files): the same statistics.
  const jsonlOnly = mkdtempSync(join(tmpdir(), 'mlloop-monitor-jsonl-'));
  const copyDir = join(jsonlOnly, '.mlloop', 'deployments', 'digits');
  cpSync(logDir, copyDir, { recursive: true, filter: (src) => !src.endsWith('.cols') });
  const j = await monitorDeployment({ logDir: copyDir, projectDir: project, window: n });
  assert.equal(j.reader, 'jsonl');
  assert.equal(j.window.rows, n);
  const byName = new Map(r.features.map((f) => [f.name, f]));
  for (const f of j.features) {
    const g = byName.get(f.name)!;
    assert.ok(Math.abs(f.statistic - g.statistic) < 1e-6, `${f.name}: ${f.statistic} vs ${g.statistic}`);
  }
  rmSync(jsonlOnly, { recursive: true, force: true });
});

test('a run without reference.json: computed once from the project data, stored, and reported', async () => {
  rmSync(join(runDir, 'reference.json'));
  const r = await monitorDeployment({ logDir, window: 50 });
  assert.equal(r.reference.source, 'recomputed');
  assert.ok(r.issues.some((i) => i.kind === 'no-reference'));
  assert.ok(existsSync(join(runDir, 'reference.json')));
  const again = await runReference(project, runId);
  assert.equal(again.computed, false);
  assert.equal(again.reference.rows, dataset.train.features.n);
});

test('--reference CSV --current LOG.jsonl compares the requests with a CSV', async () => {
  const logs = readdirSync(logDir)
    .filter((f) => f.startsWith('requests-') && f.endsWith('.jsonl'))
    .map((f) => join(logDir, f));
  const c = await cli([
    'drift',
    '--reference',
    join(project, 'data', 'digits.csv'),
    '--current',
    ...logs.flatMap((f, i) => (i ? ['--current', f] : [f])),
    '--window',
    '300',
    '--json',
  ]);
  assert.equal(c.code, 3, c.err);
  const r = JSON.parse(c.out);
  assert.equal(r.reference.source, 'csv');
  assert.equal(r.features.length, 64, 'the target column (not an input) is left out');
  assert.equal(readFileSync(logs[0], 'utf8').length > 0, true);
});

test('usage errors exit 2', async () => {
  assert.equal((await cli(['drift'])).code, 2);
  assert.equal((await cli(['drift', '--deployment', 'nope'])).code, 2);
  assert.equal((await cli(['drift', '--reference', 'x.csv'])).code, 2);
  assert.equal((await cli(['drift', '--deployment', 'digits', '--window', 'many'])).code, 2);
});

test('live accuracy joins feedback sent to single rows of a request (<id>#<k>) and to the request as an array', async () => {
  const dev = dataset.dev;
  const classes = dataset.schema.classes!;
  const post = async (rows: number[]) => {
    const res = await fetch(`${server.url}/v2/models/digits/predict`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ instances: rows.map((i) => instance(dev, i)) }),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { predictions: Array<{ label: string }> };
    return { id: res.headers.get('x-request-id')!, predicted: body.predictions.map((p) => p.label) };
  };
  const a = await post([0, 1, 2, 3]);
  const b = await post([4, 5]);
  const truth = (i: number) => classes[dev.y[i]];
  const wrong = (label: string) => classes.find((c) => c !== label)!;
  // Rows 0, 1 and 3 of a by their own ids (row 3 given a wrong label), row 2 unlabelled; b as an array
  // whose row 1 is then corrected by its own id.
  const feedback = [
    { id: `${a.id}#0`, label: truth(0) },
    { id: `${a.id}#1`, label: truth(1) },
    { id: `${a.id}#3`, label: wrong(a.predicted[3]) },
    { id: b.id, label: [truth(4), wrong(b.predicted[1])] },
    { id: `${b.id}#1`, label: b.predicted[1] },
  ];
  assert.equal((await postFeedback({ feedback })).status, 200);
  server.log!.flush();
  const r = await monitorDeployment({ logDir, window: 2 });
  assert.equal(r.window.rows, 6);
  assert.ok(r.live);
  assert.equal(r.live.labelled, 5, 'rows 0, 1, 3 of a and both rows of b');
  const correct = [
    a.predicted[0] === truth(0),
    a.predicted[1] === truth(1),
    false,
    b.predicted[0] === truth(4),
    true,
  ].filter(Boolean).length;
  assert.ok(Math.abs(r.live.value - correct / 5) < 1e-12, `live ${r.live.value}, expected ${correct}/5`);
});
