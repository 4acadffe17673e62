// The promotion gate on hand-made error tables: better overall but worse on a slice or a tag by
// more than the margin needs confirmation; within the margin, or on a group too small to judge, it
// does not; regression compares RMSE relatively.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FeatureSchema, Rows } from '../../../src/core/data/types';
import type { ErrorTable } from '../../../src/core/analysis/errorTable';
import { comparePromotion, describeRegressions, scoreOf } from '../../../src/core/update/gate';

const schema: FeatureSchema = {
  task: 'classification',
  target: 'y',
  numeric: ['x'],
  categorical: [],
  classes: ['a', 'b'],
};

function rows(xs: number[]): Rows {
  return {
    features: { n: xs.length, numeric: Float32Array.from(xs), categories: [] },
    y: new Float64Array(xs.length),
    ids: xs.map((_, i) => `e${i}`),
    rowIndex: Uint32Array.from(xs.keys()),
  };
}

function table(correct: boolean[]): ErrorTable {
  const n = correct.length;
  return {
    task: 'classification',
    classes: ['a', 'b'],
    n,
    ids: correct.map((_, i) => `e${i}`),
    truth: new Float64Array(n),
    predicted: Float64Array.from(correct.map((c) => (c ? 0 : 1))),
    confidence: new Float32Array(n).fill(0.9),
    loss: new Float32Array(n),
    wrong: Uint8Array.from(correct.map((c) => (c ? 0 : 1))),
    errorCount: correct.filter((c) => !c).length,
  };
}

// 40 examples: x < 10 for the first 10 (the slice "x<=9.5"), the rest above.
const xs = Array.from({ length: 40 }, (_, i) => i);
const slice = { key: 'x<=9.5', label: 'x ≤ 9.5', conditions: [{ feature: 'x', kind: 'range' as const, le: 9.5 }] };

test('better overall, worse on a tracked slice by more than the margin: confirmation needed, the slice named', () => {
  // Production: 30/40 right, all 10 in the slice right. Candidate: 36/40 right, only 7 of the slice.
  const prod = table(xs.map((i) => i < 10 || i < 30));
  const cand = table(xs.map((i) => (i < 10 ? i >= 3 : true)));
  assert.equal(scoreOf(prod), 0.75);
  assert.equal(scoreOf(cand), 37 / 40);
  const c = comparePromotion(
    schema,
    [{ name: 'dev', rows: rows(xs), production: prod, candidate: cand }],
    { slices: [slice], tags: {} },
    { margin: 0.05 },
  );
  assert.equal(c.betterOverall, true);
  assert.equal(c.needsConfirmation, true);
  assert.deepEqual(
    c.regressions.map((g) => [g.kind, g.key, g.support, g.production, g.candidate]),
    [['slice', 'x<=9.5', 10, 1, 0.7]],
  );
  assert.match(describeRegressions(c)[0], /x ≤ 9\.5 \(dev, 10 examples\): accuracy 100\.0 % → 70\.0 %/);
});

test('within the margin, or a group below the minimum support: no confirmation', () => {
  const prod = table(xs.map((i) => i < 10 || i < 30));
  const oneWorse = table(xs.map((i) => i !== 0));
  const within = comparePromotion(
    schema,
    [{ name: 'dev', rows: rows(xs), production: prod, candidate: oneWorse }],
    { slices: [slice], tags: {} },
    { margin: 0.15 },
  );
  assert.equal(within.needsConfirmation, false);
  assert.ok(Math.abs(within.groups.find((g) => g.kind === 'slice')!.gain + 0.1) < 1e-12);
  // A tag on 3 examples, all wrong for the candidate: too few to block at minSupport 5, blocking at 3.
  const tags = { e0: ['blurry'], e1: ['blurry'], e2: ['blurry'] };
  const cand = table(xs.map((i) => i >= 3));
  const small = comparePromotion(
    schema,
    [{ name: 'dev', rows: rows(xs), production: prod, candidate: cand }],
    { slices: [], tags },
    { margin: 0.05 },
  );
  const tagRow = small.groups.find((g) => g.kind === 'tag')!;
  assert.deepEqual(
    [tagRow.key, tagRow.support, tagRow.production, tagRow.candidate, tagRow.regression],
    ['blurry', 3, 1, 0, false],
  );
  assert.equal(small.needsConfirmation, false);
  const strict = comparePromotion(
    schema,
    [{ name: 'dev', rows: rows(xs), production: prod, candidate: cand }],
    { slices: [], tags },
    { margin: 0.05, minSupport: 3 },
  );
  assert.deepEqual(
    strict.regressions.map((g) => g.key),
    ['blurry'],
  );
});

test('worse overall on any evaluation set needs confirmation; regression uses relative RMSE', () => {
  const prod = table(xs.map(() => true));
  const cand = table(xs.map((i) => i !== 5));
  const c = comparePromotion(
    schema,
    [{ name: 'production', rows: rows(xs), production: prod, candidate: cand }],
    { slices: [], tags: {} },
    { margin: 0.05 },
  );
  assert.equal(c.betterOverall, false);
  assert.equal(c.regressions.length, 0);
  assert.equal(c.needsConfirmation, true);
  const reg: FeatureSchema = { task: 'regression', target: 'y', numeric: ['x'], categorical: [] };
  const t = (err: number): ErrorTable => ({
    ...table(xs.map(() => true)),
    task: 'regression',
    classes: undefined,
    loss: new Float32Array(40).fill(err * err),
  });
  const r = comparePromotion(
    reg,
    [{ name: 'dev', rows: rows(xs), production: t(2), candidate: t(2.2) }],
    { slices: [], tags: {} },
    { margin: 0.05 },
  );
  assert.equal(r.metric, 'rmse');
  assert.ok(Math.abs(r.groups[0].production - 2) < 1e-6 && Math.abs(r.groups[0].candidate - 2.2) < 1e-6);
  assert.equal(r.regressions.length, 1, '10 % worse RMSE exceeds a 5 % margin');
  const ok = comparePromotion(
    reg,
    [{ name: 'dev', rows: rows(xs), production: t(2), candidate: t(2.05) }],
    { slices: [], tags: {} },
    { margin: 0.05 },
  );
  assert.equal(ok.regressions.length, 0);
});
