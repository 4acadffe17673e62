// The Compare panel's error changes on real digits runs: a softmax run, three of its errors tagged,
// the tag augmented into a new version, a second run trained on it. Each run's counts per tag and
// per slice agree with that run's own error analysis; the worker gives the same; runs evaluated on
// different dev splits are refused.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyseRun, augmentToVersion } from '../../../src/core/analysis/analysis';
import { errorChangesInWorker } from '../../../src/core/analysis/analysisWorker';
import { errorChangesOfRuns } from '../../../src/core/analysis/compareErrors';
import { sliceRows } from '../../../src/core/analysis/slices';
import { writeTags } from '../../../src/core/analysis/tags';
import { trainExperiment } from '../../../src/core/experiment/trainExperiment';

const dir = mkdtempSync(join(tmpdir(), 'mlloop-errors-compare-'));
let first = '';
let second = '';
let tagged: string[] = [];

async function train(dataVersion?: string): Promise<string> {
  const o = await trainExperiment({
    projectDir: dir,
    experimentName: 'softmax',
    ...(dataVersion ? { dataVersion } : {}),
  });
  assert.equal(o.status, 'completed', o.error?.message);
  return o.runId;
}

before(async () => {
  cpSync(join(__dirname, '..', '..', '..', 'examples', 'digits'), dir, {
    recursive: true,
    filter: (src) => !src.includes('.mlloop'),
  });
  first = await train();
  const a = await analyseRun({ projectDir: dir, run: first });
  tagged = a.table.ids.filter((_, i) => a.table.wrong[i]).slice(0, 3);
  const correct = a.table.ids.find((_, i) => !a.table.wrong[i])!;
  await writeTags(dir, { ...Object.fromEntries(tagged.map((id) => [id, ['smudged']])), [correct]: ['clean'] });
  const v = await augmentToVersion({ projectDir: dir, recipe: { source: { tag: 'smudged' }, count: 60, seed: 3 } });
  second = await train(v.id);
});

test("per run: all dev errors, errors per tag and per slice of the first run, as each run's own analysis counts them", async () => {
  const c = await errorChangesOfRuns({ projectDir: dir, runIds: [first, second] });
  const [a, b] = [
    await analyseRun({ projectDir: dir, run: first }),
    await analyseRun({ projectDir: dir, run: second }),
  ];
  assert.deepEqual(c.runIds, [first, second]);
  assert.equal(c.devRows, a.table.n);
  assert.deepEqual(c.errors, [a.table.errorCount, b.table.errorCount]);
  const wrongIn = (t: typeof a.table, ids: string[]) => ids.filter((id) => t.wrong[t.ids.indexOf(id)]).length;
  assert.deepEqual(c.tags, [
    { tag: 'clean', tagged: 1, errors: [0, 0] },
    { tag: 'smudged', tagged: 3, errors: [3, wrongIn(b.table, tagged)] },
  ]);
  assert.deepEqual(
    c.slices.map((s) => s.key),
    a.slices.slice(0, 10).map((s) => s.key),
  );
  for (const s of c.slices) {
    const rows = sliceRows(a.dataset.schema, a.dataset.dev, a.slices.find((x) => x.key === s.key)!.conditions);
    assert.deepEqual(
      s.errors,
      [a.slices.find((x) => x.key === s.key)!.errors, rows.filter((i) => b.table.wrong[i]).length],
      s.label,
    );
  }
});

test('the worker gives the same changes', async () => {
  assert.deepEqual(
    await errorChangesInWorker({ projectDir: dir, runIds: [second, first] }),
    await errorChangesOfRuns({ projectDir: dir, runIds: [second, first] }),
  );
});

test('runs evaluated on different dev splits are refused', async () => {
  const file = join(dir, 'mlloop.json');
  const text = readFileSync(file, 'utf8');
  assert.match(text, /"seed": 7/);
  writeFileSync(file, text.replace('"seed": 7', '"seed": 8')); // another split of the same file
  const other = await train();
  await assert.rejects(errorChangesOfRuns({ projectDir: dir, runIds: [first, other] }), /different dev splits/);
});
