// The image sample's script experiment inside a real extension host: Train Experiment on a copy of
// examples/fashion (put inside the workspace) (train_cnn.py with Debian's /usr/bin/python3 through mlLoop.pythonPath) loads the
// images in a worker, the script trains on mlloop.images(), ML Loop evaluates its model.onnx (`image`
// float32 [N, 1, 28, 28]) and records the script's own dev accuracy within 0.5 points. Deployed, the
// model takes pictures in every form the server accepts.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import * as vscode from 'vscode';
import { preprocessImage } from '../../src/core/data/images/preprocess';
import { scaleToUnit } from '../../src/core/data/images/pixels';
import { readMetadata } from '../../src/core/onnx/builder';
import { readHistory } from '../../src/core/track/store';
import { readRun } from '../../src/core/train/runStore';
import { activatedExtension, channelText, workspaceRoot } from './helpers';

const PYTHON = '/usr/bin/python3';

describe('Image script experiments', function () {
  this.timeout(300_000);
  let dir = '';
  let runId = '';
  before(async function () {
    if (!existsSync(PYTHON) || spawnSync(PYTHON, ['-c', 'import torch, onnx, numpy'], { stdio: 'ignore' }).status !== 0)
      this.skip();
    const { extensionPath } = await activatedExtension();
    await vscode.workspace.getConfiguration('mlLoop').update('pythonPath', PYTHON, vscode.ConfigurationTarget.Global);
    // Inside the workspace (commands act on its projects; the project index skips git-ignored folders), removed after.
    dir = path.join(workspaceRoot().fsPath, `fashion-test-${process.pid}`);
    // The repository's sample (the workspace itself is a fresh copy of digits, outside the repository).
    cpSync(path.join(extensionPath, 'examples', 'fashion'), dir, {
      recursive: true,
      filter: (src) => !src.includes('.mlloop'),
    });
  });
  after(async () => {
    await vscode.workspace
      .getConfiguration('mlLoop')
      .update('pythonPath', undefined, vscode.ConfigurationTarget.Global);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('Train Experiment runs the fashion cnn on ML Loop’s images: model evaluated by ML Loop, dev accuracy as the script measured it', async () => {
    const projectFile = vscode.Uri.file(path.join(dir, 'mlloop.json'));
    // The project index picks the new mlloop.json up from its file watcher: wait for it.
    let result: { runId: string; status: string } | undefined;
    for (let attempt = 0; attempt < 30 && !result; attempt++) {
      result = await vscode.commands.executeCommand<{ runId: string; status: string } | undefined>(
        'mlLoop.trainExperiment',
        { projectFile, experiment: 'cnn' },
      );
      if (!result) await new Promise((r) => setTimeout(r, 1000));
    }
    assert.ok(result, `no run: ${(await channelText()).split('\n').slice(-15).join('\n')}`);
    const record = readRun(dir, result.runId);
    assert.equal(result.status, 'completed', JSON.stringify(record.error));
    assert.equal(record.model, 'script');
    const history = readHistory(path.join(dir, '.mlloop', 'runs', result.runId));
    assert.equal(history.steps.length, 10);
    const scriptDev = history.steps[9].devMetric!;
    const mlloopDev = (record.metrics!.dev as { accuracy: number }).accuracy;
    assert.ok(Math.abs(mlloopDev - scriptDev) <= 0.005, `ML Loop ${mlloopDev} vs the script's ${scriptDev}`);
    assert.ok(mlloopDev > 0.7, `dev accuracy ${mlloopDev}`);
    assert.ok(existsSync(path.join(dir, '.mlloop', 'runs', result.runId, 'inputs', 'train_images.npy')));
    runId = result.runId;
  });

  it('Deploy Run serves the cnn: PNG body, base64 JSON, FP32 tensor, BYTES tensor and binary data give in-process ORT’s prediction', async function () {
    if (!runId) this.skip();
    const deployed = await vscode.commands.executeCommand<{ url: string; version: string }>('mlLoop.deployRun', {
      projectDir: dir,
      runId,
    });
    assert.ok(deployed, 'deployRun returned nothing (see the ML Loop log)');
    try {
      const predict = `${deployed.url}/v2/models/fashion/predict`;
      const infer = `${deployed.url}/v2/models/fashion/infer`;
      const files = ['bag', 'sandal', 'trouser'].map((c) => {
        const folder = path.join(dir, 'images', c);
        return readFileSync(path.join(folder, readdirSync(folder)[0]));
      });
      // In-process: ML Loop's preprocessing, then the run's model.onnx in ONNX Runtime.
      const settings = { height: 28, width: 28, channels: 1 } as const;
      const pixels = new Uint8Array(files.length * 784);
      for (const [k, f] of files.entries()) pixels.set((await preprocessImage(f, settings)).pixels, k * 784);
      const tensor = scaleToUnit(pixels);
      const session = await ort.InferenceSession.create(path.join(dir, '.mlloop', 'runs', runId, 'model.onnx'));
      const scores = Array.from(
        (await session.run({ image: new ort.Tensor('float32', tensor, [files.length, 1, 28, 28]) })).scores
          .data as Float32Array,
      );
      await session.release();
      const classes = readImageModelClasses(path.join(dir, '.mlloop', 'runs', runId, 'model.onnx'));
      const expected = files.map((_, k) => {
        const row = scores.slice(k * 10, k * 10 + 10);
        return classes[row.indexOf(Math.max(...row))];
      });
      const close = (a: number[], b: number[]) => a.every((v, i) => Math.abs(v - b[i]) < 1e-4);

      for (const [k, f] of files.entries()) {
        const r = await fetch(predict, {
          method: 'POST',
          headers: { 'Content-Type': 'image/png' },
          body: new Uint8Array(f),
        });
        assert.equal(((await r.json()) as { label: string }).label, expected[k]);
      }
      const b64 = await fetch(predict, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ instances: files.map((f) => ({ image: { b64: f.toString('base64') } })) }),
      });
      assert.deepEqual(
        ((await b64.json()) as { predictions: Array<{ label: string }> }).predictions.map((p) => p.label),
        expected,
      );
      const postInfer = async (input: Record<string, unknown>) => {
        const r = await fetch(infer, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ inputs: [input] }),
        });
        return ((await r.json()) as { outputs: Array<{ data: number[] }> }).outputs[0].data;
      };
      assert.ok(
        close(
          await postInfer({ name: 'image', datatype: 'FP32', shape: [3, 1, 28, 28], data: Array.from(tensor) }),
          scores,
        ),
      );
      assert.ok(
        close(
          await postInfer({
            name: 'image',
            datatype: 'BYTES',
            shape: [3],
            data: files.map((f) => f.toString('base64')),
          }),
          scores,
        ),
      );
      const header = Buffer.from(
        JSON.stringify({
          inputs: [
            {
              name: 'image',
              datatype: 'FP32',
              shape: [3, 1, 28, 28],
              parameters: { binary_data_size: tensor.byteLength },
            },
          ],
          outputs: [{ name: 'scores', parameters: { binary_data: true } }],
        }),
      );
      const bin = await fetch(infer, {
        method: 'POST',
        headers: {
          'Inference-Header-Content-Length': String(header.length),
          'Content-Type': 'application/octet-stream',
        },
        body: new Uint8Array(Buffer.concat([header, Buffer.from(tensor.buffer)])),
      });
      const bytes = Buffer.from(await bin.arrayBuffer());
      const n = Number(bin.headers.get('inference-header-content-length'));
      const raw = bytes.subarray(n);
      assert.ok(
        close(Array.from(new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length))), scores),
      );
    } finally {
      await vscode.commands.executeCommand('mlLoop.stopServer');
    }
  });
});

/** The classes a stamped model.onnx names in its metadata (the order of its scores). */
function readImageModelClasses(file: string): string[] {
  return JSON.parse(readMetadata(readFileSync(file)).classes) as string[];
}
