// Shared by the track tests: temporary projects and hand-made run folders.
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunRecord } from '../../../src/core/train/runStore';
import { DIGITS_CSV } from '../../datasets';
import { runsDir } from '../../../src/core/spec/layout';

export function tempDir(prefix = 'mlloop-track-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A digits project (real data) with a fast logistic experiment and a long MLP one. */
export function digitsProject(mlpEpochs = 400): string {
  const dir = tempDir();
  mkdirSync(join(dir, 'data'));
  copyFileSync(DIGITS_CSV, join(dir, 'data', 'digits.csv'));
  writeFileSync(
    join(dir, 'mlloop.json'),
    JSON.stringify({
      name: 'digits',
      task: 'classification',
      data: { path: 'data/digits.csv', target: 'digit', split: { dev: 0.2, test: 0.2, seed: 7 } },
      metric: 'accuracy',
      experiments: {
        softmax: { model: 'logistic', params: { l2: 0.001, maxIter: 50 } },
        mlp: { model: 'mlp', params: { hidden: [64], epochs: mlpEpochs, batchSize: 200, earlyStopping: false } },
      },
    }),
  );
  return dir;
}

/** Writes a run folder by hand: run.json, metrics.jsonl (steps then final) and optional meta.json. */
export function writeRun(
  projectDir: string,
  record: Partial<RunRecord> & { runId: string },
  opts: { steps?: object[]; meta?: object } = {},
): string {
  const dir = join(runsDir(projectDir), record.runId);
  mkdirSync(dir, { recursive: true });
  const full: RunRecord = {
    experiment: 'mlp',
    model: 'mlp',
    params: {},
    status: 'completed',
    startedAt: '2026-01-01T00:00:00.000Z',
    ...record,
  };
  writeFileSync(join(dir, 'run.json'), JSON.stringify(full, null, 2));
  const lines = [...(opts.steps ?? []), ...(full.metrics ? [{ final: true, ...full.metrics }] : [])];
  writeFileSync(join(dir, 'metrics.jsonl'), lines.map((l) => JSON.stringify(l) + '\n').join(''));
  if (opts.meta) writeFileSync(join(dir, 'meta.json'), JSON.stringify(opts.meta));
  return dir;
}
