// Monitoring a regression model with a categorical feature (the diabetes sample): live RMSE from
// numeric feedback equals the run's dev RMSE on the same rows, prediction drift on values, the
// categorical feature by chi-squared, unseen categories reported.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainExperiment } from '../../../src/core/experiment/trainExperiment';
import { loadSplitDataset } from '../../../src/core/data/dataset';
import type { SplitDataset } from '../../../src/core/data/types';
import { InferenceServer } from '../../../src/core/serve/server';
import { monitorDeployment } from '../../../src/core/monitor';
import { deploymentDir } from '../../../src/core/spec/layout';

let project: string;
let dataset: SplitDataset;
let server: InferenceServer;
let logDir: string;
let devRmse: number;

async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

function instance(i: number, sex?: string): Record<string, unknown> {
  const { numeric, categorical } = dataset.schema;
  const x = dataset.dev.features;
  return {
    ...Object.fromEntries(numeric.map((f, j) => [f, x.numeric[i * numeric.length + j]])),
    ...Object.fromEntries(categorical.map((f, j) => [f, sex ?? x.categories[i * categorical.length + j]])),
  };
}

before(async () => {
  project = mkdtempSync(join(tmpdir(), 'mlloop-monitor-reg-'));
  cpSync(join(__dirname, '..', '..', '..', 'examples', 'diabetes'), project, {
    recursive: true,
    filter: (src) => !src.includes('.mlloop'),
  });
  const o = await trainExperiment({ projectDir: project, experimentName: 'linear' });
  assert.equal(o.status, 'completed');
  devRmse = (o.metrics.dev as { rmse: number }).rmse;
  dataset = await loadSplitDataset(project);
  logDir = deploymentDir(project, 'diabetes');
  server = new InferenceServer({ port: 0, processMetrics: false, requestLog: { dir: logDir, flushIntervalMs: 20 } });
  await server.registry.addVersion('diabetes', { path: o.model!, runId: o.runId }, { alias: 'production' });
  await server.listen();
});

after(async () => {
  await server?.close();
  rmSync(project, { recursive: true, force: true });
});

test('live RMSE from feedback equals the dev RMSE; no drift on dev traffic; the categorical feature by chi-squared', async () => {
  const n = dataset.dev.features.n;
  for (let i = 0; i < n; i++) {
    const res = await post('/v2/models/diabetes/predict', { instances: [instance(i)] }, { 'x-request-id': `dev-${i}` });
    assert.equal(res.status, 200);
    await res.json();
  }
  const fb = await post('/v2/models/diabetes/feedback', {
    feedback: Array.from({ length: n }, (_, i) => ({ id: `dev-${i}`, label: dataset.dev.y[i] })),
  });
  assert.equal(fb.status, 200);
  assert.equal(
    (await post('/v2/models/diabetes/feedback', { id: 'dev-0', label: 'high' })).status,
    400,
    'a regression label must be a number',
  );
  server.log!.flush();
  const r = await monitorDeployment({ logDir, window: n });
  assert.equal(r.window.rows, n);
  assert.equal(r.live?.metric, 'rmse');
  assert.equal(r.live?.labelled, n);
  // The served model computes in float32: the same RMSE up to rounding.
  assert.ok(Math.abs(r.live!.value - devRmse) < 1e-3 * devRmse, `${r.live!.value} vs ${devRmse}`);
  assert.equal(r.estimated, undefined, 'no CBPE for regression');
  assert.equal(r.prediction?.kind, 'values');
  assert.equal(r.prediction?.drifted, false);
  assert.equal(r.dataset.drift, false);
  const sex = r.features.find((f) => f.name === 'sex')!;
  assert.equal(sex.kind, 'categorical');
  assert.equal(sex.test, 'chisquare');
  assert.deepEqual(sex.unseenCategories, {});
});

test('an unseen category drifts the categorical feature and is named', async () => {
  for (let i = 0; i < 40; i++)
    assert.equal((await post('/v2/models/diabetes/predict', { instances: [instance(i, '3')] })).status, 200);
  server.log!.flush();
  const r = await monitorDeployment({ logDir, window: 40 });
  const sex = r.features.find((f) => f.name === 'sex')!;
  assert.equal(sex.drifted, true);
  assert.deepEqual(sex.unseenCategories, { '3': 40 });
  assert.equal(r.features[0].name, 'sex', 'the worst feature first');
});
