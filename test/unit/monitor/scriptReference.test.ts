// A script experiment's run gets its monitoring reference too: written after ML Loop evaluates the
// script's model.onnx, from the same training split and dev predictions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { trainExperiment } from '../../../src/core/experiment/trainExperiment';
import { loadSplitDataset } from '../../../src/core/data/dataset';
import { readReference } from '../../../src/core/monitor';
import { irisProject, nodeScript, scoresModel } from '../scripts/fixtures';

test('a script run stores reference.json: training statistics, dev predictions and the dev accuracy ML Loop measured', async () => {
  const dir = irisProject({});
  writeFileSync(join(dir, 'fixture.onnx'), scoresModel());
  const spec = JSON.parse(readFileSync(join(dir, 'mlloop.json'), 'utf8'));
  spec.experiments.s = {
    command: nodeScript(
      dir,
      'm.js',
      `require('fs').copyFileSync(process.env.MODEL_SRC, require('path').join(process.env.MLLOOP_RUN_DIR, 'model.onnx'));`,
    ),
    env: { MODEL_SRC: join(dir, 'fixture.onnx') },
  };
  writeFileSync(join(dir, 'mlloop.json'), JSON.stringify(spec));
  const o = await trainExperiment({ projectDir: dir, experimentName: 's' });
  assert.equal(o.status, 'completed', JSON.stringify(o.error));
  const ref = readReference(o.runDir);
  assert.ok(ref);
  const dataset = await loadSplitDataset(dir);
  assert.equal(ref.rows, dataset.train.features.n);
  assert.deepEqual(
    ref.features.map((f) => f.name),
    dataset.schema.numeric,
  );
  const f0 = ref.features[0];
  assert.ok(f0.kind === 'numeric');
  let min = Infinity;
  for (let i = 0; i < dataset.train.features.n; i++) min = Math.min(min, dataset.train.features.numeric[i * 4]);
  assert.equal(f0.min, min);
  assert.equal(
    Object.values(ref.predictions!.classes!).reduce((a, b) => a + b, 0),
    dataset.dev.features.n,
  );
  assert.equal(ref.devScore?.value, (o.metrics.dev as { accuracy: number }).accuracy);
});
