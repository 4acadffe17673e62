// A CSV file read in byte ranges on several threads (planCsvRanges + readCsvRange, scanTable's parallel
// scan) gives what reading it from start to end gives: the same records at the same lines, the same
// scan and the same errors; files whose line ends may sit inside a quoted field are never split.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataError } from '../../../src/core/data/errors';
import { planCsvRanges, readCsvRange, readTable } from '../../../src/core/data/reader';
import { scanTable, type TableScan } from '../../../src/core/data/scan';
import { baseSpec } from './fixture';

function withFile<T>(content: string | Buffer, fn: (file: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'mlloop-ranges-'));
  const file = join(dir, 'data.csv');
  writeFileSync(file, content);
  return fn(file).finally(() => rmSync(dir, { recursive: true, force: true }));
}

type Read = { header: string[]; records: { fields: string[]; line: number }[] };

async function readWhole(file: string): Promise<Read> {
  const out: Read = { header: [], records: [] };
  await readTable(file, {
    header: (h) => (out.header = h),
    record: (fields, line) => out.records.push({ fields, line }),
  });
  return out;
}

async function readInRanges(file: string, parts = 2): Promise<Read> {
  const plan = await planCsvRanges(file, parts, { minBytes: 0 });
  assert.ok(plan, 'the file is split');
  assert.equal(plan.ranges.length, parts);
  const out: Read = { header: plan.header, records: [] };
  for (const range of plan.ranges)
    await readCsvRange(file, range, { record: (fields, line) => out.records.push({ fields, line }) });
  return out;
}

/** 200 rows of "i,i*2,word" with `newline`, the last line end optional. */
function rows(newline: string, { finalNewline = true, first = (i: number) => String(i) } = {}): string {
  const lines = ['id,n,word'];
  for (let i = 0; i < 200; i++)
    lines.push(`${first(i)},${i % 7 === 0 ? '' : i * 2},${i % 5 === 0 ? '' : 'w' + (i % 3)}`);
  return lines.join(newline) + (finalNewline ? newline : '');
}

test('ranges read the records and lines a whole read does: LF, CRLF, CR, no last newline, BOM, empty fields, blank lines', async () => {
  const cases: [string, string | Buffer][] = [
    ['LF', rows('\n')],
    ['CRLF', rows('\r\n')],
    ['CR', rows('\r')],
    ['no last newline', rows('\n', { finalNewline: false })],
    ['BOM', '\uFEFF' + rows('\r\n')],
    // A U+FEFF starting a line past the first is a character of its field, also at a range's start.
    ['U+FEFF at line starts', '\uFEFF' + rows('\n', { first: (i) => `\uFEFF${i}` })],
    ['blank lines', rows('\n').replace(/\n(1\d),/g, '\n\n$1,')],
  ];
  for (const [name, content] of cases) {
    await withFile(content, async (file) => {
      const whole = await readWhole(file);
      assert.deepEqual(await readInRanges(file), whole, name);
      assert.deepEqual(await readInRanges(file, 3), whole, `${name}, 3 ranges`);
      assert.ok(whole.records.length >= 200, name);
    });
  }
});

test('a file whose line ends may not all be record ends is read by one thread: a quote anywhere, a bare LF in CRLF', async () => {
  for (const content of [
    rows('\n') + '201,"two\nlines",x\n',
    rows('\n') + '201,"quoted",x\n',
    '"id",n,word\n' + rows('\n').split('\n').slice(1).join('\n'),
  ]) {
    await withFile(content, async (file) => assert.equal(await planCsvRanges(file, 2, { minBytes: 0 }), undefined));
  }
  // Nor a CRLF file with a bare LF (a character of its field) before the split, a file below the size
  // worth a second thread, or one whose first line is blank.
  await withFile(rows('\r\n').replace('\r\n12,', '\n12,'), async (file) =>
    assert.equal(await planCsvRanges(file, 2, { minBytes: 0 }), undefined),
  );
  await withFile(rows('\n'), async (file) => assert.equal(await planCsvRanges(file, 2), undefined));
  await withFile('\n' + rows('\n'), async (file) =>
    assert.equal(await planCsvRanges(file, 2, { minBytes: 0 }), undefined),
  );
});

test('invalid UTF-8 in the second range is reported at the line a whole read reports', async () => {
  const text = rows('\n');
  const at = text.indexOf('\n190,') + 1;
  const bytes = Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from([0xff]), Buffer.from(text.slice(at))]);
  await withFile(bytes, async (file) => {
    const whole = await readWhole(file).then(
      () => assert.fail('the whole read must fail'),
      (e: DataError) => e,
    );
    const plan = (await planCsvRanges(file, 2, { minBytes: 0 }))!;
    assert.ok(plan.ranges[1].start < at, 'the bad byte is in the second range');
    const ranged = await readCsvRange(file, plan.ranges[1], { record: () => undefined }).then(
      () => assert.fail('the range read must fail'),
      (e: DataError) => e,
    );
    assert.equal(whole.code, 'data-not-utf8');
    assert.deepEqual([ranged.code, ranged.line], [whole.code, whole.line]);
    assert.equal(whole.line, 192);
  });
});

/** The parts of a scan that must not depend on how many threads read the file. */
function comparable(s: TableScan) {
  return {
    ...s,
    threads: undefined,
    target: s.target?.name,
    splitColumn: s.splitColumn?.name,
    features: s.features.map((c) => c.name),
    problems: s.problems.map((p) => [p.line, p.code, p.detail]),
    columns: s.columns.map((c) => ({
      ...c,
      values: c.values?.view(),
      codes: c.codes?.view(),
      // Sums of another range are re-shifted on merging: equal up to rounding.
      mean: Number(c.mean.toPrecision(10)),
      std: Number(c.std.toPrecision(10)),
      shift: undefined,
      sum: undefined,
      sumSq: undefined,
    })),
  };
}

test('a scan on two or three threads equals the one-thread scan: types, codes, hashes, and problems at their lines', async () => {
  const lines = ['id,x,kind,grade,split,label'];
  for (let i = 0; i < 400; i++) {
    const x = i === 250 ? 'oops' : i % 9 === 0 ? 'NA' : (i / 7).toFixed(3);
    const kind = i < 200 ? ['a', 'b'][i % 2] : ['c', 'b', 'd'][i % 3]; // new categories in the second half
    const split = i === 330 ? 'holdout' : ['train', 'train', 'dev', 'test'][i % 4];
    const label = i % 37 === 5 ? '' : i < 200 ? ['yes', 'no'][i % 2] : ['maybe', 'no', 'yes'][i % 3];
    const row = [i, x, kind, i % 4, split, label].join(',');
    // Ragged rows in both halves: more than are reported one by one.
    lines.push(i % 31 === 3 ? row + ',extra' : row);
  }
  const spec = baseSpec({ data: { target: 'label', categorical: ['grade'], split: { column: 'split' } } });
  await withFile(lines.join('\n') + '\n', async (file) => {
    const one = await scanTable(spec, file, { storeValues: true });
    assert.equal(one.threads, 1);
    for (const threads of [2, 3]) {
      const more = await scanTable(spec, file, { storeValues: true, parallel: true, parallelMinBytes: 0, threads });
      assert.equal(more.threads, threads);
      assert.deepEqual(comparable(more), comparable(one), `${threads} threads`);
    }
    const codes = one.problems.map((p) => p.code);
    for (const code of <const>['data-ragged', 'data-bad-split-value', 'data-non-numeric', 'data-missing-target'])
      assert.ok(codes.includes(code), code);
    assert.ok(one.problems.some((p) => p.detail.includes('more rows have the wrong number of fields')));
    assert.deepEqual([...one.target!.strings.keys()], ['yes', 'no', 'maybe']);
  });
});

test('of errors in several ranges, the first in the file is the one reported, as on one thread', async () => {
  const text = rows('\n');
  /** The text with an invalid byte starting each line that begins with one of `at`. */
  const bad = (...at: string[]) => {
    let out = Buffer.from(text);
    for (const a of at) {
      const i = out.indexOf(a) + 1;
      out = Buffer.concat([out.subarray(0, i), Buffer.from([0xff]), out.subarray(i)]);
    }
    return out;
  };
  const spec = baseSpec({ data: { target: 'word' } });
  // Rows 20, 100 and 180 are in the first, second and third of three ranges.
  for (const [at, line] of [
    [['\n20,', '\n180,'], 22],
    [['\n100,', '\n180,'], 102],
  ] as const) {
    await withFile(bad(...at), async (file) => {
      const one = await scanTable(spec, file, {}).catch((e: DataError) => e);
      assert.ok(one instanceof DataError);
      assert.equal(one.line, line);
      for (const threads of [2, 3]) {
        const more = await scanTable(spec, file, { parallel: true, parallelMinBytes: 0, threads }).catch(
          (e: DataError) => e,
        );
        assert.ok(more instanceof DataError, `${threads} threads`);
        assert.deepEqual([more.code, more.line, more.file], [one.code, one.line, one.file], `${threads} threads`);
      }
    });
  }
});
