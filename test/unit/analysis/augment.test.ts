// Augmentation makes a new data version: reproducible from its seed, dev and test untouched, the
// data file never written; a run trains on it (trainExperiment's dataVersion). Also add-data and
// label fixes as versions, and the export for collection.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Papa from 'papaparse';
import { loadSplitDataset } from '../../../src/core/data/dataset';
import type { Rows, SplitDataset } from '../../../src/core/data/types';
import { addDataFromCsv, augmentToVersion, exportForCollection, fixLabels } from '../../../src/core/analysis/analysis';
import { listDataVersions, loadDataVersion } from '../../../src/core/data/dataVersions';
import { writeTags } from '../../../src/core/analysis/tags';
import { trainExperiment } from '../../../src/core/experiment/trainExperiment';
import { productionExampleId } from '../../../src/core/update/productionData';
import { enqueueForReview, type ReviewItem } from '../../../src/core/update/reviewQueue';
import { versionsDir } from '../../../src/core/spec/layout';

const digits = mkdtempSync(join(tmpdir(), 'mlloop-augment-digits-'));
const iris = mkdtempSync(join(tmpdir(), 'mlloop-augment-iris-'));
let base: SplitDataset;
let dataBytes: Buffer;
let dataMtime: number;

before(async () => {
  cpSync(join(__dirname, '..', '..', '..', 'examples', 'digits'), digits, { recursive: true });
  cpSync(join(__dirname, '..', '..', '..', 'examples', 'iris'), iris, { recursive: true });
  rmSync(join(digits, '.mlloop'), { recursive: true, force: true });
  rmSync(join(iris, '.mlloop'), { recursive: true, force: true });
  base = await loadSplitDataset(digits);
  dataBytes = readFileSync(join(digits, 'data', 'digits.csv'));
  dataMtime = statSync(join(digits, 'data', 'digits.csv')).mtimeMs;
  // Tag three dev examples (dev errors are what users tag): the sources are their training neighbours.
  await writeTags(digits, Object.fromEntries(base.dev.ids.slice(0, 3).map((id) => [id, ['thin strokes']])));
});

function sameRows(a: Rows, b: Rows): void {
  assert.deepEqual(a.ids, b.ids);
  assert.deepEqual(a.y, b.y);
  assert.deepEqual(a.features.numeric, b.features.numeric);
}

test('image augmentation of a tag: a new version with N extra training rows; dev/test and the data file untouched', async () => {
  const recipe = await augmentToVersion({
    projectDir: digits,
    recipe: { source: { tag: 'thin strokes' }, count: 40, seed: 3 },
  });
  assert.equal(recipe.kind, 'augment');
  assert.equal(recipe.parent, base.version.id);
  assert.equal(recipe.details.method, 'image');
  assert.equal(recipe.rows, 40);
  const v = await loadDataVersion(digits, recipe.id);
  assert.equal(v.version.id, recipe.id);
  assert.equal(v.train.features.n, base.train.features.n + 40);
  sameRows(v.dev, base.dev);
  sameRows(v.test, base.test);
  // The original training rows come first, unchanged.
  assert.deepEqual(
    v.train.features.numeric.subarray(0, base.train.features.numeric.length),
    base.train.features.numeric,
  );
  assert.deepEqual(readFileSync(join(digits, 'data', 'digits.csv')), dataBytes);
  assert.equal(statSync(join(digits, 'data', 'digits.csv')).mtimeMs, dataMtime);
  // New rows are images of the sources' classes (the tagged dev examples' classes), within the pixel range, not copies.
  const F = 64;
  const devClasses = new Set(base.dev.y.subarray(0, 3));
  const extra = v.train.features.numeric.subarray(base.train.features.n * F);
  for (let k = 0; k < 40; k++) assert.ok(devClasses.has(v.train.y[base.train.features.n + k]));
  assert.ok(extra.every((p) => p >= 0 && p <= 16));
  const trainImages = new Set(
    Array.from({ length: base.train.features.n }, (_, i) =>
      base.train.features.numeric.subarray(i * F, (i + 1) * F).join(),
    ),
  );
  for (let k = 0; k < 40; k++) assert.ok(!trainImages.has(extra.subarray(k * F, (k + 1) * F).join()));
});

test('reproducible from the seed: same recipe → same version and bytes; another seed → other rows', async () => {
  const a = await augmentToVersion({
    projectDir: digits,
    recipe: { source: { tag: 'thin strokes' }, count: 25, seed: 11 },
  });
  const rowsA = readFileSync(join(versionsDir(digits), a.id, 'rows.csv'), 'utf8');
  rmSync(join(versionsDir(digits), a.id), { recursive: true });
  const again = await augmentToVersion({
    projectDir: digits,
    recipe: { source: { tag: 'thin strokes' }, count: 25, seed: 11 },
  });
  assert.equal(again.id, a.id);
  assert.equal(readFileSync(join(versionsDir(digits), a.id, 'rows.csv'), 'utf8'), rowsA);
  const other = await augmentToVersion({
    projectDir: digits,
    recipe: { source: { tag: 'thin strokes' }, count: 25, seed: 12 },
  });
  assert.notEqual(other.id, a.id);
  assert.notEqual(readFileSync(join(versionsDir(digits), other.id, 'rows.csv'), 'utf8'), rowsA);
});

test('tabular SMOTE of a slice: new rows lie between same-class training rows of the slice; dev/test untouched', async () => {
  const irisBase = await loadSplitDataset(iris);
  const recipe = await augmentToVersion({
    projectDir: iris,
    recipe: { source: { slice: 'petal_length>4.5' }, count: 30, seed: 1 },
  });
  assert.equal(recipe.details.method, 'smote');
  const v = await loadDataVersion(iris, recipe.id);
  sameRows(v.dev, irisBase.dev);
  sameRows(v.test, irisBase.test);
  const f = v.schema.numeric.indexOf('petal_length');
  const F = v.schema.numeric.length;
  for (let k = irisBase.train.features.n; k < v.train.features.n; k++) {
    // Interpolation between two rows with petal_length > 4.5 stays > 4.5.
    assert.ok(v.train.features.numeric[k * F + f] > 4.5);
  }
  const noise = await augmentToVersion({
    projectDir: iris,
    recipe: { source: { slice: 'petal_length>4.5' }, count: 5, seed: 1, method: 'noise' },
  });
  assert.equal((await loadDataVersion(iris, noise.id)).train.features.n, irisBase.train.features.n + 5);
});

test('a run trains on the augmented version (recorded in run.json) and diagnose/analysis load it', async () => {
  const recipe = await augmentToVersion({
    projectDir: digits,
    recipe: { source: { tag: 'thin strokes' }, count: 20, seed: 5 },
  });
  const o = await trainExperiment({ projectDir: digits, experimentName: 'softmax', dataVersion: recipe.id });
  assert.equal(o.status, 'completed', o.error?.message);
  assert.equal(o.record.dataVersion?.id, recipe.id);
  assert.equal(o.record.dataVersion?.parent, base.version.id);
  assert.match(
    readFileSync(join(o.runDir, 'log.txt'), 'utf8'),
    new RegExp(`train ${base.train.features.n + 20}, dev ${base.dev.features.n}`),
  );
});

test('add data from a CSV and fix labels: versions chain; unknown classes are refused', async () => {
  const csv = join(iris, 'more.csv');
  writeFileSync(
    csv,
    'sepal_length,sepal_width,petal_length,petal_width,species\n5.0,3.4,1.5,0.2,setosa\n6.9,3.1,5.4,2.1,virginica\n',
  );
  const irisBase = await loadSplitDataset(iris);
  const added = await addDataFromCsv({ projectDir: iris, csvFile: csv });
  assert.equal(added.kind, 'add');
  const fixed = await fixLabels({
    projectDir: iris,
    parentVersion: added.id,
    fixes: { [irisBase.dev.ids[0]]: 'virginica' },
  });
  const v = await loadDataVersion(iris, fixed.id);
  assert.equal(v.train.features.n, irisBase.train.features.n + 2);
  assert.equal(v.schema.classes![v.dev.y[0]], 'virginica');
  assert.equal(fixed.base.id, irisBase.version.id);
  assert.ok((await listDataVersions(iris)).some((r) => r.id === fixed.id));
  writeFileSync(csv, 'sepal_length,sepal_width,petal_length,petal_width,species\n5,3,1,0.2,daisy\n');
  await assert.rejects(addDataFromCsv({ projectDir: iris, csvFile: csv }), /class "daisy"/);
});

test("export for collection: the tag's examples with id, split, label and features", async () => {
  const out = join(digits, 'collect.csv');
  const n = await exportForCollection({ projectDir: digits, source: { tag: 'thin strokes' }, out });
  assert.equal(n, 3);
  const rows = Papa.parse<Record<string, string>>(readFileSync(out, 'utf8'), {
    header: true,
    skipEmptyLines: true,
  }).data;
  assert.deepEqual(
    rows.map((r) => r.id),
    base.dev.ids.slice(0, 3),
  );
  assert.ok(rows.every((r) => r.split === 'dev' && r.tags === 'thin strokes' && 'px63' in r));
});

test('tagged production examples of the review queue: augmenting their tag draws from their nearest training rows; the export lists them', async () => {
  // Two test images arrive in production: one labelled by feedback, one not.
  const F = 64;
  const item = (i: number, label?: string): ReviewItem => {
    const numeric = Array.from(base.test.features.numeric.subarray(i * F, (i + 1) * F));
    return {
      id: productionExampleId({ numeric, categories: [] }, label),
      requestId: `req-${i}`,
      deployment: 'softmax',
      time: '2026-11-27T10:00:00Z',
      reasons: ['low-confidence'],
      features: Object.fromEntries(base.schema.numeric.map((f, j) => [f, numeric[j]])),
      predicted: '1',
      confidence: 0.4,
      ...(label ? { label } : {}),
    };
  };
  const cls = base.schema.classes![base.test.y[0]];
  const labelled = item(0, cls);
  const unlabelled = item(1);
  await enqueueForReview(digits, [labelled, unlabelled]);
  await writeTags(digits, {
    ...Object.fromEntries(base.dev.ids.slice(0, 3).map((id) => [id, ['thin strokes']])),
    [labelled.id]: ['glare'],
    [unlabelled.id]: ['night'],
  });
  const glare = await augmentToVersion({
    projectDir: digits,
    recipe: { source: { tag: 'glare' }, count: 12, seed: 2 },
  });
  assert.equal(glare.details.sourceRows, 5, 'the five nearest training rows of the labelled example');
  const v = await loadDataVersion(digits, glare.id);
  for (let k = base.train.features.n; k < v.train.features.n; k++)
    assert.equal(v.train.y[k], base.test.y[0], 'of its class');
  const night = await augmentToVersion({ projectDir: digits, recipe: { source: { tag: 'night' }, count: 4, seed: 2 } });
  assert.equal(night.details.sourceRows, 5, 'an unlabelled example: its five nearest training rows of any class');
  const out = join(digits, 'collect-glare.csv');
  assert.equal(await exportForCollection({ projectDir: digits, source: { tag: 'glare' }, out }), 1);
  const rows = Papa.parse<Record<string, string>>(readFileSync(out, 'utf8'), {
    header: true,
    skipEmptyLines: true,
  }).data;
  assert.deepEqual(
    rows.map((r) => [r.id, r.split, r[base.schema.target]]),
    [[labelled.id, 'production', cls]],
  );
  assert.equal(rows[0].px10, String(base.test.features.numeric[10]));
});

test("Error Analysis's data jobs in the worker thread give the versions and export the functions give in process", async () => {
  const { inDataJobsWorker } = await import('../../../src/core/analysis/dataJobsWorker');
  const irisBase = await loadSplitDataset(iris);
  const rows = await inDataJobsWorker({
    job: 'augment',
    projectDir: iris,
    source: { slice: 'petal_length>4.5' },
    count: 12,
    seed: 7,
  });
  const inProcess = await augmentToVersion({
    projectDir: iris,
    recipe: { source: { slice: 'petal_length>4.5' }, count: 12, seed: 7 },
  });
  assert.equal(rows.id, inProcess.id, 'the same recipe makes the same version');
  assert.equal(rows.details.method, 'smote');
  const csv = join(iris, 'worker-more.csv');
  writeFileSync(csv, 'sepal_length,sepal_width,petal_length,petal_width,species\n5.1,3.5,1.4,0.2,setosa\n');
  const added = await inDataJobsWorker({ job: 'addCsv', projectDir: iris, parentVersion: rows.id, csvFile: csv });
  const fixed = await inDataJobsWorker({
    job: 'fixLabels',
    projectDir: iris,
    parentVersion: added.id,
    fixes: { [irisBase.dev.ids[1]]: 'setosa' },
  });
  const v = await loadDataVersion(iris, fixed.id);
  assert.equal(v.train.features.n, irisBase.train.features.n + 12 + 1);
  assert.equal(v.schema.classes![v.dev.y[1]], 'setosa');
  const out = join(digits, 'worker-collect.csv');
  assert.equal(await inDataJobsWorker({ job: 'export', projectDir: digits, source: { tag: 'thin strokes' }, out }), 3);
  // A failure comes back as the function's own error.
  writeFileSync(csv, 'sepal_length,sepal_width,petal_length,petal_width,species\n5,3,1,0.2,daisy\n');
  await assert.rejects(inDataJobsWorker({ job: 'addCsv', projectDir: iris, csvFile: csv }), /class "daisy"/);
});
