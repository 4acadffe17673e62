import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataError } from '../../../src/core/data/errors';
import { readTable } from '../../../src/core/data/reader';
import { isMissing, parseNumber } from '../../../src/core/data/values';

async function read(name: string, content: string | Buffer) {
  const dir = mkdtempSync(join(tmpdir(), 'mlloop-reader-'));
  const file = join(dir, name);
  writeFileSync(file, content);
  const header: string[][] = [];
  const records: { fields: string[]; line: number }[] = [];
  try {
    const result = await readTable(file, {
      header: (h) => header.push(h),
      record: (fields, line) => records.push({ fields, line }),
    });
    return { header: header[0], records, result, file };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('CSV per RFC 4180: quoted fields with commas, doubled quotes and newlines, CRLF, UTF-8 BOM', async () => {
  const csv = '\uFEFFid,text,n\r\n1,"a, b",2\r\n2,"say ""hi""",3\r\n3,"two\r\nlines",4\r\n4,plain,5\r\n';
  const { header, records, result } = await read('d.csv', csv);
  assert.deepEqual(header, ['id', 'text', 'n']);
  assert.deepEqual(
    records.map((r) => r.fields),
    [
      ['1', 'a, b', '2'],
      ['2', 'say "hi"', '3'],
      ['3', 'two\r\nlines', '4'],
      ['4', 'plain', '5'],
    ],
  );
  assert.deepEqual(
    records.map((r) => r.line),
    [2, 3, 4, 6],
  );
  assert.equal(result.records, 4);
  assert.equal(result.fileHash, createHash('sha256').update(Buffer.from(csv)).digest('hex'));
});

test('LF and CR-only line endings, blank lines skipped but counted, no final newline', async () => {
  const lf = await read('d.csv', 'a,b\n1,2\n\n3,4');
  assert.deepEqual(
    lf.records.map((r) => [r.line, ...r.fields]),
    [
      [2, '1', '2'],
      [4, '3', '4'],
    ],
  );
  const cr = await read('d.csv', 'a,b\r1,2\r3,4\r');
  assert.deepEqual(
    cr.records.map((r) => r.fields),
    [
      ['1', '2'],
      ['3', '4'],
    ],
  );
});

test('multi-byte UTF-8 split across read chunks decodes intact', async () => {
  const value = 'é'.repeat(700_000); // > 1 MB: crosses the 1 MiB read chunk
  const { records } = await read('d.csv', `a,b\n1,${value}\n2,ü\n`);
  assert.equal(records[0].fields[1], value);
  assert.deepEqual(records[1], { fields: ['2', 'ü'], line: 3 });
});

test("an unclosed quote is a CSV syntax error at the record's line", async () => {
  await assert.rejects(
    read('d.csv', 'a,b\n1,2\n3,"open\n4,5\n'),
    (e: DataError) => e.code === 'data-csv-syntax' && e.line === 3 && /never closed/.test(e.message),
  );
});

test('a duplicated column name is refused at line 1', async () => {
  await assert.rejects(
    read('d.csv', 'a,b,a\n1,2,3\n'),
    (e: DataError) => e.code === 'data-duplicate-column' && e.line === 1,
  );
});

test('DataError messages name the file and the line', async () => {
  await assert.rejects(
    read('d.csv', 'a,b\n'),
    (e: DataError) =>
      e instanceof DataError && e.message.endsWith('d.csv:2: The data file has a header row but no data rows'),
  );
});

test('JSON Lines: the first object gives the columns; nulls are missing; numbers become text', async () => {
  const { header, records } = await read(
    'd.jsonl',
    '{"x": 1.5, "c": "red", "y": "a"}\n\n{"c": null, "x": 2, "y": "b"}\n{"x": 3, "y": true}\n',
  );
  assert.deepEqual(header, ['x', 'c', 'y']);
  assert.deepEqual(records, [
    { fields: ['1.5', 'red', 'a'], line: 1 },
    { fields: ['2', '', 'b'], line: 3 },
    { fields: ['3', '', 'true'], line: 4 },
  ]);
});

test('JSON Lines errors: invalid JSON, a non-object, an unknown field — each at its line', async () => {
  await assert.rejects(
    read('d.jsonl', '{"x": 1}\n{"x": \n'),
    (e: DataError) => e.code === 'data-jsonl-syntax' && e.line === 2,
  );
  await assert.rejects(
    read('d.ndjson', '{"x": 1}\n[1]\n'),
    (e: DataError) => e.code === 'data-jsonl-syntax' && e.line === 2,
  );
  await assert.rejects(
    read('d.jsonl', '{"x": 1}\n{"x": 2, "z": 3}\n'),
    (e: DataError) => e.line === 2 && /"z" is not among/.test(e.message),
  );
});

test('missing values: empty, NA, NaN, null (and common variants); whitespace-only', () => {
  for (const v of ['', 'NA', 'NaN', 'null', 'N/A', 'NULL', 'nan', 'None', '  '])
    assert.equal(isMissing(v), true, JSON.stringify(v));
  for (const v of ['0', 'NAB', 'red', '-1', 'none of it']) assert.equal(isMissing(v), false, v);
});

test('numbers: decimals, exponents and signs; not hex, not text, not empty', () => {
  const cases: [string, number][] = [
    ['3', 3],
    ['-2.5', -2.5],
    ['1e3', 1000],
    ['.5', 0.5],
    [' 7 ', 7],
    ['+4', 4],
    ['0.1', 0.1],
    ['123456789012345678', 123456789012345680],
  ];
  for (const [s, v] of cases) assert.equal(parseNumber(s), v, s);
  for (const s of ['', '   ', 'abc', '0x1f', '1,5', 'Infinity', '1e400', '-', '.'])
    assert.ok(Number.isNaN(parseNumber(s)), s);
});
