// The binary cache of loaded splits (.mlloop/cache/datasets): a cached load gives exactly what
// parsing the file gives, and any change to the data's bytes, the data settings or the stored split
// is another entry, never a stale answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveProject, loadSplitDataset } from '../../../src/core/data/dataset';
import { DATASET_CACHE_ENTRIES, datasetCacheKey, readDatasetCache } from '../../../src/core/data/datasetCache';
import { dataFileOf } from '../../../src/core/data/dataset';
import { baseSpec, tempProject } from './fixture';
import { datasetCacheDir } from '../../../src/core/spec/layout';

/** 3 classes, a numeric x with missing values, a categorical colour with missing values, a duplicate row. */
function csv(seed = 0): string {
  const rows: string[] = [];
  for (let i = 0; i < 120; i++)
    rows.push(
      `${i % 11 === 0 ? '' : (i * 1.5 + seed).toFixed(2)},${i % 7 === 0 ? 'NA' : ['red', 'blue', 'green'][i % 3]},${['cat', 'dog', 'eel'][i % 3]}`,
    );
  rows.push(rows[5]);
  return ['x,colour,label', ...rows].join('\n') + '\n';
}

const plain = (ds: unknown) =>
  JSON.parse(
    JSON.stringify(ds, (_k, v: unknown) =>
      ArrayBuffer.isView(v) ? Array.from(v as Float32Array, (x) => (Number.isNaN(x) ? 'NaN' : x)) : v,
    ),
  );
const entries = (dir: string) => readdirSync(datasetCacheDir(dir)).filter((n) => n.endsWith('.bin'));

test('a cached load equals the parsed one (values, NaN, categories, ids, row indexes, version) and is written once the split is stored', async () => {
  const p = tempProject(baseSpec({ data: { split: { dev: 0.25, test: 0.1, seed: 3 } } }), { 'data.csv': csv() });
  try {
    const parsed = await loadSplitDataset(p.dir); // no cache asked: nothing written
    assert.throws(() => entries(p.dir));
    const first = await loadSplitDataset(p.dir, { cache: true });
    assert.equal(entries(p.dir).length, 1);
    const ref = await resolveProject(p.dir);
    const key = await datasetCacheKey(ref.spec, p.dir, dataFileOf(ref));
    const cached = await readDatasetCache(p.dir, key!);
    assert.ok(cached, 'the entry reads back');
    const again = await loadSplitDataset(p.dir, { cache: true });
    assert.deepEqual(plain(first), plain(parsed));
    assert.deepEqual(plain(again), plain(parsed));
    assert.deepEqual(plain(cached!), plain(parsed));
    assert.ok(
      again.dev.features.numeric instanceof Float32Array &&
        again.dev.y instanceof Float64Array &&
        again.dev.rowIndex instanceof Uint32Array,
    );
    assert.ok(
      parsed.dev.ids.length > 0 &&
        again.dev.ids.some((id) => id.includes('~')) === parsed.dev.ids.some((id) => id.includes('~')),
    );
  } finally {
    p.cleanup();
  }
});

test('the cache is invalidated when the data content changes, when the data settings change, and when the stored split changes', async () => {
  const p = tempProject(baseSpec({ data: { split: { dev: 0.25, test: 0.1, seed: 3 } } }), { 'data.csv': csv() });
  try {
    const before = await loadSplitDataset(p.dir, { cache: true });
    await loadSplitDataset(p.dir, { cache: true });
    // Same size, other bytes: the content hash tells.
    writeFileSync(p.path('data.csv'), csv(1));
    const changed = await loadSplitDataset(p.dir, { cache: true });
    assert.notEqual(changed.version.fileHash, before.version.fileHash);
    assert.deepEqual(plain(changed), plain(await loadSplitDataset(p.dir)));
    assert.notDeepEqual(plain(changed.train.features.numeric), plain(before.train.features.numeric));
    assert.equal(entries(p.dir).length, 2);

    // The data settings: colour listed as the only feature.
    const spec = JSON.parse(readFileSync(p.projectFile, 'utf8'));
    spec.data.features = ['colour'];
    writeFileSync(p.projectFile, JSON.stringify(spec));
    const fewer = await loadSplitDataset(p.dir, { cache: true });
    assert.deepEqual(fewer.schema.numeric, []);
    assert.deepEqual(plain(fewer), plain(await loadSplitDataset(p.dir)));

    // The stored split edited by hand (a row moved from dev to train): the cached split must follow it.
    const splitFile = join(p.dir, '.mlloop', 'splits', `${fewer.version.id}.json`);
    const stored = JSON.parse(readFileSync(splitFile, 'utf8'));
    stored.dev = stored.dev.slice(1);
    stored.counts.dev -= 1;
    stored.counts.train += 1;
    writeFileSync(splitFile, JSON.stringify(stored));
    const moved = await loadSplitDataset(p.dir, { cache: true });
    assert.equal(moved.dev.features.n, fewer.dev.features.n - 1);
    assert.deepEqual(plain(moved), plain(await loadSplitDataset(p.dir)));
    assert.ok(entries(p.dir).length <= DATASET_CACHE_ENTRIES, 'old entries are pruned');
  } finally {
    p.cleanup();
  }
});

test('a damaged cache entry is a miss: the data is parsed again and the entry rewritten', async () => {
  const p = tempProject(baseSpec(), { 'data.csv': csv() });
  try {
    const parsed = await loadSplitDataset(p.dir, { cache: true });
    const [name] = entries(p.dir);
    const file = join(datasetCacheDir(p.dir), name);
    const bytes = readFileSync(file);
    writeFileSync(file, bytes.subarray(0, bytes.length - 100)); // truncated
    assert.deepEqual(plain(await loadSplitDataset(p.dir, { cache: true })), plain(parsed));
    assert.equal(readFileSync(file).length, bytes.length);
  } finally {
    p.cleanup();
  }
});
