// Script experiments inside a real extension host, on the digits sample: Train Experiment on the
// PyTorch example (train_torch.py with Debian's /usr/bin/python3 through mlLoop.pythonPath) records
// the script's curves, ML Loop evaluates its model.onnx, and ML Loop's dev accuracy equals the
// script's own last dev accuracy within 0.5 points; the script's output reaches the log.
import * as assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readHistory } from '../../src/core/track/store';
import { readRun } from '../../src/core/train/runStore';
import { activatedExtension, channelText, workspaceRoot } from './helpers';

const PYTHON = '/usr/bin/python3';

describe('Script experiments', function () {
  this.timeout(300_000);
  const made: string[] = [];
  before(async function () {
    if (!existsSync(PYTHON)) this.skip();
    await activatedExtension();
    await vscode.workspace.getConfiguration('mlLoop').update('pythonPath', PYTHON, vscode.ConfigurationTarget.Global);
  });
  after(async () => {
    await vscode.workspace
      .getConfiguration('mlLoop')
      .update('pythonPath', undefined, vscode.ConfigurationTarget.Global);
    for (const id of made)
      rmSync(path.join(workspaceRoot().fsPath, '.mlloop', 'runs', id), { recursive: true, force: true });
  });

  it('Train Experiment runs torch-mlp: curves recorded, model evaluated by ML Loop, dev accuracy as the script measured it', async () => {
    assert.equal(vscode.workspace.isTrusted, true);
    const projectFile = vscode.Uri.joinPath(workspaceRoot(), 'mlloop.json');
    const result = await vscode.commands.executeCommand<{ runId: string; status: string }>('mlLoop.trainExperiment', {
      projectFile,
      experiment: 'torch-mlp',
    });
    made.push(result.runId);
    const dir = workspaceRoot().fsPath;
    const record = readRun(dir, result.runId);
    assert.equal(result.status, 'completed', JSON.stringify(record.error));
    assert.equal(record.model, 'script');
    assert.deepEqual(record.command?.slice(0, 2), [PYTHON, 'train_torch.py']);
    const history = readHistory(path.join(dir, '.mlloop', 'runs', result.runId));
    assert.equal(history.steps.length, 30);
    const scriptDev = history.steps[29].devMetric!;
    const mlloopDev = (record.metrics!.dev as { accuracy: number }).accuracy;
    assert.ok(Math.abs(mlloopDev - scriptDev) <= 0.005, `ML Loop ${mlloopDev} vs the script's ${scriptDev}`);
    assert.ok(mlloopDev > 0.9);
    assert.match(await channelText(), /run [0-9a-f-]+ \| final dev accuracy 0\.\d{4}/);
  });
});
