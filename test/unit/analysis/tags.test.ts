// Tags and the tag table (Ng's error-analysis table) against a hand-built case; the store's file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ErrorTable } from '../../../src/core/analysis/errorTable';
import { buildErrorTable } from '../../../src/core/analysis/errorTable';
import {
  changedTags,
  readTags,
  tagNames,
  tagTable,
  tagsPath,
  updateTags,
  withHistory,
  withProductionCounts,
  withTag,
  writeTags,
} from '../../../src/core/analysis/tags';

/** 10 dev examples e0..e9; e0..e3 wrong (4 errors). */
function table(wrong: number[]): ErrorTable {
  const n = 10;
  const w = new Uint8Array(n);
  for (const i of wrong) w[i] = 1;
  return {
    task: 'classification',
    classes: ['a', 'b'],
    n,
    ids: Array.from({ length: n }, (_, i) => `e${i}`),
    truth: new Float64Array(n),
    predicted: Float64Array.from(w),
    confidence: new Float32Array(n).fill(0.9),
    loss: new Float32Array(n),
    wrong: w,
    errorCount: wrong.length,
  };
}

test('tag table: errors, share of all dev errors, error rate among tagged, sorted by errors', () => {
  const store = {
    e0: ['blurry'],
    e1: ['blurry', 'mislabeled'],
    e2: ['blurry'],
    e3: ['dark'],
    e5: ['blurry'],
    e6: ['dark'],
    e7: ['dark'],
    gone: ['blurry'],
  };
  const rows = tagTable(table([0, 1, 2, 3]), store);
  assert.deepEqual(
    rows.map((r) => [r.tag, r.errors, r.shareOfErrors, r.tagged, r.errorRate]),
    [
      ['blurry', 3, 3 / 4, 4, 3 / 4],
      ['dark', 1, 1 / 4, 3, 1 / 3],
      ['mislabeled', 1, 1 / 4, 1, 1],
    ],
  );
});

test('history: the same tags counted on an earlier run show the change', () => {
  const store = { e0: ['blurry'], e1: ['blurry'], e2: ['blurry'], e3: ['dark'] };
  const now = tagTable(table([0, 3]), store);
  const withEarlier = withHistory(now, [{ runId: 'r1', table: table([0, 1, 2, 3]) }], store);
  assert.deepEqual(withEarlier.find((r) => r.tag === 'blurry')!.history, [{ runId: 'r1', errors: 3 }]);
  assert.equal(withEarlier.find((r) => r.tag === 'blurry')!.errors, 1);
});

test('withTag adds and removes, trims, keeps several tags per example sorted and unique', () => {
  let s = withTag({}, ['a', 'b'], '  too   dark ');
  s = withTag(s, ['a'], 'blurry');
  s = withTag(s, ['a'], 'blurry');
  assert.deepEqual(s, { a: ['blurry', 'too dark'], b: ['too dark'] });
  s = withTag(s, ['b'], 'too dark', true);
  assert.deepEqual(s, { a: ['blurry', 'too dark'] });
  assert.deepEqual(withTag(s, ['a'], '   '), s, 'an empty tag changes nothing');
  assert.deepEqual(tagNames(s), [
    { tag: 'blurry', count: 1 },
    { tag: 'too dark', count: 1 },
  ]);
});

test("tags.json: per project, written atomically (no temp file left), read back; updates keep other writers' tags", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlloop-tags-'));
  assert.deepEqual(await readTags(dir), {});
  await writeTags(dir, { x: ['one'] });
  await updateTags(dir, ['y', 'x'], 'two');
  assert.deepEqual(await readTags(dir), { x: ['one', 'two'], y: ['two'] });
  assert.deepEqual(readdirSync(join(dir, '.mlloop')), ['tags.json']);
  assert.equal(JSON.parse(readFileSync(tagsPath(dir), 'utf8')).version, 1);
});

test('buildErrorTable: prediction, confidence of the predicted class, loss of the true class', () => {
  const schema = { task: 'classification' as const, target: 't', numeric: ['x'], categorical: [], classes: ['a', 'b'] };
  const rows = {
    features: { n: 2, numeric: new Float32Array(2), categories: [] },
    y: Float64Array.from([0, 1]),
    ids: ['p', 'q'],
    rowIndex: Uint32Array.from([0, 1]),
  };
  const t = buildErrorTable(schema, rows, {
    classIndex: Int32Array.from([0, 0]),
    probabilities: Float32Array.from([0.8, 0.2, 0.7, 0.3]),
  });
  assert.deepEqual([...t.wrong], [0, 1]);
  assert.equal(t.errorCount, 1);
  assert.ok(Math.abs(t.confidence[1] - 0.7) < 1e-6);
  assert.ok(Math.abs(t.loss[1] - -Math.log(0.3)) < 1e-6);
});

test('production counts: queued production examples per tag beside the dev counts; a production-only tag gets its own row', () => {
  const rows = [
    { tag: 'blurry', errors: 2, shareOfErrors: 0.5, tagged: 3, errorRate: 2 / 3 },
    { tag: 'dark', errors: 1, shareOfErrors: 0.25, tagged: 1, errorRate: 1 },
  ];
  const store = { d1: ['blurry'], p1: ['blurry', 'glare'], p2: ['glare'], p3: ['night'], other: ['glare'] };
  assert.deepEqual(withProductionCounts(rows, store, ['p1', 'p2', 'p3']), [
    { ...rows[0], production: 1 },
    rows[1],
    { tag: 'glare', errors: 0, shareOfErrors: 0, tagged: 0, errorRate: 0, production: 2 },
    { tag: 'night', errors: 0, shareOfErrors: 0, tagged: 0, errorRate: 0, production: 1 },
  ]);
  assert.equal(withProductionCounts(rows, store, []), rows);
});

test('changedTags: the delta between two stores (tags.json changed elsewhere) names only the ids that changed, [] for none left', () => {
  const before = { e0: ['blurry'], e1: ['blurry', 'dark'], e2: ['dark'] };
  const after = { e0: ['blurry'], e1: ['dark'], e3: ['new'] };
  assert.deepEqual(changedTags(before, after), { e1: ['dark'], e2: [], e3: ['new'] });
  assert.deepEqual(changedTags(after, after), {});
});
