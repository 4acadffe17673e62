import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { profileFindingsToProblems, profileProject } from '../../../src/core/data/profile';
import type { DataProfile, NumericColumnStats, CategoricalColumnStats } from '../../../src/core/data/profileTypes';
import { baseSpec, positionOf, tempProject } from './fixture';
import type { ProjectSpec } from '../../../src/core/spec/types';

async function profileOf(csv: string, spec: ProjectSpec = baseSpec()): Promise<{ profile: DataProfile; text: string; projectFile: string }> {
  const p = tempProject(spec, { 'data.csv': csv });
  try {
    return { profile: await profileProject(p.dir), text: p.text, projectFile: p.projectFile };
  } finally {
    p.cleanup();
  }
}

const column = (p: DataProfile, name: string) => p.columns.find((c) => c.name === name)!;

test('numeric column statistics and histogram; categorical top values; missing and distinct counts', async () => {
  const xs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const rows = xs.map((x, i) => `${x},${i < 2 ? '' : ['red', 'red', 'blue'][i % 3]},${i % 2 ? 'a' : 'b'}`);
  const { profile } = await profileOf(['x,colour,label', ...rows, 'NA,red,a'].join('\n'));
  const x = column(profile, 'x');
  assert.deepEqual([x.role, x.count, x.missing, x.distinct, x.constant], ['feature', 11, 1, 10, false]);
  const s = x.stats as NumericColumnStats;
  assert.equal(s.kind, 'numeric');
  assert.deepEqual([s.min, s.max, s.mean], [1, 10, 5.5]);
  assert.ok(Math.abs(s.std - Math.sqrt(82.5 / 9)) < 1e-12);
  assert.equal(s.histogram.counts.reduce((a, b) => a + b, 0), 10);
  assert.equal(s.histogram.edges.length, s.histogram.counts.length + 1);
  assert.deepEqual([s.histogram.edges[0], s.histogram.edges.at(-1)], [1, 10]);
  const colour = column(profile, 'colour');
  assert.equal(colour.missing, 2);
  assert.deepEqual((colour.stats as CategoricalColumnStats).topValues, [
    { value: 'red', count: 6 },
    { value: 'blue', count: 3 },
  ]);
  assert.equal(column(profile, 'label').role, 'target');
  const info = profile.findings.filter((f) => f.code === 'missing-values').map((f) => f.column);
  assert.deepEqual(info.sort(), ['colour', 'x']);
});

test('class balance overall and per split adds up to the split sizes', async () => {
  const rows = Array.from({ length: 90 }, (_, i) => `${i},${i < 60 ? 'a' : i < 80 ? 'b' : 'c'}`);
  const { profile } = await profileOf(['x,label', ...rows].join('\n'), baseSpec({ data: { split: { dev: 0.2, test: 0.1, seed: 3 } } }));
  assert.deepEqual(profile.classBalance!.map((c) => [c.class, c.total, c.train + c.dev + c.test]), [
    ['a', 60, 60],
    ['b', 20, 20],
    ['c', 10, 10],
  ]);
  for (const split of ['train', 'dev', 'test'] as const) {
    assert.equal(profile.classBalance!.reduce((s, c) => s + c[split], 0), profile.split[split]);
  }
  assert.deepEqual(profile.classBalance!.map((c) => c.dev), [12, 4, 2]);
});

test('duplicate rows and rows shared by train and dev/test are counted', async () => {
  // A given split puts the same row (x=1,a) in train and dev, and (x=2,b) twice in train.
  const csv = 'x,label,fold\n1,a,train\n1,a,dev\n2,b,train\n2,b,train\n3,a,train\n4,b,dev\n5,a,test\n1,a,test\n';
  const { profile } = await profileOf(csv, baseSpec({ data: { split: { column: 'fold' } } }));
  assert.equal(profile.duplicateRows, 3);
  assert.equal(profile.leakageRows, 2);
  assert.ok(profile.findings.some((f) => f.code === 'duplicate-rows' && /3 row/.test(f.message)));
  assert.ok(profile.findings.some((f) => f.code === 'leakage-rows' && /2 dev\/test row/.test(f.message)));
  assert.equal(column(profile, 'fold').role, 'split');
});

test('constant columns and features that give the label away are flagged; ordinary ones are not', async () => {
  const rows = Array.from({ length: 200 }, (_, i) => {
    const label = i % 3 === 0 ? 'yes' : 'no';
    const leak = label === 'yes' ? 'approved' : 'rejected';
    return `${(i * 7919) % 101},7,${leak},${label === 'yes' ? 100 + (i % 10) : i % 10},${label}`;
  });
  const { profile } = await profileOf(['noise,const,status,score,label', ...rows].join('\n'));
  const flagged = (code: string) => profile.findings.filter((f) => f.code === code).map((f) => f.column).sort();
  assert.deepEqual(flagged('constant-column'), ['const']);
  assert.deepEqual(flagged('suspected-leakage-feature'), ['score', 'status']);
  assert.ok(column(profile, 'const').constant);
});

test('regression: a feature almost equal to the target is suspected leakage', async () => {
  const rows = Array.from({ length: 100 }, (_, i) => `${i},${(i * 37) % 11},${2 * i + 1}`);
  const spec = baseSpec({ task: 'regression', metric: 'rmse', experiments: {}, data: { target: 'y', split: { dev: 0.2, seed: 1 } } });
  const { profile } = await profileOf(['copy,noise,y', ...rows].join('\n'), spec);
  assert.deepEqual(profile.findings.filter((f) => f.code === 'suspected-leakage-feature').map((f) => f.column), ['copy']);
  assert.equal(profile.classBalance, undefined);
});

test('class imbalance is a finding', async () => {
  const rows = Array.from({ length: 120 }, (_, i) => `${i % 13},${i < 115 ? 'common' : 'rare'}`);
  const { profile } = await profileOf(['x,label', ...rows].join('\n'));
  assert.ok(profile.findings.some((f) => f.code === 'class-imbalance' && /"rare" has 5 rows/.test(f.message)));
});

test('findings become Problems at the field of mlloop.json they concern', async () => {
  const rows = Array.from({ length: 60 }, (_, i) => `${i % 5},1,${i % 2 ? 'p' : 'q'},${i % 2 ? 'a' : 'b'}`);
  const spec = baseSpec({ data: { features: ['x', 'const', 'status'] } });
  const { profile, text, projectFile } = await profileOf(['x,const,status,label', ...rows, '0,1,q,b'].join('\n'), spec);
  const problems = profileFindingsToProblems(profile, projectFile, text);
  const byCode = (code: string) => problems.find((p) => p.code === code)!;
  const constant = byCode('constant-column');
  assert.deepEqual(constant.jsonPath, ['data', 'features', 1]);
  assert.deepEqual({ line: constant.line, column: constant.column }, positionOf(text, '"const"'));
  assert.equal(constant.severity, 'warning');
  const leak = byCode('suspected-leakage-feature');
  assert.deepEqual({ line: leak.line, column: leak.column }, positionOf(text, '"status"'));
  const dup = byCode('duplicate-rows');
  assert.deepEqual(dup.jsonPath, ['data', 'split', 'seed']);
  assert.ok(problems.every((p) => p.file === projectFile && p.severity !== 'information'));
});

test('digits: histograms for pixels, 10 balanced classes, 8×8 sample images per class', async () => {
  const profile = await profileProject(join(__dirname, '../../../examples/digits'));
  assert.equal(profile.rows, 1797);
  assert.equal(profile.classBalance!.length, 10);
  const img = profile.imageSamples!;
  assert.deepEqual([img.width, img.height, img.channels], [8, 8, 1]);
  assert.deepEqual(img.byClass.map((c) => c.class), ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  for (const c of img.byClass) {
    assert.equal(c.pixels.length, 8);
    for (const px of c.pixels) {
      assert.equal(px.length, 64);
      assert.ok(px.every((v) => v >= 0 && v <= 16));
    }
  }
  assert.match(profile.dataVersion, /^[0-9a-f]{12}$/);
  assert.equal(profile.leakageRows, 0);
  assert.ok(profile.findings.every((f) => f.code !== 'suspected-leakage-feature'));
});

test('a classification target lists every class, in class order (numbers by value), even past 20 classes', async () => {
  const rows = Array.from({ length: 250 }, (_, i) => `${i},${(i * 7) % 25}`);
  const { profile } = await profileOf(['x,label', ...rows].join('\n'));
  const top = (column(profile, 'label').stats as CategoricalColumnStats).topValues;
  assert.deepEqual(top.map((t) => t.value), Array.from({ length: 25 }, (_, i) => String(i)));
  assert.ok(top.every((t) => t.count === 10));
});
