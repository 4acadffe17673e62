// The GBDT helper thread runs functions of the trainer from their source text (split search, range
// gradients, leaf values). The packaged extension is minified (`npm run package`): this bundles the
// trainer as that build does and checks that a two-thread fit there gives the source's model bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as esbuild from 'esbuild';
import { trainGbdt } from '../../../src/core/train/gbdt/index';
import { BoostingWorkspace } from '../../../src/core/train/gbdt/workspace';

const root = join(__dirname, '..', '..', '..');
/** Dev rows enough for the dev evaluation's helper thread (100,000 scores), whose source text is bundled too. */
const DEV_ROWS = 100_000;

/**
 * A fit above the two-thread threshold (1,000,000 cells), with missing values and dev rows enough for
 * the dev helper thread; prints its model's hash and its dev losses.
 */
const FIT = (imports: { gbdt: string; histogram: string; dev: string; fixtures: string; rows: string }) =>
  [
    `import { trainGbdt } from ${JSON.stringify(imports.gbdt)};`,
    `import { BoostingWorkspace } from ${JSON.stringify(imports.histogram)};`,
    `import { DevEvaluator } from ${JSON.stringify(imports.dev)};`,
    `import { generatedClassification } from ${JSON.stringify(imports.fixtures)};`,
    `import { rows } from ${JSON.stringify(imports.rows)};`,
    `import { createHash } from 'node:crypto';`,
    `export function fit() {`,
    `  const { X, y } = generatedClassification(25_000, 41, 5, 0.02);`,
    `  const dev = generatedClassification(${DEV_ROWS}, 41, 6, 0.02);`,
    `  const schema = { task: 'classification', target: 'y', numeric: Array.from({ length: 41 }, (_, j) => 'x' + j), categorical: [], classes: ['0', '1'] };`,
    `  let helpers = 0;`,
    `  const before = BoostingWorkspace.liveHelpers;`,
    `  const devLosses = [];`,
    `  const devJobs = DevEvaluator.helperJobs;`,
    `  const m = trainGbdt({ schema, train: rows(X, y), dev: rows(dev.X, dev.y), params: { iterations: 8 }, seed: 3, onProgress: (e) => { devLosses.push(e.devLoss); helpers = Math.max(helpers, BoostingWorkspace.liveHelpers - before); } });`,
    `  const bytes = m.toOnnx({ runId: 'r', dataVersion: 'v', mlloopVersion: '0' });`,
    `  return { hash: createHash('sha256').update(bytes).digest('hex'), helpers, failures: BoostingWorkspace.helperFailures, devLosses, devJobs: DevEvaluator.helperJobs - devJobs };`,
    `}`,
  ].join('\n');

test('a minified bundle of the gbdt trainer grows the same trees on two threads as the source', async () => {
  const out = mkdtempSync(join(tmpdir(), 'mlloop-gbdt-bundle-'));
  const imports = {
    gbdt: join(root, 'src/core/train/gbdt/index'),
    histogram: join(root, 'src/core/train/gbdt/workspace'),
    dev: join(root, 'src/core/train/gbdt/devEval'),
    fixtures: join(root, 'test/unit/train/gbdt-fixtures'),
    rows: join(root, 'test/unit/train/fixtures'),
  };
  const entry = join(out, 'entry.ts');
  writeFileSync(entry, `${FIT(imports)}\nconsole.log(JSON.stringify(fit()));\n`);
  // The node options of src/build/build.mjs with --production.
  await esbuild.build({
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    mainFields: ['module', 'main'],
    external: ['onnxruntime-node'],
    absWorkingDir: root,
    logLevel: 'error',
    minify: true,
    entryPoints: [entry],
    outfile: join(out, 'fit.js'),
  });
  const r = spawnSync(process.execPath, [join(out, 'fit.js')], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const bundled = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
    hash: string;
    helpers: number;
    failures: number;
    devLosses: number[];
    devJobs: number;
  };
  assert.equal(bundled.helpers, 2, 'the bundled fit ran a histogram helper thread and a dev helper thread');
  // A dev helper that fails to boot (its source text broken by the bundle) leaves the work to the
  // training thread, which would hide the breakage from the losses alone.
  assert.ok(bundled.devJobs > 0, 'the dev helper thread took chunks');
  // A helper whose job throws (a function whose source text needs a name the bundle renamed) has its
  // half redone on the main thread, which would hide the breakage from the hash alone.
  assert.equal(bundled.failures, 0, 'no helper job failed');

  // The same fit from the source, here.
  const { generatedClassification } = await import('./gbdt-fixtures');
  const { rows } = await import('./fixtures');
  const { X, y } = generatedClassification(25_000, 41, 5, 0.02);
  const dev = generatedClassification(DEV_ROWS, 41, 6, 0.02);
  const schema = {
    task: 'classification' as const,
    target: 'y',
    numeric: Array.from({ length: 41 }, (_, j) => 'x' + j),
    categorical: [],
    classes: ['0', '1'],
  };
  let helpers = 0;
  const before = BoostingWorkspace.liveHelpers;
  const failures = BoostingWorkspace.helperFailures;
  const devLosses: (number | undefined)[] = [];
  const m = trainGbdt({
    schema,
    train: rows(X, y),
    dev: rows(dev.X, dev.y),
    params: { iterations: 8 },
    seed: 3,
    onProgress: (e) => {
      devLosses.push(e.devLoss);
      helpers = Math.max(helpers, BoostingWorkspace.liveHelpers - before);
    },
  });
  assert.equal(helpers, 2);
  assert.deepEqual(bundled.devLosses, devLosses);
  assert.equal(BoostingWorkspace.helperFailures, failures);
  const hash = createHash('sha256')
    .update(m.toOnnx({ runId: 'r', dataVersion: 'v', mlloopVersion: '0' }))
    .digest('hex');
  assert.equal(bundled.hash, hash);
});
