import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadSplitDataset, ProjectInvalidError } from '../../../src/core/data/dataset';
import { DataError } from '../../../src/core/data/errors';
import { splitHash, splitDefinition, type StoredSplit } from '../../../src/core/data/split';
import type { SplitDataset } from '../../../src/core/data/types';
import { baseSpec, tempProject } from './fixture';

/** Classification data: 3 classes of 100/60/40 rows, a numeric x, a categorical colour with missing values. */
function threeClassCsv(order: (rows: string[]) => string[] = (r) => r): string {
  const rows: string[] = [];
  const classes: [string, number][] = [
    ['cat', 100],
    ['dog', 60],
    ['eel', 40],
  ];
  for (const [name, n] of classes)
    for (let i = 0; i < n; i++) rows.push(`${i * 1.5},${i % 7 === 0 ? 'NA' : ['red', 'blue'][i % 2]},${name}`);
  return ['x,colour,label', ...order(rows)].join('\n') + '\n';
}

async function load(csv: string, over = {}, opts = {}): Promise<SplitDataset> {
  const p = tempProject(baseSpec({ data: { split: { dev: 0.2, test: 0.1, seed: 5 } }, ...over }), { 'data.csv': csv });
  try {
    return await loadSplitDataset(p.dir, opts);
  } finally {
    p.cleanup();
  }
}

const idsOf = (ds: SplitDataset, split: 'train' | 'dev' | 'test') => [...ds[split].ids].sort();

test('typing: numeric features as float32 (NaN when missing), categorical as strings ("" when missing), sorted classes', async () => {
  const ds = await load(threeClassCsv());
  assert.deepEqual(ds.schema, {
    task: 'classification',
    target: 'label',
    numeric: ['x'],
    categorical: ['colour'],
    classes: ['cat', 'dog', 'eel'],
  });
  const all = [ds.train, ds.dev, ds.test];
  assert.equal(
    all.reduce((s, r) => s + r.features.n, 0),
    200,
  );
  for (const r of all) {
    assert.equal(r.features.numeric.length, r.features.n);
    assert.equal(r.features.categories.length, r.features.n);
    assert.equal(r.y.length, r.features.n);
    r.features.categories.forEach((c) => assert.ok(['red', 'blue', ''].includes(c)));
  }
  assert.ok(ds.train.features.categories.includes(''), 'NA became the missing marker');
  // rowIndex points back at the source row: row 0 is cat with x = 0 and colour NA.
  let seen = 0;
  for (const r of all) {
    const i = [...r.rowIndex].indexOf(0);
    if (i >= 0) {
      assert.equal(r.features.numeric[i], 0);
      assert.equal(r.features.categories[i], '');
      assert.equal(r.y[i], 0);
      seen++;
    }
  }
  assert.equal(seen, 1);
});

test('the split is stratified: each class is split in the requested proportions', async () => {
  const ds = await load(threeClassCsv());
  const count = (y: Float64Array, k: number) => y.filter((v) => v === k).length;
  const sizes = [100, 60, 40];
  sizes.forEach((n, k) => {
    assert.equal(count(ds.dev.y, k), Math.round(n * 0.2), `dev class ${k}`);
    assert.equal(count(ds.test.y, k), Math.round(n * 0.1), `test class ${k}`);
    assert.equal(count(ds.train.y, k), n - Math.round(n * 0.2) - Math.round(n * 0.1), `train class ${k}`);
  });
});

test("the split is deterministic from the seed and the rows' contents, not their order", async () => {
  const a = await load(threeClassCsv(), {}, { storeSplit: false });
  const b = await load(threeClassCsv(), {}, { storeSplit: false });
  const shuffled = await load(
    threeClassCsv((r) => [...r].reverse()),
    {},
    { storeSplit: false },
  );
  for (const s of ['train', 'dev', 'test'] as const) {
    assert.deepEqual(idsOf(a, s), idsOf(b, s));
    assert.deepEqual(idsOf(a, s), idsOf(shuffled, s));
  }
  const otherSeed = await load(
    threeClassCsv(),
    { data: { split: { dev: 0.2, test: 0.1, seed: 6 } } },
    { storeSplit: false },
  );
  assert.notDeepEqual(idsOf(a, 'dev'), idsOf(otherSeed, 'dev'));
  assert.equal(otherSeed.dev.ids.length, a.dev.ids.length);
  assert.notEqual(otherSeed.version.splitHash, a.version.splitHash);
  assert.equal(otherSeed.version.fileHash, a.version.fileHash);
});

test('example ids are the row content hash: stable across splits, unique for repeated rows', async () => {
  const csv = 'x,label\n1,a\n1,a\n1,a\n2,b\n3,a\n4,b\n5,a\n6,b\n';
  const ds = await load(csv, {}, { storeSplit: false });
  const ids = [...ds.train.ids, ...ds.dev.ids, ...ds.test.ids];
  assert.equal(new Set(ids).size, 8);
  const repeats = ids.filter((id) => id.includes('~'));
  assert.equal(repeats.length, 2);
  const base = repeats[0].split('~')[0];
  assert.ok(ids.includes(base) && ids.includes(`${base}~1`) && ids.includes(`${base}~2`));
  // Identical rows stay on one side of the split (no train/dev leakage from exact repeats).
  const side = (id: string) => (ds.train.ids.includes(id) ? 'train' : ds.dev.ids.includes(id) ? 'dev' : 'test');
  assert.equal(new Set([base, `${base}~1`, `${base}~2`].map(side)).size, 1);
  const again = await load(csv, { data: { split: { dev: 0.4, seed: 99 } } }, { storeSplit: false });
  assert.deepEqual([...again.train.ids, ...again.dev.ids, ...again.test.ids].sort(), [...ids].sort());
});

test('a column split is used exactly as given and its column is never a feature', async () => {
  const csv = 'x,fold,label\n1,train,a\n2,train,b\n3,dev,a\n4,test,b\n5,Train,a\n6,dev,b\n';
  const ds = await load(csv, { data: { split: { column: 'fold' } } });
  assert.deepEqual(ds.schema.numeric, ['x']);
  assert.deepEqual(ds.schema.categorical, []);
  assert.deepEqual([...ds.train.features.numeric], [1, 2, 5]);
  assert.deepEqual([...ds.dev.features.numeric], [3, 6]);
  assert.deepEqual([...ds.test.features.numeric], [4]);
});

test('data.features picks and orders the features; data.categorical forces a numeric column categorical', async () => {
  const csv = 'a,b,code,label\n1,2,10,x\n3,4,20,y\n5,6,10,x\n7,8,30,y\n9,1,20,x\n2,3,10,y\n';
  const ds = await load(csv, {
    data: { features: ['code', 'b'], categorical: ['code'], split: { dev: 0.34, seed: 1 } },
  });
  assert.deepEqual(ds.schema.numeric, ['b']);
  assert.deepEqual(ds.schema.categorical, ['code']);
  assert.ok([...ds.train.features.categories].every((c) => ['10', '20', '30'].includes(c)));
});

test('classes with numeric names sort by value; regression keeps the target values', async () => {
  const digits = await load('x,label\n1,10\n2,9\n3,10\n4,2\n5,9\n6,2\n7,10\n8,2\n9,9\n', {
    data: { split: { dev: 0.34, seed: 1 } },
  });
  assert.deepEqual(digits.schema.classes, ['2', '9', '10']);
  const reg = await load('x,y\n1,2.5\n2,4.5\n3,6.5\n4,8.5\n5,10.5\n', {
    task: 'regression',
    metric: 'rmse',
    experiments: {},
    data: { target: 'y', split: { dev: 0.4, seed: 1 } },
  });
  assert.equal(reg.schema.classes, undefined);
  const pairs = [reg.train, reg.dev].flatMap((r) => [...r.features.numeric].map((x, i) => [x, r.y[i]]));
  for (const [x, y] of pairs) assert.equal(y, 2 * x + 0.5);
});

test('data version: sha256 of the file bytes plus the split definition hash', async () => {
  const csv = threeClassCsv();
  const ds = await load(csv);
  assert.equal(ds.version.fileHash, createHash('sha256').update(csv).digest('hex'));
  const spec = baseSpec({ data: { split: { dev: 0.2, test: 0.1, seed: 5 } } });
  assert.equal(ds.version.splitHash, splitHash(splitDefinition(spec)));
  assert.equal(
    ds.version.id,
    createHash('sha256')
      .update(ds.version.fileHash + ds.version.splitHash)
      .digest('hex')
      .slice(0, 12),
  );
  const changed = await load(csv.replace('cat\n', 'dog\n'));
  assert.notEqual(changed.version.fileHash, ds.version.fileHash);
});

test('the split is stored as row ids under .mlloop/splits and reused on the next load', async () => {
  const p = tempProject(baseSpec({ data: { split: { dev: 0.2, test: 0.1, seed: 5 } } }), {
    'data.csv': threeClassCsv(),
  });
  try {
    const first = await loadSplitDataset(p.dir);
    const splitsDir = p.path('.mlloop/splits');
    const files = readdirSync(splitsDir);
    assert.deepEqual(files, [`${first.version.id}.json`]);
    const stored = JSON.parse(readFileSync(join(splitsDir, files[0]), 'utf8')) as StoredSplit;
    assert.deepEqual([...stored.dev].sort(), idsOf(first, 'dev'));
    assert.deepEqual([...stored.test].sort(), idsOf(first, 'test'));
    assert.deepEqual(stored.counts, {
      train: first.train.ids.length,
      dev: first.dev.ids.length,
      test: first.test.ids.length,
    });
    // A recorded split wins over recomputation: swap one dev and one train row in the record.
    const [devId] = stored.dev;
    const [trainId] = first.train.ids;
    stored.dev = stored.dev.map((id) => (id === devId ? trainId : id));
    writeFileSync(join(splitsDir, files[0]), JSON.stringify(stored));
    const second = await loadSplitDataset(p.dir);
    assert.ok(second.dev.ids.includes(trainId) && second.train.ids.includes(devId));
    assert.ok(existsSync(join(splitsDir, files[0])));
  } finally {
    p.cleanup();
  }
});

test('unusable data throws DataError naming file and line; an invalid project throws its problems', async () => {
  await assert.rejects(
    load('x,label\n1,a\n2,b,3\n'),
    (e: DataError) =>
      e instanceof DataError && e.code === 'data-ragged' && e.line === 3 && e.message.includes('data.csv:3:'),
  );
  await assert.rejects(load('x,label\n1,a\n2,a\n'), (e: DataError) => e.code === 'data-target-classes');
  await assert.rejects(
    load('x,label\n1,a\n', { data: { target: 'nope' } }),
    (e: DataError) => e.code === 'data-unknown-column',
  );
  const bad = tempProject('{ "name": 1 }');
  try {
    await assert.rejects(
      loadSplitDataset(bad.dir),
      (e: ProjectInvalidError) => e instanceof ProjectInvalidError && e.problems.length > 0,
    );
  } finally {
    bad.cleanup();
  }
});

test('the digits sample loads: 1797 rows, 64 numeric pixels, 10 classes', async () => {
  const ds = await loadSplitDataset(join(__dirname, '../../../examples/digits'), { storeSplit: false });
  assert.equal(ds.schema.numeric.length, 64);
  assert.equal(ds.schema.classes!.length, 10);
  assert.equal(ds.train.features.n + ds.dev.features.n + ds.test.features.n, 1797);
  assert.ok(Math.abs(ds.dev.features.n / 1797 - 0.2) < 0.01);
});

test('JSON Lines data loads like CSV', async () => {
  const lines = Array.from({ length: 20 }, (_, i) =>
    JSON.stringify({ x: i, colour: i % 3 ? 'red' : null, label: i % 2 ? 'a' : 'b' }),
  );
  const p = tempProject(baseSpec({ data: { path: 'data.jsonl', split: { dev: 0.2, seed: 1 } } }), {
    'data.jsonl': lines.join('\n') + '\n',
  });
  try {
    const ds = await loadSplitDataset(p.dir, { storeSplit: false });
    assert.deepEqual([ds.schema.numeric, ds.schema.categorical, ds.schema.classes], [['x'], ['colour'], ['a', 'b']]);
    assert.equal(ds.train.features.n + ds.dev.features.n, 20);
    assert.equal(ds.dev.features.n, 4);
    assert.ok([...ds.train.features.categories, ...ds.dev.features.categories].includes(''));
  } finally {
    p.cleanup();
  }
});

test('a file of thousands of rows of varying length: every cell lands in its row of its split (row sizes estimated from the first rows)', async () => {
  // Long rows first, then short ones: the row count estimated from the first 1,000 rows is too small and the arrays grow.
  const rows: string[] = [];
  for (let i = 0; i < 5000; i++) {
    const a = i >= 1000 ? String(i % 10) : (i * 1.0001).toFixed(4);
    const b = i % 13 === 0 ? '' : i >= 1000 ? '1' : String(-i / 7);
    rows.push(`${a},${b},${['red', 'blue', 'green'][i % 3]},${['cat', 'dog'][i % 2]}`);
  }
  const ds = await load(['a,b,colour,label', ...rows].join('\n') + '\n', { data: { categorical: ['colour'] } });
  assert.deepEqual(ds.schema.numeric, ['a', 'b']);
  let seen = 0;
  for (const split of ['train', 'dev', 'test'] as const) {
    const r = ds[split];
    for (let k = 0; k < r.features.n; k++) {
      const [a, b, colour, label] = rows[r.rowIndex[k]].split(',');
      assert.equal(r.features.numeric[k * 2], Math.fround(Number(a)));
      assert.ok(
        b === ''
          ? Number.isNaN(r.features.numeric[k * 2 + 1])
          : r.features.numeric[k * 2 + 1] === Math.fround(Number(b)),
      );
      assert.equal(r.features.categories[k], colour);
      assert.equal(ds.schema.classes![r.y[k]], label);
      seen++;
    }
  }
  assert.equal(seen, 5000);
});
