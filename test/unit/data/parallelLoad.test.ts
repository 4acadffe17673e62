// The load on two threads (a worker scans the second half of a CSV file's rows) gives the dataset
// the one-thread load gives, and both give the split and rows pinned below (taken from the one-pass
// loader before the two-thread scan existed), so a change to either path that moves a row fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mulberry32 } from '../../../src/core/data/prng';
import { loadSplitDataset } from '../../../src/core/data/dataset';
import { scanTable } from '../../../src/core/data/scan';
import { planCsvRanges } from '../../../src/core/data/reader';
import type { SplitDataset } from '../../../src/core/data/types';
import { baseSpec, tempProject } from './fixture';

/** 3,000 seeded rows: numbers (some missing), a categorical column, 3 classes, repeated rows. */
function pinnedCsv(newline = '\n'): string {
  const rand = mulberry32(7);
  const lines = ['x1,x2,colour,n,label'];
  const colours = ['red', 'green', 'blue', 'NA', ''];
  for (let i = 0; i < 3000; i++) {
    if (i % 500 === 499) {
      lines.push(lines[lines.length - 1]); // an identical row: ids "~1"
      continue;
    }
    const x1 = (rand() * 4 - 2).toFixed(4);
    const x2 = rand() < 0.05 ? (rand() < 0.5 ? '' : 'NA') : (rand() * 100).toFixed(2);
    const colour = colours[Math.floor(rand() * colours.length)];
    const n = String(Math.floor(rand() * 1000) - 500);
    const label = ['low', 'mid', 'high'][Math.floor(rand() * 3)];
    lines.push([x1, x2, colour, n, label].join(','));
  }
  return lines.join(newline) + newline;
}

const pinnedSpec = () => baseSpec({ data: { target: 'label', categorical: ['colour'] } });

/** sha256 over everything a trainer gets from a dataset, split by split. */
function datasetDigest(d: SplitDataset): string {
  const h = createHash('sha256').update(JSON.stringify(d.schema)).update(JSON.stringify(d.version));
  for (const rows of [d.train, d.dev, d.test]) {
    h.update(String(rows.features.n)).update(JSON.stringify(rows.ids)).update(JSON.stringify(rows.features.categories));
    for (const a of [rows.features.numeric, rows.y, rows.rowIndex])
      h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  }
  return h.digest('hex');
}

async function loadPinned(newline: string, opts: { parallel: boolean }) {
  const p = tempProject(pinnedSpec(), { 'data.csv': pinnedCsv(newline) });
  try {
    if (opts.parallel) assert.ok(await planCsvRanges(p.path('data.csv'), 2, { minBytes: 0 }), 'the file can be split');
    return await loadSplitDataset(p.projectFile, { parallel: opts.parallel, parallelMinBytes: 0, threads: 2 });
  } finally {
    p.cleanup();
  }
}

test('the split and the rows of a pinned file are those of the one-pass loader, on one thread and on two', async () => {
  const one = await loadPinned('\n', { parallel: false });
  assert.deepEqual([one.train.features.n, one.dev.features.n, one.test.features.n], PINNED_COUNTS);
  assert.equal(datasetDigest(one), PINNED_DIGEST);
  const two = await loadPinned('\n', { parallel: true });
  assert.equal(datasetDigest(two), PINNED_DIGEST);
});

const PINNED_COUNTS = [1500, 750, 750];
const PINNED_DIGEST = '311dabc8827795e5d36fa3ac06c80cbe0eb8925436c3fa1e5f1f84e72ce4ff55';

test('CRLF and CR line ends load to the same dataset on two threads as on one', async () => {
  for (const newline of ['\r\n', '\r']) {
    const one = await loadPinned(newline, { parallel: false });
    const two = await loadPinned(newline, { parallel: true });
    assert.equal(datasetDigest(two), datasetDigest(one), JSON.stringify(newline));
  }
});

test('a column found categorical by the scan (its text read in a second pass) loads alike on two threads', async () => {
  const csv = pinnedCsv();
  const load = async (parallel: boolean) => {
    // colour is not listed in data.categorical: the scan finds it categorical and the rows are read again.
    const p = tempProject(baseSpec({ data: { target: 'label' } }), { 'data.csv': csv });
    try {
      return await loadSplitDataset(p.projectFile, { parallel, parallelMinBytes: 0, threads: 2 });
    } finally {
      p.cleanup();
    }
  };
  const one = await load(false);
  assert.deepEqual(one.schema.categorical, ['colour']);
  assert.equal(datasetDigest(await load(true)), datasetDigest(one));
});
