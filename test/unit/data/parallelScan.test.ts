// A CSV file read in ranges on worker threads gives exactly the one-pass scan: rows, typed columns,
// row ids, labels, the same problems at the same lines; files the ranges cannot reproduce (quotes that
// are not RFC 4180 quoting, a broken row) are read in one pass, with the one pass's error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { csvRangeStarts, scanCsvInRanges, scanTableInParallel } from '../../../src/core/data/parallelScan';
import { scanTable, type TableScan } from '../../../src/core/data/scan';
import { mulberry32 } from '../../../src/core/data/prng';
import { baseSpec } from './fixture';
import type { ProjectSpec } from '../../../src/core/spec/types';

const dir = mkdtempSync(join(tmpdir(), 'mlloop-parallel-scan-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function write(content: string): string {
  const file = join(dir, `d${files++}.csv`);
  writeFileSync(file, content);
  return file;
}

/** Rows with quoted fields (commas, doubled quotes, newlines), categories, missing and stray values, ragged rows. */
function messyCsv(rows: number, nl: '\n' | '\r\n', seed = 7): string {
  const rand = mulberry32(seed);
  const lines = ['x,note,colour,label,part'];
  for (let i = 0; i < rows; i++) {
    const r = rand();
    const x = r < 0.05 ? '' : r < 0.06 ? 'NA' : i === 1234 ? 'oops' : (rand() * 100 - 50).toFixed(3);
    const note = r < 0.2 ? `"two${nl}lines, ${i}"` : r < 0.3 ? `"say ""hi"" ${i}"` : r < 0.35 ? '""' : `plain${i % 50}`;
    const colour = ['red', 'green', '"blue, dark"', ''][i % 4];
    const label = i % 97 === 5 ? '' : ['a', 'b', 'c'][Math.floor(rand() * 3)];
    const part = i === 2000 ? 'validation' : ['train', 'dev', 'test'][i % 3];
    lines.push(i % 500 === 250 ? `${x},${note}` : [x, note, colour, label, part].join(','));
  }
  return lines.join(nl) + nl;
}

function comparable(s: TableScan) {
  return {
    rows: s.rows,
    fileHash: s.fileHash,
    bytes: s.bytes,
    header: s.header,
    hashHi: [...s.hashHi],
    hashLo: [...s.hashLo],
    targetCode: s.targetCode && [...s.targetCode],
    targetValue: s.targetValue && [...s.targetValue],
    splitCode: s.splitCode && [...s.splitCode],
    problems: s.problems.map((p) => `${p.file}:${p.line} ${p.code} ${p.message}`),
    features: s.features.map((c) => c.name),
    columns: s.columns.map((c) => ({
      name: c.name,
      kind: c.kind,
      role: c.role,
      counts: [c.count, c.missing, c.numeric, c.nonNumeric, c.min, c.max, c.distinct],
      distinctCapped: c.distinctCapped,
      firstNonNumeric: c.firstNonNumeric,
      numbers: [...c.numbers],
      strings: [...c.strings],
      stringCounts: c.stringCounts,
      values: c.values && [...c.values.view()],
      codes: c.codes && [...c.codes.view()],
    })),
  };
}

async function assertSameAsOnePass(
  spec: ProjectSpec,
  file: string,
  newline: '\n' | '\r\n',
  threads: number,
  block?: number,
) {
  const one = await scanTable(spec, file, { storeValues: true });
  const size = (await import('node:fs')).statSync(file).size;
  const ranges = await scanCsvInRanges(
    spec,
    file,
    size,
    newline,
    { storeValues: true },
    { threads, minBytes: 0, block },
  );
  assert.ok(ranges, 'read in ranges');
  assert.deepEqual(comparable(ranges), comparable(one));
  for (let i = 0; i < one.columns.length; i++) {
    // Sums of ranges added up: equal to rounding.
    assert.ok(Math.abs(ranges.columns[i].mean - one.columns[i].mean) <= 1e-9 * (1 + Math.abs(one.columns[i].mean)));
    assert.ok(Math.abs(ranges.columns[i].std - one.columns[i].std) <= 1e-9 * (1 + one.columns[i].std));
  }
  return one;
}

const spec = baseSpec({ data: { target: 'label', categorical: ['colour'], split: { column: 'part' } } });

test('quoted fields with newlines, commas and doubled quotes, ragged rows, stray values: ranges = one pass', async () => {
  const file = write(messyCsv(3000, '\n'));
  for (const threads of [2, 3, 7]) {
    const one = await assertSameAsOnePass(spec, file, '\n', threads);
    // The problems are those of the file, at their lines.
    assert.ok(one.problems.some((p) => p.code === 'data-ragged'));
    assert.ok(one.problems.some((p) => p.code === 'data-bad-split-value'));
  }
  // Range starts looked for in blocks of a few bytes: quotes and escaped pairs across block ends.
  for (const block of [1, 2, 5, 64]) await assertSameAsOnePass(spec, file, '\n', 5, block);
});

test('CRLF line ends and a UTF-8 BOM', async () => {
  const file = write('\uFEFF' + messyCsv(2000, '\r\n', 3));
  await assertSameAsOnePass(spec, file, '\r\n', 4);
  await assertSameAsOnePass(spec, file, '\r\n', 3, 3);
});

test('a file without a trailing newline; regression with a numeric target', async () => {
  const regression = baseSpec({ task: 'regression', data: { target: 'y', split: { dev: 0.2, test: 0.2, seed: 1 } } });
  const rand = mulberry32(1);
  const lines = ['a,b,y'];
  for (let i = 0; i < 1500; i++)
    lines.push(`${rand().toFixed(4)},${i % 7 === 0 ? '' : rand().toFixed(2)},${(rand() * 10).toFixed(3)}`);
  await assertSameAsOnePass(regression, write(lines.join('\n')), '\n', 3);
});

test('range starts fall on line ends outside quoted fields', async () => {
  const text = 'h1,h2\n"a\nb",1\n"c\n\nd",2\n"e",3\n';
  const file = write(text);
  const cut = await csvRangeStarts(file, text.length, 6, '\n', 2);
  assert.ok(cut);
  assert.equal(cut.headerEnd, 6);
  // Only the starts of records: after "1\n", after "2\n".
  for (const s of cut.starts) assert.ok([6, text.indexOf('"c'), text.indexOf('"e')].includes(s), `start ${s}`);
});

test('quotes that are not RFC 4180 quoting: read in one pass, with its result', async () => {
  const lines = ['x,note,colour,label,part'];
  for (let i = 0; i < 500; i++) lines.push(`${i},ab"c${i},red,a,train`);
  const file = write(lines.join('\n') + '\n');
  assert.equal(await csvRangeStarts(file, 1e9, 2, '\n'), undefined);
  const one = await scanTable(spec, file, { storeValues: true });
  const parallel = await scanTableInParallel(spec, file, { storeValues: true, parallel: { threads: 2, minBytes: 0 } });
  assert.deepEqual(comparable(parallel), comparable(one));
});

test('a header-only file and a broken row: the one pass’s error, naming the line', async () => {
  const opts = { storeValues: true, parallel: { threads: 2, minBytes: 0 } };
  const headerOnly = write('x,note,colour,label,part\n');
  await assert.rejects(scanTableInParallel(spec, headerOnly, opts), { code: 'data-header-only', line: 2 });
  const lines = messyCsv(1000, '\n').split('\n');
  lines[800] = '1,"never closed,red,a,train';
  const broken = write(lines.join('\n'));
  const expected = await scanTable(spec, broken).then(
    () => assert.fail('the one pass reads it'),
    (e: { code: string; line: number }) => e,
  );
  assert.equal(expected.code, 'data-csv-syntax');
  await assert.rejects(scanTableInParallel(spec, broken, opts), { code: expected.code, line: expected.line });
});
