// The image sample's script experiment inside a real extension host: Train Experiment on a copy of
// examples/fashion (put inside the workspace) (train_cnn.py with Debian's /usr/bin/python3 through mlLoop.pythonPath) loads the
// images in a worker, the script trains on mlloop.images(), ML Loop evaluates its model.onnx (`image`
// float32 [N, 1, 28, 28]) and records the script's own dev accuracy within 0.5 points.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readHistory } from '../../src/core/track/store';
import { readRun } from '../../src/core/train/runStore';
import { activatedExtension, channelText, workspaceRoot } from './helpers';

const PYTHON = '/usr/bin/python3';

describe('Image script experiments', function () {
  this.timeout(300_000);
  let dir = '';
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
  });
});
