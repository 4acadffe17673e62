// The image sample end to end (examples/fashion/train_cnn.py with Debian's /usr/bin/python3, which has
// torch, numpy and onnx): ML Loop loads the images, the script trains a CNN on mlloop.images(), ML Loop
// evaluates its model.onnx (`image` float32 [N, 1, 28, 28]) and records the same dev accuracy as the
// script's own, within 0.5 points.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainExperiment } from '../../../src/core/train/run';
import { readHistory } from '../../../src/core/track/store';

const PYTHON = process.env.MLLOOP_TEST_PYTHON ?? '/usr/bin/python3';
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch, onnx, numpy'], { stdio: 'ignore' }).status === 0;

test('cnn on the fashion sample: trained by the script on ML Loop’s images, evaluated by ML Loop', { skip: hasTorch ? false : `${PYTHON} has no torch/onnx/numpy`, timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlloop-fashion-'));
  cpSync(join(__dirname, '..', '..', '..', 'examples', 'fashion'), dir, { recursive: true, filter: (src) => !src.includes('.mlloop') });
  try {
    const o = await trainExperiment({ projectDir: dir, experimentName: 'cnn', pythonPath: PYTHON, params: { lr: 0.002, epochs: 4, channels: [8, 16], hidden: 32, seed: 0 } });
    assert.equal(o.status, 'completed', JSON.stringify(o.error));
    const history = readHistory(o.runDir);
    assert.equal(history.steps.length, 4);
    assert.ok(history.steps[3].trainLoss! < history.steps[0].trainLoss!, 'the training loss goes down');
    const scriptDev = history.steps[3].devMetric!;
    const mlloopDev = (o.metrics.dev as { accuracy: number }).accuracy;
    assert.ok(mlloopDev > 0.6, `dev accuracy ${mlloopDev}`);
    assert.ok(Math.abs(mlloopDev - scriptDev) <= 0.005, `ML Loop ${mlloopDev} vs the script's ${scriptDev}`);
    assert.ok(o.metrics.test && o.metrics.train);
    assert.match(readFileSync(join(o.runDir, 'log.txt'), 'utf8'), /data [0-9a-f]{12}: train 1400, dev 300, test 300 rows/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
