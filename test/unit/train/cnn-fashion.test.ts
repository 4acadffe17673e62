// The built-in cnn on the fashion sample end to end, as `ml-loop train -e builtin-cnn` runs it (the
// training worker, the run folder): live curves per epoch, the run's metrics, a model.onnx with
// `label`, `probabilities` and `embedding`; then Diagnostics of the run with its learning curve
// (each point retrains the cnn on a share of the images) and Error Analysis, unchanged for the new kind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { trainExperiment } from '../../../src/core/experiment/trainExperiment';
import { diagnoseRun } from '../../../src/core/diagnose/diagnoseRun';
import type { ClassificationSplitReport } from '../../../src/core/diagnose/metrics';
import { analyseRun } from '../../../src/core/analysis/analysis';
import { readHistory } from '../../../src/core/track/store';
import { copySample } from '../../sampleCopy';

test(
  'builtin-cnn on the fashion sample: trained in the worker, tracked, exported with an embedding, diagnosed with a learning curve',
  { timeout: 600_000 },
  async () => {
    const dir = copySample('fashion');
    try {
      const steps: number[] = [];
      const o = await trainExperiment({
        projectDir: dir,
        experimentName: 'builtin-cnn',
        // Smaller than the sample's own settings: the test's share of a shared machine.
        params: { channels: [8, 16], dense: [32], epochs: 4, batchSize: 32, learningRate: 0.003, seed: 0 },
        onProgress: (e) => steps.push(e.step),
      });
      assert.equal(o.status, 'completed', JSON.stringify(o.error));
      assert.deepEqual(steps, [1, 2, 3, 4]);
      const history = readHistory(o.runDir);
      assert.equal(history.steps.length, 4);
      assert.ok(history.steps[3].trainLoss! < history.steps[0].trainLoss!, 'the training loss goes down');
      const dev = (o.metrics.dev as { accuracy: number }).accuracy;
      assert.ok(dev > 0.6, `dev accuracy ${dev}`);
      // The model is the epoch of least dev loss (early stopping keeps it): its dev accuracy is that epoch's.
      const best = history.steps.reduce((a, b) => (b.devLoss! < a.devLoss! ? b : a));
      assert.ok(
        Math.abs(dev - best.devMetric!) < 1e-9,
        `run dev accuracy ${dev} vs epoch ${best.step}'s ${best.devMetric}`,
      );

      const session = await ort.InferenceSession.create(readFileSync(join(o.runDir, 'model.onnx')));
      assert.deepEqual([...session.inputNames], ['image']);
      assert.deepEqual([...session.outputNames].sort(), ['embedding', 'label', 'probabilities']);
      const out = await session.run({
        image: new ort.Tensor('float32', new Float32Array(2 * 784).fill(0.5), [2, 1, 28, 28]),
      });
      assert.deepEqual(out.embedding.dims, [2, 32]);

      const diagnosis = await diagnoseRun({ projectDir: dir, run: o.runId, learningCurve: 'compute' });
      const devReport = diagnosis.splits.dev as ClassificationSplitReport;
      assert.ok(Math.abs(devReport.accuracy - dev) < 1e-9, 'ONNX Runtime’s dev accuracy is the trainer’s');
      const curve = diagnosis.learningCurve!;
      assert.equal(curve.points.length, 10);
      assert.equal(curve.points.at(-1)!.trainSize, 1400);
      assert.ok(curve.points.every((p) => p.devError >= 0 && p.devError < 0.9));

      const analysis = await analyseRun({ projectDir: dir, run: o.runId });
      assert.equal(analysis.table.errorCount, Math.round((1 - dev) * 300));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
