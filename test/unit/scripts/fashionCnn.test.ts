// The image sample end to end (examples/fashion/train_cnn.py with Debian's /usr/bin/python3, which has
// torch, numpy and onnx): ML Loop loads the images, the script trains a CNN on mlloop.images(), ML Loop
// evaluates its model.onnx (`image` float32 [N, 1, 28, 28]) and records the same dev accuracy as the
// script's own, within 0.5 points; Error Analysis of the run lists the images' files and slices on
// image properties.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorsJson } from '../../../src/cli/commands/errors';
import { diagnoseRun } from '../../../src/core/diagnose/diagnoseRun';
import type { ClassificationSplitReport } from '../../../src/core/diagnose/metrics';
import { analyseRun } from '../../../src/core/analysis/analysis';
import { trainExperiment } from '../../../src/core/experiment/trainExperiment';
import { readHistory } from '../../../src/core/track/store';

const PYTHON = process.env.MLLOOP_TEST_PYTHON ?? '/usr/bin/python3';
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch, onnx, numpy'], { stdio: 'ignore' }).status === 0;

test(
  'cnn on the fashion sample: trained by the script on ML Loop’s images, evaluated by ML Loop',
  { skip: hasTorch ? false : `${PYTHON} has no torch/onnx/numpy`, timeout: 300_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlloop-fashion-'));
    cpSync(join(__dirname, '..', '..', '..', 'examples', 'fashion'), dir, {
      recursive: true,
      filter: (src) => !src.includes('.mlloop'),
    });
    try {
      const o = await trainExperiment({
        projectDir: dir,
        experimentName: 'cnn',
        pythonPath: PYTHON,
        params: { lr: 0.002, epochs: 4, channels: [8, 16], hidden: 32, seed: 0 },
      });
      assert.equal(o.status, 'completed', JSON.stringify(o.error));
      const history = readHistory(o.runDir);
      assert.equal(history.steps.length, 4);
      assert.ok(history.steps[3].trainLoss! < history.steps[0].trainLoss!, 'the training loss goes down');
      const scriptDev = history.steps[3].devMetric!;
      const mlloopDev = (o.metrics.dev as { accuracy: number }).accuracy;
      assert.ok(mlloopDev > 0.6, `dev accuracy ${mlloopDev}`);
      assert.ok(Math.abs(mlloopDev - scriptDev) <= 0.005, `ML Loop ${mlloopDev} vs the script's ${scriptDev}`);
      assert.ok(o.metrics.test && o.metrics.train);
      assert.match(
        readFileSync(join(o.runDir, 'log.txt'), 'utf8'),
        /data [0-9a-f]{12}: train 1400, dev 300, test 300 rows/,
      );

      // Diagnostics of the image run: the same dev accuracy, per-class metrics, no importance over pixels.
      const diagnosis = await diagnoseRun({ projectDir: dir, run: o.runId });
      const devReport = diagnosis.splits.dev as ClassificationSplitReport;
      assert.ok(Math.abs(devReport.accuracy - mlloopDev) < 1e-9);
      assert.equal(devReport.perClass.length, 10);
      assert.equal(
        devReport.confusion.flat().reduce((a, b) => a + b, 0),
        300,
      );
      assert.equal(diagnosis.importance, undefined);
      // The confusion matrix's cells carry thumbnails of their dev images (the panel shows them on a click).
      const cells = diagnosis.cellImages!;
      assert.deepEqual([cells.width, cells.height, cells.channels], [28, 28, 1]);
      for (const [key, images] of Object.entries(cells.cells)) {
        const [t, p] = key.split(':').map(Number);
        assert.equal(images.length, Math.min(6, devReport.confusion[t][p]), key);
        assert.equal(images[0].length, 784);
      }
      assert.ok(diagnosis.verdict);

      // Error analysis of the image run: the same dev errors, slices on what the images have, files in --json.
      const analysis = await analyseRun({ projectDir: dir, run: o.runId });
      assert.equal(analysis.table.n, 300);
      assert.equal(analysis.table.errorCount, Math.round((1 - mlloopDev) * 300));
      assert.deepEqual(analysis.image, { height: 28, width: 28, channels: 1 });
      assert.deepEqual(analysis.sliceView.schema.numeric, [
        'brightness',
        'contrast',
        'sharpness',
        'entropy',
        'width',
        'height',
        'aspect',
      ]);
      assert.ok(analysis.slices.length > 0);
      assert.ok(
        analysis.slices.every((s) => /brightness|contrast|sharpness|entropy|width|height|aspect|folder/.test(s.label)),
        analysis.slices.map((s) => s.label).join('; '),
      );
      const json = errorsJson(analysis, 5) as {
        examples: { file: string; truth: string; features: Record<string, number> }[];
      };
      assert.equal(json.examples.length, 5);
      for (const e of json.examples) {
        assert.ok(existsSync(e.file) && e.file.startsWith(join(dir, 'images', e.truth)), e.file);
        assert.equal(e.features.width, 28);
        assert.ok(e.features.brightness > 0 && e.features.brightness < 1);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
