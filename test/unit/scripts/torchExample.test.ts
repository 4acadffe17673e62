// The PyTorch example (examples/digits/train_torch.py) end to end with Debian's /usr/bin/python3,
// which has torch and onnx (the python3 on PATH here may not): curves recorded, model.onnx evaluated
// by ML Loop, and ML Loop's dev accuracy equal to the script's own last dev accuracy within 0.5 points.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { trainExperiment } from '../../../src/core/experiment/trainExperiment';
import { readHistory } from '../../../src/core/track/store';
import { copySample } from '../../sampleCopy';

const PYTHON = process.env.MLLOOP_TEST_PYTHON ?? '/usr/bin/python3';
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch, onnx'], { stdio: 'ignore' }).status === 0;

test(
  'torch-mlp on digits: trained by the script, evaluated by ML Loop',
  { skip: hasTorch ? false : `${PYTHON} has no torch/onnx`, timeout: 180_000 },
  async () => {
    const dir = copySample('digits');
    try {
      const steps: number[] = [];
      const o = await trainExperiment({
        projectDir: dir,
        experimentName: 'torch-mlp',
        pythonPath: PYTHON,
        params: { lr: 0.01, epochs: 12, hidden: 64, seed: 0 },
        onProgress: (e) => steps.push(e.step),
      });
      assert.equal(o.status, 'completed', JSON.stringify(o.error));
      assert.deepEqual(
        steps,
        Array.from({ length: 12 }, (_, i) => i + 1),
      );
      const history = readHistory(o.runDir);
      assert.equal(history.steps.length, 12);
      assert.ok(
        history.steps.every(
          (s) => typeof s.trainLoss === 'number' && typeof s.devLoss === 'number' && typeof s.devMetric === 'number',
        ),
      );
      assert.ok(history.steps[11].trainLoss! < history.steps[0].trainLoss!, 'the training loss goes down');
      const scriptDev = history.steps[11].devMetric!;
      const mlloopDev = (o.metrics.dev as { accuracy: number }).accuracy;
      assert.ok(mlloopDev > 0.9, `dev accuracy ${mlloopDev}`);
      assert.ok(Math.abs(mlloopDev - scriptDev) <= 0.005, `ML Loop ${mlloopDev} vs the script's ${scriptDev}`);
      assert.ok(o.metrics.test && o.metrics.train);
      assert.match(readFileSync(join(o.runDir, 'log.txt'), 'utf8'), /final dev accuracy 0\.\d{4}/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
