// ONNX parity and validity for every built-in experiment of every sample project (examples/*):
// the exported model's onnxruntime outputs equal predict() on the train, dev and test splits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { openSession } from '../../../src/core/onnx/session';
import { loadSplitDataset, resolveProject } from '../../../src/core/data/dataset';
import { resolveParams } from '../../../src/core/spec/schema';
import { isImageProject, isScriptExperiment, type ExperimentSpec } from '../../../src/core/spec/types';
import { getTrainer } from '../../../src/core/train/registry';
import { runSeed } from '../../../src/core/train/job';
import { assertOnnxParity, checkOnnxValidity } from './parity-helpers';

const examplesDir = join(__dirname, '..', '..', '..', 'examples');
const projects = existsSync(examplesDir)
  ? readdirSync(examplesDir)
      .filter((d) => existsSync(join(examplesDir, d, 'mlloop.json')))
      .sort()
  : [];
const exported: { name: string; bytes: Uint8Array }[] = [];

for (const name of projects) {
  test(`examples/${name}: every built-in experiment exports a model with ONNX parity on every split`, async (t) => {
    const ref = await resolveProject(join(examplesDir, name));
    // Image samples train script experiments only until the built-in CNN exists (issue 18). Skipped
    // before loading: loading decodes the images into the sample's own cache (examples/ stays as committed).
    if (isImageProject(ref.spec)) return t.skip('an image sample: no built-in image model yet');
    const dataset = await loadSplitDataset(ref, { storeSplit: false });
    const builtins = Object.entries(ref.spec.experiments).filter(([, e]) => !isScriptExperiment(e));
    assert.ok(builtins.length > 0, 'the sample project has built-in experiments');
    for (const [expName, exp] of builtins) {
      await t.test(expName, async () => {
        const params = resolveParams(exp as ExperimentSpec);
        const model = await getTrainer((exp as { model: 'linear' }).model)({
          schema: dataset.schema,
          train: dataset.train,
          dev: dataset.dev,
          params,
          seed: runSeed(params),
        });
        const bytes = model.toOnnx({ runId: 'parity', dataVersion: dataset.version.id, mlloopVersion: '0.0.0-test' });
        exported.push({ name: `${name}-${expName}`, bytes });
        const session = await openSession(bytes);
        for (const split of ['train', 'dev', 'test'] as const) await assertOnnxParity(session, model, dataset, split);
      });
    }
  });
}

test('onnx.checker accepts every sample project model', (t) => {
  if (projects.length === 0) return t.skip('no sample projects under examples/ yet');
  if (checkOnnxValidity(exported) === 'no-onnx')
    return t.skip('/usr/bin/python3 has no onnx module (install python3-onnx)');
  assert.ok(exported.length >= projects.length);
});
