// Rows of derived data versions written to rows.csv and read back: short decimals keep their text,
// so an example's content-hash id is the same in the data file, in a derived version and in the
// production log (a tag on a production example finds it again among retrained rows).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRowsCsv, rowsToCsv } from '../../../src/core/data/dataVersions';
import { DataError } from '../../../src/core/data/errors';
import { float32Text } from '../../../src/core/data/values';
import { productionExampleId } from '../../../src/core/update/productionData';
import type { FeatureSchema, Rows } from '../../../src/core/data/types';

test('float32Text: the shortest decimal that reads back as the same float32', () => {
  assert.equal(String(Math.fround(4.9)), '4.900000095367432'); // what String() wrote before
  assert.equal(float32Text(Math.fround(4.9)), '4.9');
  assert.equal(float32Text(Math.fround(0.1)), '0.1');
  assert.equal(float32Text(Math.fround(-2.35)), '-2.35');
  assert.equal(float32Text(Math.fround(1e-7)), '1e-7');
  assert.equal(float32Text(16), '16');
  assert.equal(float32Text(Math.fround(1 / 3)), '0.33333334');
  for (const v of [Math.PI, 1e30, -7.0001, 123456.789, 2 ** -20]) {
    const f = Math.fround(v);
    assert.equal(Math.fround(Number(float32Text(f))), f, `${v} round-trips`);
  }
});

const dir = mkdtempSync(join(tmpdir(), 'mlloop-rows-'));
function csvFile(name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
}

test('rows.csv keeps the ids of decimal rows: data file, derived version and production log agree', async () => {
  const schema: FeatureSchema = {
    task: 'classification',
    target: 'species',
    numeric: ['sepal_length', 'petal_width'],
    categorical: [],
    classes: ['setosa', 'virginica'],
  };
  // As the iris file has them: the cells' text is what the ids hash.
  const text = 'sepal_length,petal_width,species\n4.9,0.2,setosa\n6.3,2.5,virginica\n';
  const fromFile = await readRowsCsv(schema, csvFile('iris.csv', text));
  assert.equal(fromFile.features.numeric[0], Math.fround(4.9));
  const written = rowsToCsv(schema, fromFile);
  assert.match(written, /^4\.9,0\.2,setosa$/m);
  const again = await readRowsCsv(schema, csvFile('rows.csv', written));
  assert.deepEqual(again.ids, fromFile.ids);
  // The same example logged by the server (JSON numbers) with its feedback label.
  assert.equal(productionExampleId({ numeric: [4.9, 0.2], categories: [] }, 'setosa'), fromFile.ids[0]);
});

test('rows.csv: missing values stay empty cells', () => {
  const schema: FeatureSchema = { task: 'regression', target: 'y', numeric: ['a', 'b'], categorical: [] };
  const rows: Rows = {
    features: { n: 1, numeric: Float32Array.from([NaN, 1.5]), categories: [] },
    y: Float64Array.from([2.25]),
    ids: ['r'],
    rowIndex: Uint32Array.from([0]),
  };
  assert.match(rowsToCsv(schema, rows), /^,1\.5,2\.25$/m);
});

test('rows read from a CSV follow the data file rules: BOM, missing values, errors at their line', async () => {
  const schema: FeatureSchema = {
    task: 'classification',
    target: 'y',
    numeric: ['a'],
    categorical: ['c'],
    classes: ['no', 'yes'],
  };
  const rows = await readRowsCsv(schema, csvFile('added.csv', '\uFEFFc,a,y\nred,NA,yes\nnull,2.5,no\n'));
  assert.equal(rows.features.n, 2);
  assert.ok(Number.isNaN(rows.features.numeric[0]), '"NA" is a missing number');
  assert.deepEqual(rows.features.categories, ['red', ''], '"null" is a missing category, as in the data file');
  assert.deepEqual(Array.from(rows.y), [1, 0]);
  await assert.rejects(
    readRowsCsv(schema, csvFile('bad-class.csv', 'a,c,y\n1,red,yes\n2,blue,maybe\n')),
    (e: Error) => e instanceof DataError && e.line === 3 && /maybe/.test(e.message),
  );
  await assert.rejects(
    readRowsCsv(schema, csvFile('no-column.csv', 'a,y\n1,yes\n')),
    (e: Error) => e instanceof DataError && e.line === 1 && /"c"/.test(e.message),
  );
  const header = await readRowsCsv(schema, csvFile('header-only.csv', 'a,c,y\n'));
  assert.equal(header.features.n, 0, 'a header without rows is an empty set of rows');
});
