// loadProject: every bad input gives a clear problem naming the file and line — in mlloop.json at the
// offending value, or in the data file at the offending line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openSync, closeSync, ftruncateSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasErrors, loadProject } from '../../../src/core/check/loadProject';
import type { Problem } from '../../../src/core/spec/problems';
import { problemFixEdits } from '../../../src/core/spec/jsonLocation';
import { applyEdits } from 'jsonc-parser';
import { baseSpec, positionOf, tabularCsv, tempProject, type TempProject } from '../data/fixture';

async function problemsOf(p: TempProject, opts = {}): Promise<Problem[]> {
  try {
    return (await loadProject(p.dir, opts)).problems;
  } finally {
    p.cleanup();
  }
}

function only(problems: Problem[], code: string): Problem {
  const found = problems.filter((p) => p.code === code);
  assert.equal(found.length, 1, `expected one ${code} problem, got:\n${problems.map((p) => `${p.code} ${p.file}:${p.line}:${p.column} ${p.message}`).join('\n')}`);
  return found[0];
}

test('a valid project has no problems and reports its rows, split and data version', async () => {
  const p = tempProject(baseSpec(), { 'data.csv': tabularCsv(40) });
  try {
    const loaded = await loadProject(p.dir);
    assert.deepEqual(loaded.problems, []);
    assert.equal(loaded.data!.rows, 40);
    assert.deepEqual(loaded.data!.split, { train: 20, dev: 10, test: 10 });
    assert.deepEqual(loaded.data!.classes, ['a', 'b']);
    assert.match(loaded.data!.version.id, /^[0-9a-f]{12}$/);
  } finally {
    p.cleanup();
  }
});

test('no mlloop.json is one problem naming the folder', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlloop-empty-'));
  try {
    const r = await loadProject(dir);
    assert.equal(r.problems[0].code, 'no-project');
    assert.ok(r.problems[0].message.includes(dir));
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('a data path that does not exist is reported at data.path', async () => {
  const p = tempProject(baseSpec({ data: { path: 'missing.csv' } }));
  const text = p.text;
  const problem = only(await problemsOf(p), 'data-not-found');
  assert.equal(problem.file, p.projectFile);
  assert.deepEqual({ line: problem.line, column: problem.column }, positionOf(text, '"missing.csv"'));
});

test('an unknown target is reported at data.target, listing the columns', async () => {
  const p = tempProject(baseSpec({ data: { target: 'lable' } }), { 'data.csv': tabularCsv(20) });
  const problem = only(await problemsOf(p), 'data-unknown-column');
  assert.equal(problem.file, p.projectFile);
  assert.match(problem.message, /no column "lable": did you mean "label"\? \(its columns: x1, x2, colour, label\)/);
  assert.deepEqual({ line: problem.line, column: problem.column }, positionOf(p.text, '"lable"'));
  assert.deepEqual(problem.fixes, [{ title: 'Use column "label"', edits: [{ jsonPath: ['data', 'target'], value: 'label' }] }]);
});

test('a wrong target among 15 columns names the closest one and lists all 15', async () => {
  const names = ['alcohol', 'malic_acid', 'ash', 'alcalinity', 'magnesium', 'phenols', 'flavanoids', 'nonflavanoid', 'proanthocyanins', 'color', 'hue', 'od280', 'proline', 'batch', 'cultivar'];
  const csv = [names.join(','), ...Array.from({ length: 20 }, (_, i) => names.map((n) => (n === 'cultivar' ? `c${i % 3}` : String(i))).join(','))].join('\n') + '\n';
  const p = tempProject(baseSpec({ data: { target: 'cultivars' } }), { 'data.csv': csv });
  const problem = only(await problemsOf(p), 'data-unknown-column');
  assert.match(problem.message, /did you mean "cultivar"\?/);
  assert.ok(problem.message.includes(names.join(', ')), problem.message);
  assert.equal(problem.fixes?.[0].edits[0].value, 'cultivar');
  // Nothing close: no guess, no fix.
  const far = tempProject(baseSpec({ data: { target: 'species' } }), { 'data.csv': csv });
  const none = only(await problemsOf(far), 'data-unknown-column');
  assert.doesNotMatch(none.message, /did you mean/);
  assert.equal(none.fixes, undefined);
});

test('a split column used as a feature is a warning with a fix that splits by it', async () => {
  const csv = ['x1,x2,split,label', ...Array.from({ length: 30 }, (_, i) => `${i},${i % 7},${['train', 'train', 'dev', 'test'][i % 4]},${i % 2 ? 'a' : 'b'}`)].join('\n') + '\n';
  const p = tempProject(baseSpec({ data: { split: undefined } }), { 'data.csv': csv });
  const problem = only(await problemsOf(p), 'split-column-as-feature');
  assert.equal(problem.severity, 'warning');
  assert.match(problem.message, /"split" looks like a train\/dev\/test split but is used as a feature: add "split": \{ "column": "split" \}/);
  assert.deepEqual(problem.fixes, [{ title: 'Split the data by column "split"', edits: [{ jsonPath: ['data', 'split'], value: { column: 'split' } }] }]);
  // By its values too, under another name; listed in features: the fix also drops it from them.
  const byValues = csv.replace('x1,x2,split,label', 'x1,x2,part,label');
  const q = tempProject(baseSpec({ data: { split: undefined, features: ['x1', 'part'] } }), { 'data.csv': byValues });
  const listed = only(await problemsOf(q), 'split-column-as-feature');
  assert.deepEqual(listed.jsonPath, ['data', 'features', 1]);
  assert.deepEqual(listed.fixes![0].edits[1], { jsonPath: ['data', 'features', 1], value: undefined });
  // The fix, applied to the text as the editor does, leaves a project with neither problem.
  const fixed = applyEdits(q.text, problemFixEdits(q.text, listed.fixes![0]));
  const r = tempProject(fixed, { 'data.csv': byValues });
  const after = await problemsOf(r);
  assert.deepEqual(after.filter((x) => x.severity !== 'information').map((x) => x.code), []);
  assert.match(fixed, /"split": \{\s*"column": "part"\s*\}/);
  // Split by that column: no warning.
  const ok = tempProject(baseSpec({ data: { split: { column: 'split' } } }), { 'data.csv': csv });
  assert.ok(!(await problemsOf(ok)).some((x) => x.code === 'split-column-as-feature'));
});

test('an unknown feature is reported at its entry in data.features', async () => {
  const p = tempProject(baseSpec({ data: { features: ['x1', 'x3'] } }), { 'data.csv': tabularCsv(20) });
  const problem = only(await problemsOf(p), 'data-unknown-column');
  assert.deepEqual(problem.jsonPath, ['data', 'features', 1]);
  assert.deepEqual({ line: problem.line, column: problem.column }, positionOf(p.text, '"x3"'));
});

test('a target with one class is reported at data.target', async () => {
  const p = tempProject(baseSpec(), { 'data.csv': tabularCsv(20, () => 'same') });
  const problem = only(await problemsOf(p), 'data-target-classes');
  assert.match(problem.message, /1 class: every row is "same"; classification needs at least 2/);
  assert.deepEqual({ line: problem.line, column: problem.column }, positionOf(p.text, '"label"', '"target"'));
});

test('a split that leaves no dev rows is reported at data.split.dev', async () => {
  const p = tempProject(baseSpec({ data: { split: { dev: 0.05, seed: 1 } } }), { 'data.csv': tabularCsv(6) });
  const problem = only(await problemsOf(p), 'data-no-dev-rows');
  assert.deepEqual(problem.jsonPath, ['data', 'split', 'dev']);
  assert.deepEqual({ line: problem.line, column: problem.column }, positionOf(p.text, '0.05'));
});

test('dev + test ≥ 1 leaves no training rows', async () => {
  const p = tempProject(baseSpec({ data: { split: { dev: 0.5, test: 0.5 } } }), { 'data.csv': tabularCsv(10) });
  const problem = only(await problemsOf(p), 'data-no-train-rows');
  assert.deepEqual(problem.jsonPath, ['data', 'split', 'test']);
});

test('a split column value other than train/dev/test is reported at its data line', async () => {
  const csv = 'x,label,fold\n1,a,train\n2,b,train\n3,a,dev\n4,b,validation\n5,a,test\n';
  const p = tempProject(baseSpec({ data: { split: { column: 'fold' } } }), { 'data.csv': csv });
  const problem = only(await problemsOf(p), 'data-bad-split-value');
  assert.equal(problem.file, p.path('data.csv'));
  assert.equal(problem.line, 5);
  assert.match(problem.message, /"validation": its values must be train, dev or test/);
});

test('an empty data file is an error in the data file and at data.path', async () => {
  const p = tempProject(baseSpec(), { 'data.csv': '' });
  const problems = await problemsOf(p);
  const inData = problems.find((x) => x.file.endsWith('data.csv'))!;
  assert.equal(inData.code, 'data-empty');
  assert.equal(inData.line, 1);
  assert.match(inData.message, /empty/);
  const atPath = problems.find((x) => x.file === p.projectFile)!;
  assert.deepEqual(atPath.jsonPath, ['data', 'path']);
  assert.match(atPath.message, /data\.csv \(line 1\): The data file is empty/);
});

test('a header without data rows is an error', async () => {
  const p = tempProject(baseSpec(), { 'data.csv': 'x1,x2,colour,label\r\n' });
  const problems = await problemsOf(p);
  const inData = problems.find((x) => x.file.endsWith('data.csv'))!;
  assert.equal(inData.code, 'data-header-only');
  assert.match(inData.message, /header row but no data rows/);
});

test('ragged rows are reported at their line, counting lines inside quoted fields', async () => {
  const csv = 'x1,x2,colour,label\n1,2,"dark\nred",a\n2,3,blue,b\n3,4,red\n4,5,green,b,extra\n5,6,red,a\n6,7,blue,b\n';
  const p = tempProject(baseSpec(), { 'data.csv': csv });
  const ragged = (await problemsOf(p)).filter((x) => x.code === 'data-ragged');
  assert.deepEqual(
    ragged.map((r) => [r.line, r.message]),
    [
      [5, 'This row has 3 fields; the header has 4'],
      [6, 'This row has 5 fields; the header has 4'],
    ],
  );
  assert.ok(ragged.every((r) => r.severity === 'error' && r.file.endsWith('data.csv')));
});

test('a non-numeric value in a numeric column is reported with its line', async () => {
  const rows = Array.from({ length: 30 }, (_, i) => `${i},${i % 3},red,${i % 2 ? 'a' : 'b'}`);
  rows[17] = '17,oops,red,a';
  const p = tempProject(baseSpec(), { 'data.csv': ['x1,x2,colour,label', ...rows].join('\n') });
  const problem = only(await problemsOf(p), 'data-non-numeric');
  assert.equal(problem.line, 19); // header is line 1, rows[0] line 2
  assert.match(problem.message, /Non-numeric value "oops" in the numeric column "x2"/);
  assert.match(problem.message, /data\.categorical/);
});

test('declaring the column categorical accepts the same values', async () => {
  const rows = Array.from({ length: 30 }, (_, i) => `${i},${i % 3},red,${i % 2 ? 'a' : 'b'}`);
  rows[17] = '17,oops,red,a';
  const p = tempProject(baseSpec({ data: { categorical: ['x2'] } }), { 'data.csv': ['x1,x2,colour,label', ...rows].join('\n') });
  assert.equal(hasErrors(await problemsOf(p)), false);
});

test('a file that is not UTF-8 is reported at the line of the first bad byte', async () => {
  const latin1 = Buffer.concat([Buffer.from('x1,x2,colour,label\n1,2,red,a\n2,3,'), Buffer.from([0x72, 0xe9, 0x64]), Buffer.from(',b\n3,4,red,a\n')]);
  const p = tempProject(baseSpec(), { 'data.csv': latin1 });
  const problems = await problemsOf(p);
  const inData = problems.find((x) => x.code === 'data-not-utf8' && x.file.endsWith('data.csv'))!;
  assert.equal(inData.line, 3);
  assert.match(inData.message, /not valid UTF-8/);
});

test('a 2 GB file is refused with a clear message (size guard, sparse file)', async () => {
  const p = tempProject(baseSpec());
  const fd = openSync(p.path('data.csv'), 'w');
  ftruncateSync(fd, 2 * 1024 ** 3);
  closeSync(fd);
  const t0 = Date.now();
  const problems = await problemsOf(p);
  assert.ok(Date.now() - t0 < 5000, 'the guard answers without reading the file');
  const inData = problems.find((x) => x.file.endsWith('data.csv'))!;
  assert.equal(inData.code, 'data-too-large');
  assert.match(inData.message, /2\.0 GB, above the 1\.0 GB ML Loop reads/);
  assert.match(inData.message, /--max-bytes/);
});

test('the size limit is configurable', async () => {
  const p = tempProject(baseSpec(), { 'data.csv': tabularCsv(100) });
  const problems = await problemsOf(p, { maxBytes: 100 });
  assert.equal(problems.find((x) => x.file.endsWith('data.csv'))!.code, 'data-too-large');
});

test('a model that does not do the task is reported at the model', async () => {
  const p = tempProject(baseSpec({ experiments: { lin: { model: 'linear' } } }), { 'data.csv': tabularCsv(20) });
  const problem = only(await problemsOf(p), 'model-task');
  assert.match(problem.message, /The linear model does not do classification/);
  assert.deepEqual({ line: problem.line, column: problem.column }, positionOf(p.text, '"linear"'));
});

test('a sweep over a parameter the model lacks is reported at its key', async () => {
  const p = tempProject(baseSpec({ experiments: { l: { model: 'logistic', sweep: { l2: [0.1, 1], depth: [2] } } } }), { 'data.csv': tabularCsv(20) });
  const problem = only(await problemsOf(p), 'sweep-param');
  assert.deepEqual({ line: problem.line, column: problem.column }, positionOf(p.text, '"depth"'));
});

test('an experiment on a cluster that "clusters" lacks is reported at its "cluster"; a known one is fine', async () => {
  const clusters = { gpu: { kind: 'slurm' as const, partition: 'gpu', time: '02:00:00', setup: ['module load cuda'] } };
  const p = tempProject(baseSpec({ clusters, experiments: { a: { command: ['python3', 't.py'], cluster: 'gpu' }, b: { command: ['python3', 't.py'], cluster: 'cpu' } } }), { 'data.csv': tabularCsv(20) });
  const problem = only(await problemsOf(p), 'unknown-cluster');
  assert.match(problem.message, /No cluster "cpu" in "clusters" \(clusters: gpu\)/);
  assert.deepEqual({ line: problem.line, column: problem.column }, positionOf(p.text, '"cpu"'));
});

test('a regression target with text values is an error in the data', async () => {
  const csv = 'x,y\n1,2.5\n2,high\n3,low\n4,1\n';
  const p = tempProject(baseSpec({ task: 'regression', metric: 'rmse', experiments: {}, data: { target: 'y' } }), { 'data.csv': csv });
  const problem = only(await problemsOf(p), 'data-non-numeric');
  assert.equal(problem.line, 3);
  assert.match(problem.message, /regression target "y"/);
});

test('the target and the split column cannot be features', async () => {
  const p = tempProject(baseSpec({ data: { features: ['x1', 'label', 'fold'], split: { column: 'fold' } } }), { 'data.csv': 'x1,label,fold\n1,a,train\n2,b,dev\n' });
  const codes = (await problemsOf(p)).map((x) => x.code);
  assert.ok(codes.includes('feature-is-target') && codes.includes('feature-is-split'), codes.join());
});

test('schema errors elsewhere and data errors show at once; a broken "data" stops the data checks', async () => {
  const both = tempProject(baseSpec({ metric: 'acuracy' as never, data: { target: 'lable' } }), { 'data.csv': tabularCsv(20) });
  const problems = await problemsOf(both);
  assert.deepEqual(problems.map((p) => p.code).sort(), ['data-unknown-column', 'schema']);
  const typo = tempProject(baseSpec({ metric: 'acuracy' as never }), { 'data.csv': tabularCsv(20) });
  const r = await loadProject(typo.dir).finally(() => typo.cleanup());
  assert.equal(r.spec, undefined, 'an invalid project has no spec');
  assert.equal(r.data?.rows, 20, 'its data was read');
  const broken = tempProject(baseSpec({ data: { target: 'lable', split: { dev: 2 } as never } }), { 'data.csv': tabularCsv(20) });
  assert.ok((await problemsOf(broken)).every((p) => p.code === 'schema'));
});
