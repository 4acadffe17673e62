// A copy of the fashion sample for the image-loop specs: a small, quick CNN (its `cnn` experiment's
// params made 3 epochs of 8/16 channels, so training on a new data version takes seconds), an
// unlabelled folder of mirrored sample images (new content: not dev or test images), and one run.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { trainExperiment } from '../../src/core/experiment/trainExperiment';

export const PYTHON = '/usr/bin/python3';
export const hasTorch = spawnSync(PYTHON, ['-c', 'import torch, onnx, numpy'], { stdio: 'ignore' }).status === 0;

/** The run's label in the Experiments view. */
export const cnnLabel = (runId: string) => `cnn ${runId.slice(-6)}`;

export async function fashionProject(name: string): Promise<{ folder: string; runId: string }> {
  const folder = mkdtempSync(join(tmpdir(), `mlloop-e2e-${name}-`));
  cpSync(join(__dirname, '..', '..', 'examples', 'fashion'), folder, {
    recursive: true,
    filter: (src) => !src.includes('.mlloop'),
  });
  const text = readFileSync(join(folder, 'mlloop.json'), 'utf8');
  const edited = text
    .replace('"images": "images",', '"images": "images",\n    "unlabelled": "incoming",')
    .replace(
      /"params": \{[^}]*\}/,
      '"params": { "lr": 0.002, "epochs": 3, "channels": [8, 16], "hidden": 32, "seed": 0 }',
    );
  assert.notEqual(edited, text);
  writeFileSync(join(folder, 'mlloop.json'), edited);
  mkdirSync(join(folder, 'incoming'));
  for (const cls of ['shirt', 'coat', 'sneaker'])
    for (const f of readdirSync(join(folder, 'images', cls))
      .sort()
      .slice(0, 2))
      await sharp(join(folder, 'images', cls, f))
        .flop()
        .toFile(join(folder, 'incoming', `${cls}-${f}`));
  const run = await trainExperiment({ projectDir: folder, experimentName: 'cnn', pythonPath: PYTHON });
  assert.equal(run.status, 'completed', run.error?.message);
  return { folder, runId: run.runId };
}
