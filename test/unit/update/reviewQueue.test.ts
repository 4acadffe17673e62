// Production requests queued for tagging: low-confidence ones and those whose drifted features take
// values outside the training range or in over-represented ranges; queue deduplicated by example id.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FeatureSchema } from '../../../src/core/data/types';
import { RequestLog } from '../../../src/core/serve/requestLog';
import { REVIEW_QUEUE_FILE, driftReason, enqueueForReview, predictionOf, readReviewQueue, selectForReview } from '../../../src/core/update/reviewQueue';
import { feature } from '../watch/fixtures';

const schema: FeatureSchema = { task: 'classification', target: 'y', numeric: ['a', 'b'], categorical: [], classes: ['x', 'y'] };
// Feature a drifted: the window over-represents (1, 2] (0.6 vs 0.2 in training); training range [0, 3].
const drifted = [feature('a', { drifted: true, histogram: { edges: [0, 1, 2, 3], reference: [0.4, 0.2, 0.4], current: [0.2, 0.6, 0.2] } }), feature('b')];

function logDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mlloop-review-'));
  const log = new RequestLog({ dir, flushIntervalMs: 60_000 });
  const rec = (id: string, a: number, p: number, status = 200) =>
    log.append({ time: '2026-11-27T10:00:00.000Z', id, model: 'm', version: '1', status, inputs: [{ a, b: 0.5 }], outputs: [{ label: p >= 0.5 ? 'x' : 'y', probabilities: { x: p, y: 1 - p } }], latency_ms: 1 });
  rec('ok', 0.5, 0.95); // confident, a in a normal range
  rec('unsure', 0.5, 0.55); // low confidence
  rec('shifted', 1.5, 0.9); // a in the over-represented range
  rec('outside', 7, 0.99); // a beyond the training maximum
  rec('failed', 7, 0.1, 400); // failed requests are not reviewed
  rec('old', 0.2, 0.1);
  log.close();
  writeFileSync(join(dir, 'feedback-1.jsonl'), JSON.stringify({ time: 't', id: 'unsure', label: 'y' }) + '\n');
  return dir;
}

test('selects low-confidence and drifted requests, lowest confidence first, with their reasons', async () => {
  const dir = logDir();
  const items = await selectForReview({ logDir: dir, deployment: 'm', schema, features: drifted, lowConfidence: 0.6, window: 5 });
  // The window is the last 5 records: "ok" falls out of it, "old" is in it (0.9 for class y: confident).
  assert.deepEqual(items.map((i) => [i.requestId, i.reasons]), [['unsure', ['low-confidence']], ['shifted', ['drift']], ['outside', ['drift']]]);
  assert.equal(items[0].label, 'y');
  assert.equal(items[0].confidence, 0.55);
  assert.deepEqual(items[1].drift, ['a = 1.5 in an over-represented range']);
  assert.deepEqual(items[2].drift, ['a = 7 outside the training range']);
  assert.deepEqual(items[2].features, { a: 7, b: 0.5 });
  // Without a report only confidence counts.
  assert.deepEqual((await selectForReview({ logDir: dir, deployment: 'm', schema, lowConfidence: 0.6 })).map((i) => i.requestId), ['unsure']);
});

test('the queue file keeps each example once', async () => {
  const project = mkdtempSync(join(tmpdir(), 'mlloop-review-project-'));
  const items = await selectForReview({ logDir: logDir(), deployment: 'm', schema, features: drifted, window: 5 });
  const first = await enqueueForReview(project, items);
  assert.equal(first.added, 3);
  const again = await enqueueForReview(project, items);
  assert.equal(again.added, 0);
  assert.equal((await readReviewQueue(project)).length, 3);
  assert.equal(JSON.parse(readFileSync(join(project, REVIEW_QUEUE_FILE), 'utf8')).items.length, 3);
});

test('prediction and drift reasons of single values', () => {
  assert.deepEqual(predictionOf([{ label: 'x', probabilities: { x: 0.7, y: 0.3 } }]), { predicted: 'x', confidence: 0.7 });
  assert.deepEqual(predictionOf({ label: ['y'], probabilities: [[0.2, 0.8]] }), { predicted: 'y', confidence: 0.8 });
  assert.deepEqual(predictionOf([{ prediction: 3.5 }]), { predicted: 3.5 });
  const cat = feature('color', { kind: 'categorical', drifted: true, unseenCategories: { purple: 4 }, histogram: { categories: ['red', 'blue'], reference: [0.5, 0.5], current: [0.9, 0.1] } });
  assert.equal(driftReason(cat, 'purple'), 'color = purple never seen in training');
  assert.equal(driftReason(cat, 'red'), undefined, '0.9 is not twice 0.5');
  assert.equal(driftReason(drifted[0], 2.5), undefined);
  assert.equal(driftReason(drifted[0], -1), 'a = -1 outside the training range');
});
