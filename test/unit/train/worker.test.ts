// The bundled layout: run.ts inside a CommonJS bundle finds worker-train.js beside it (as
// dist/cli.js and dist/extension.js do) and trains there; the bundle's metrics equal the source's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import * as esbuild from 'esbuild';
import { trainDatasetRun } from '../../../src/core/train/run';
import { readClassificationCsv } from './fixtures';
import { IRIS_CSV } from '../../datasets';

const root = join(__dirname, '..', '..', '..');

test('a bundled host starts the bundled worker-train.js next to it', async () => {
  const out = mkdtempSync(join(tmpdir(), 'mlloop-bundle-'));
  const entry = join(out, 'entry.ts');
  writeFileSync(
    entry,
    [
      `import { trainDatasetRun } from ${JSON.stringify(join(root, 'src/core/train/run'))};`,
      `import { workerScript } from ${JSON.stringify(join(root, 'src/core/runtime/worker'))};`,
      `import { readClassificationCsv } from ${JSON.stringify(join(root, 'test/unit/train/fixtures'))};`,
      `const dataset = readClassificationCsv(${JSON.stringify(IRIS_CSV)});`,
      `trainDatasetRun(process.argv[2], 'lr', { dataset, model: 'logistic', params: { l2: 0.01 }, seed: 0 })`,
      `  .then((o) => console.log(JSON.stringify({ worker: workerScript(), status: o.status, dev: o.metrics.dev })));`,
    ].join('\n'),
  );
  // The same node options as src/build/build.mjs.
  const common: esbuild.BuildOptions = {
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    mainFields: ['module', 'main'],
    external: ['onnxruntime-node'],
    absWorkingDir: root,
    logLevel: 'error',
  };
  await esbuild.build({ ...common, entryPoints: [entry], outfile: join(out, 'host.js') });
  await esbuild.build({
    ...common,
    entryPoints: [join(root, 'src/worker/train.ts')],
    outfile: join(out, 'worker-train.js'),
  });
  const r = spawnSync(process.execPath, [join(out, 'host.js'), join(out, 'project')], {
    encoding: 'utf8',
    cwd: out,
    timeout: 60_000,
    // onnxruntime-node stays external (as in the real bundles), so the temp bundle resolves it from the repo.
    env: { ...process.env, NODE_PATH: join(root, 'node_modules') },
  });
  assert.equal(r.status, 0, r.stderr);
  const res = JSON.parse(r.stdout);
  assert.deepEqual(res.worker, { source: join(out, 'worker-train.js'), eval: false });
  assert.equal(res.status, 'completed');
  const direct = await trainDatasetRun(mkdtempSync(join(tmpdir(), 'mlloop-run-')), 'lr', {
    dataset: readClassificationCsv(IRIS_CSV),
    model: 'logistic',
    params: { l2: 0.01 },
    seed: 0,
  });
  assert.deepEqual(res.dev, direct.metrics.dev);
});
