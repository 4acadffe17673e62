// Production requests queued for tagging: low-confidence ones and those whose drifted features take
// values outside the training range or in over-represented ranges; queue deduplicated by example id.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FeatureSchema } from '../../../src/core/data/types';
import { RequestLog } from '../../../src/core/requestLog/log';
import { withUnlabelledTags } from '../../../src/core/update/productionData';
import { driftReason, enqueueForReview, predictionOf, predictionsOf, productionQueueOf, readReviewQueue, selectForReview, type ReviewItem } from '../../../src/core/update/reviewQueue';
import { feature } from '../monitor/fixtures';
import { REVIEW_QUEUE_FILE } from '../../../src/core/spec/layout';

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

test('selects low-confidence and drifted requests, most unusual first, with their reasons', async () => {
  const dir = logDir();
  const items = await selectForReview({ logDir: dir, deployment: 'm', schema, features: drifted, lowConfidence: 0.6, window: 5 });
  // The window is the last 5 records: "ok" falls out of it, "old" is in it (0.9 for class y: confident).
  // Ranked by how unusual: beyond the training range first, then the unsure one, then the merely over-represented.
  assert.deepEqual(items.map((i) => [i.requestId, i.reasons]), [['outside', ['drift']], ['unsure', ['low-confidence']], ['shifted', ['drift']]]);
  assert.ok(items[0].unusual! > items[1].unusual! && items[1].unusual! > items[2].unusual!, items.map((i) => i.unusual).join(' > '));
  assert.equal(items[1].label, 'y');
  assert.equal(items[1].confidence, 0.55);
  assert.deepEqual(items[2].drift, ['a = 1.5 in an over-represented range']);
  assert.deepEqual(items[0].drift, ['a = 7 outside the training range']);
  assert.deepEqual(items[0].features, { a: 7, b: 0.5 });
  // A limit keeps the most unusual.
  assert.deepEqual((await selectForReview({ logDir: dir, deployment: 'm', schema, features: drifted, lowConfidence: 0.6, window: 5, limit: 1 })).map((i) => i.requestId), ['outside']);
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

test('each row of a request of several rows is judged on its own, with its own label from the feedback array or its row id', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlloop-review-rows-'));
  const log = new RequestLog({ dir, flushIntervalMs: 60_000 });
  const outputs = [0.95, 0.52, 0.4].map((p) => ({ label: p >= 0.5 ? 'x' : 'y', probabilities: { x: p, y: 1 - p } }));
  log.append({ time: 't1', id: 'batch', run: 'run-1', model: 'm', version: '1', status: 200, inputs: [{ a: 0.5, b: 0.1 }, { a: 0.5, b: 0.2 }, { a: 7, b: 0.3 }], outputs, latency_ms: 1 });
  // /infer tensors: [2, F] features, label and [2, C] probabilities.
  log.append({ time: 't2', id: 'tensor', model: 'm', version: '1', status: 200, inputs: { features: [[0.5, 0.4], [0.5, 0.6]] }, outputs: { label: ['x', 'y'], probabilities: [[0.9, 0.1], [0.45, 0.55]] }, latency_ms: 1 });
  log.close();
  // batch's labels as an array; tensor's row 1 by its own id, as the queue shows it.
  writeFileSync(join(dir, 'feedback-1.jsonl'), [{ time: 't', id: 'batch', label: ['x', 'y', 'x'] }, { time: 't', id: 'tensor#1', label: 'x' }].map((r) => JSON.stringify(r)).join('\n') + '\n');
  const items = await selectForReview({ logDir: dir, deployment: 'm', schema, features: drifted, lowConfidence: 0.6 });
  assert.deepEqual(
    items.map((i) => [i.requestId, i.row, i.reasons, i.label, i.confidence]),
    [
      ['batch', 2, ['drift'], 'x', 0.6],
      ['batch', 1, ['low-confidence'], 'y', 0.52],
      ['tensor', 1, ['low-confidence'], 'x', 0.55],
    ],
  );
  assert.equal(items[1].run, 'run-1');
  assert.deepEqual(items[2].features, { a: 0.5, b: 0.6 });
  assert.deepEqual(predictionsOf({ label: ['x', 'y'], probabilities: [[0.9, 0.1], [0.45, 0.55]] }, 2), [{ predicted: 'x', confidence: 0.9 }, { predicted: 'y', confidence: 0.55 }]);
  assert.deepEqual(predictionsOf({ prediction: [[1.5], [2.5]] }, 2), [{ predicted: 1.5 }, { predicted: 2.5 }]);
});

test('the queue as the Error Analysis panel lists it: the items of the model\'s schema with their values and labels', () => {
  const item = (id: string, features: ReviewItem['features'], extra: Partial<ReviewItem> = {}): ReviewItem => ({ id, requestId: `r-${id}`, deployment: 'm', time: 't', reasons: ['low-confidence'], features, ...extra });
  const queue = [
    item('p1', { a: 0.5, b: null }, { label: 'y', predicted: 'x', confidence: 0.55 }),
    item('p2', { a: 1, c: 2 }), // another model's features
    item('p3', { a: 2, b: 0.25 }, { row: 3 }),
    item('p4', { a: 'red', b: 1 }), // a string where a number is expected
    item('p5', { a: 1, b: 1 }, { label: 'tulip' }), // a label that is not a class
  ];
  const q = productionQueueOf(queue, schema);
  assert.deepEqual(q.items.map((i) => i.id), ['p1', 'p3', 'p5']);
  assert.equal(q.hidden, 2);
  assert.deepEqual(q.rows.ids, ['p1', 'p3', 'p5']);
  assert.equal(q.rows.features.n, 3);
  assert.deepEqual([...q.rows.features.numeric], [0.5, NaN, 2, 0.25, 1, 1]);
  assert.deepEqual([...q.rows.y], [1, NaN, NaN]);
  assert.deepEqual(q.refs, ['r-p1', 'r-p3#3', 'r-p5']);
});

test('tags given to a production example before its label came follow it once labelled', () => {
  const tags = { u1: ['glare'], l1: ['night'], u2: ['blurry'] };
  assert.deepEqual(withUnlabelledTags(tags, ['l1', 'l2', 'l3'], ['u1', 'u2', 'u3']), { u1: ['glare'], l1: ['glare', 'night'], u2: ['blurry'], l2: ['blurry'] });
});
