// A copy of the fashion sample for the image-loop specs: the PyTorch `cnn` made small and quick (3
// epochs of 8/16 channels); the built-in `builtin-cnn` runs 20 epochs of 32/64 channels (about 20 s on
// 2 cores), long enough for the Training panel, whose first webview takes seconds to load, to show its
// curve growing. Also an unlabelled folder of mirrored sample images (new content: not dev or test
// images) and, when asked, one run of an experiment.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { trainExperiment } from '../../src/core/experiment/trainExperiment';

export const PYTHON = '/usr/bin/python3';
export const hasTorch = spawnSync(PYTHON, ['-c', 'import torch, onnx, numpy'], { stdio: 'ignore' }).status === 0;

/** The fashion sample's two experiments: ML Loop's own CNN and the PyTorch script. */
export type FashionExperiment = 'builtin-cnn' | 'cnn';

/** A run's label in the Experiments view. */
export const runLabel = (experiment: FashionExperiment, runId: string) => `${experiment} ${runId.slice(-6)}`;

export async function fashionProject(
  name: string,
  train?: FashionExperiment,
): Promise<{ folder: string; runId: string }> {
  const folder = mkdtempSync(join(tmpdir(), `mlloop-e2e-${name}-`));
  cpSync(join(__dirname, '..', '..', 'examples', 'fashion'), folder, {
    recursive: true,
    filter: (src) => !src.includes('.mlloop'),
  });
  const text = readFileSync(join(folder, 'mlloop.json'), 'utf8');
  const edited = text
    .replace('"images": "images",', '"images": "images",\n    "unlabelled": "incoming",')
    .replace(
      /("builtin-cnn": \{[^{}]*"params": )\{[^}]*\}/,
      '$1{ "channels": [32, 64], "dense": [128], "epochs": 20, "earlyStopping": false, "batchSize": 32, "seed": 0 }',
    )
    .replace(
      /("cnn": \{[\s\S]*?"params": )\{[^}]*\}/,
      '$1{ "lr": 0.002, "epochs": 3, "channels": [8, 16], "hidden": 32, "seed": 0 }',
    );
  assert.match(edited, /"builtin-cnn": \{[^}]*\{[^}]*"epochs": 20/, 'the built-in CNN made quick');
  assert.match(edited, /"cnn": \{[\s\S]*?"hidden": 32/, 'the script CNN made quick');
  writeFileSync(join(folder, 'mlloop.json'), edited);
  mkdirSync(join(folder, 'incoming'));
  for (const cls of ['shirt', 'coat', 'sneaker'])
    for (const f of readdirSync(join(folder, 'images', cls))
      .sort()
      .slice(0, 2))
      await sharp(join(folder, 'images', cls, f))
        .flop()
        .toFile(join(folder, 'incoming', `${cls}-${f}`));
  if (!train) return { folder, runId: '' };
  const run = await trainExperiment({ projectDir: folder, experimentName: train, pythonPath: PYTHON });
  assert.equal(run.status, 'completed', run.error?.message);
  return { folder, runId: run.runId };
}
