// `ml-loop review` against a real server's log: an iris run served with logging, normal and shifted
// requests (petal length +3 cm), the monitoring report's drifted features decide which requests are
// queued; the queue file holds each example once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../src/cli/main';
import { loadSplitDataset } from '../../../src/core/data/dataset';
import type { SplitDataset } from '../../../src/core/data/types';
import { InferenceServer } from '../../../src/core/serve/server';
import { trainExperiment } from '../../../src/core/experiment/trainExperiment';
import { type ReviewResult } from '../../../src/core/update/reviewQueue';
import { REVIEW_QUEUE_FILE, deploymentDir } from '../../../src/core/spec/layout';

const project = mkdtempSync(join(tmpdir(), 'mlloop-review-cli-'));
let server: InferenceServer;
let data: SplitDataset;

before(async () => {
  cpSync(join(__dirname, '..', '..', '..', 'examples', 'iris'), project, { recursive: true, filter: (src) => !src.includes('.mlloop') });
  const out = await trainExperiment({ projectDir: project, experimentName: 'logistic' });
  assert.equal(out.status, 'completed');
  data = await loadSplitDataset(project);
  server = new InferenceServer({ port: 0, processMetrics: false, name: 'iris', requestLog: { dir: deploymentDir(project, 'iris'), flushIntervalMs: 20 } });
  await server.registry.addVersion('iris', { path: out.model!, runId: out.runId }, { alias: 'production' });
  await server.listen();
});

after(async () => {
  await server?.close();
  rmSync(project, { recursive: true, force: true });
});

async function send(rows: SplitDataset['train'], i: number, shift: number): Promise<void> {
  const F = data.schema.numeric.length;
  const inst = Object.fromEntries(data.schema.numeric.map((f, j) => [f, rows.features.numeric[i * F + j] + (f === 'petal_length' ? shift : 0)]));
  const res = await fetch(`${server.url}/v2/models/iris/predict`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Request-Id': `${shift ? 's' : 'n'}-${i}` }, body: JSON.stringify({ instances: [inst] }) });
  assert.equal(res.status, 200);
  await res.json();
}

test('ml-loop review queues the shifted requests (drifted petal_length beyond the training range), once', async () => {
  for (let i = 0; i < data.train.features.n; i++) await send(data.train, i, 0);
  for (let i = 0; i < 60; i++) await send(data.train, i, 3);
  server.log!.flush();
  const run = async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['review', '--deployment', 'iris', '--window', '120', '--low-confidence', '0', '--json'], { out: (t) => out.push(t), err: (t) => err.push(t), cwd: project });
    assert.equal(code, 0, err.join('\n'));
    return JSON.parse(out.join('\n')) as ReviewResult;
  };
  const r = await run();
  assert.ok(r.selected >= 30, `${r.selected} selected`);
  assert.ok(r.items.every((i) => i.reasons.includes('drift') && i.drift!.some((d) => d.startsWith('petal_length'))));
  const shiftedIds = r.items.filter((i) => i.requestId.startsWith('s-')).length;
  // Most queued requests are shifted ones; normal ones only where they share an over-represented range.
  assert.ok(shiftedIds / r.items.length > 0.7, `${shiftedIds} of ${r.items.length} queued are shifted requests`);
  const outside = r.items.filter((i) => i.drift!.some((d) => d.includes('outside the training range')));
  assert.ok(outside.length > 0);
  assert.ok(outside.every((i) => i.requestId.startsWith('s-')), 'only shifted requests lie outside the training range');
  // At most 50 queued, the most unusual, and the rest counted as left out.
  assert.equal(r.items.length, Math.min(50, r.selected));
  assert.equal(r.leftOut, r.selected - r.items.length);
  assert.ok(r.items.every((x, k) => k === 0 || (r.items[k - 1].unusual ?? 0) >= (x.unusual ?? 0)), 'most unusual first');
  assert.equal(r.added, r.items.length);
  const again = await run();
  assert.equal(again.added, 0);
  assert.equal(JSON.parse(readFileSync(join(project, REVIEW_QUEUE_FILE), 'utf8')).items.length, r.items.length);
  assert.equal((await runCli(['review'], { out: () => undefined, err: () => undefined, cwd: project })), 2);
});
