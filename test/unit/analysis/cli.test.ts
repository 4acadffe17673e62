// `ml-loop errors` and `ml-loop augment` through the CLI table on a real digits run: the error table
// agrees with run.json, tags from tags.json give the tag table, an augmented version trains with
// `ml-loop train --data-version`, and the next run's tag table shows the earlier count.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../src/cli/main';
import { writeTags } from '../../../src/core/analysis/tags';
import { trainExperiment } from '../../../src/core/experiment/trainExperiment';

const dir = mkdtempSync(join(tmpdir(), 'mlloop-errors-cli-'));
let runId = '';
let devAccuracy = 0;

async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (t) => out.push(t), err: (t) => err.push(t), cwd: dir });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

before(async () => {
  cpSync(join(__dirname, '..', '..', '..', 'examples', 'digits'), dir, { recursive: true });
  rmSync(join(dir, '.mlloop'), { recursive: true, force: true });
  const o = await trainExperiment({ projectDir: dir, experimentName: 'softmax' });
  assert.equal(o.status, 'completed', o.error?.message);
  runId = o.runId;
  devAccuracy = (o.metrics.dev as { accuracy: number }).accuracy;
});

test('errors --json: the dev errors agree with the recorded dev accuracy; tags give the tag table; slices listed', async () => {
  let r = await cli(['errors', '--run', runId, '--json']);
  assert.equal(r.code, 0, r.err);
  let d = JSON.parse(r.out);
  assert.equal(d.runId, runId);
  assert.ok(Math.abs(d.errorRate - (1 - devAccuracy)) < 1e-9, `${d.errorRate} vs ${1 - devAccuracy}`);
  assert.equal(d.examples.length, d.errors);
  const e = d.examples[0];
  assert.notEqual(e.truth, e.predicted);
  assert.equal(Object.keys(e.features).length, 64);
  assert.ok(e.loss >= d.examples[d.examples.length - 1].loss, 'highest loss first');
  assert.deepEqual(d.tags, []);
  assert.ok(Array.isArray(d.slices) && d.slices.every((s: { excessErrors: number }) => s.excessErrors > 0));
  // Tag two errors and one correct example.
  const errorIds: string[] = d.examples.slice(0, 2).map((x: { id: string }) => x.id);
  await writeTags(dir, { [errorIds[0]]: ['smudged'], [errorIds[1]]: ['smudged', 'rotated'] });
  r = await cli(['errors', '.', '--run', runId, '--json']);
  d = JSON.parse(r.out);
  assert.deepEqual(
    d.tags.map((t: { tag: string; errors: number; shareOfErrors: number; tagged: number }) => [
      t.tag,
      t.errors,
      t.tagged,
    ]),
    [
      ['smudged', 2, 2],
      ['rotated', 1, 1],
    ],
  );
  assert.ok(Math.abs(d.tags[0].shareOfErrors - 2 / d.errors) < 1e-12);
  const text = await cli(['errors', '--run', runId]);
  assert.match(text.out, /smudged\s+2/);
  assert.match(text.out, /Slices/);
});

test('augment --tag --count, then train --data-version, then errors shows the tag across runs', async () => {
  const r = await cli(['augment', '--tag', 'smudged', '--count', '30', '--seed', '4', '--json']);
  assert.equal(r.code, 0, r.err);
  const recipe = JSON.parse(r.out);
  assert.equal(recipe.rows, 30);
  assert.equal(recipe.details.method, 'image');
  const t = await cli(['train', '--experiment', 'softmax', '--data-version', recipe.id, '--json']);
  assert.equal(t.code, 0, t.err);
  const run2 = JSON.parse(t.out).runId;
  assert.equal(
    JSON.parse(readFileSync(join(dir, '.mlloop', 'runs', run2, 'run.json'), 'utf8')).dataVersion.id,
    recipe.id,
  );
  const e = JSON.parse((await cli(['errors', '--run', run2, '--json'])).out);
  assert.equal(e.dataVersion, recipe.id);
  const smudged = e.tags.find((x: { tag: string }) => x.tag === 'smudged');
  assert.deepEqual(smudged.history, [{ runId, errors: 2 }]);
});

test('usage errors: augment without a source or count; export without a source', async () => {
  assert.equal((await cli(['augment', '--count', '3'])).code, 2);
  assert.equal((await cli(['augment', '--tag', 'x'])).code, 2);
  assert.equal((await cli(['errors', '--export', 'x.csv'])).code, 2);
  const ex = await cli(['errors', '--export', 'collect.csv', '--tag', 'smudged', '--json']);
  assert.equal(JSON.parse(ex.out).examples, 2);
});
