// Run-store figures behind the Experiments tree, with 2,000 runs (npm run bench:tree):
//  - first load: every run folder read (run.json + meta.json), as when the view first shows;
//  - refresh after one run changed (what the file watcher triggers): that run re-read and the
//    experiment's first page of runs rebuilt;
//  - the periodic re-checks: running runs, and the store (what the file watcher may have missed).
//   node --import tsx test/bench/trackTree.ts [--runs 2000]
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { newRunId, type RunRecord } from '../../src/core/train/runStore';
import { RunIndex } from '../../src/core/track/runIndex';
import { annotateRun } from '../../src/core/track/store';
import { benchTempDir } from './tempDir';
import { runsDir } from '../../src/core/spec/layout';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '2000' } } });
const RUNS = Number(values.runs);
const EXPERIMENTS = ['softmax', 'mlp', 'gbdt', 'mlp-wide'];
const PAGE = 50;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function makeStore(): string {
  const dir = benchTempDir('tree');
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  for (let i = 0; i < RUNS; i++) {
    const started = new Date(t0 + i * 60_000);
    const runId = newRunId(started);
    const runDir = join(runsDir(dir), runId);
    mkdirSync(runDir, { recursive: true });
    const acc = 0.9 + (i % 97) / 1000;
    const record: RunRecord = {
      runId,
      experiment: EXPERIMENTS[i % EXPERIMENTS.length],
      model: 'mlp',
      params: {
        hidden: [64],
        activation: 'relu',
        optimizer: 'adam',
        learningRate: 0.001,
        momentum: 0.9,
        batchSize: 200,
        epochs: 100,
        l2: 0.0001,
        dropout: 0,
        earlyStopping: 10,
        seed: i,
      },
      seed: i,
      dataVersion: { id: '9e5d2692390b', rows: 1797 } as unknown as RunRecord['dataVersion'],
      status: 'completed',
      startedAt: started.toISOString(),
      endedAt: new Date(started.getTime() + 4000).toISOString(),
      metrics: {
        train: { accuracy: 1, f1: 1, logloss: 0.02 },
        dev: { accuracy: acc, f1: acc, logloss: 0.1 },
        test: { accuracy: acc, f1: acc, logloss: 0.1 },
      },
      modelSize: 40_000,
      pid: 1,
      host: 'bench',
    };
    writeFileSync(join(runDir, 'run.json'), JSON.stringify(record, null, 2));
    writeFileSync(
      join(runDir, 'metrics.jsonl'),
      Array.from(
        { length: 100 },
        (_, k) =>
          JSON.stringify({
            t: 0,
            step: k + 1,
            totalSteps: 100,
            trainLoss: 1 / (k + 1),
            devLoss: 1.1 / (k + 1),
            devMetric: acc,
            metricName: 'accuracy',
          }) + '\n',
      ).join(''),
    );
    if (i % 10 === 0)
      writeFileSync(
        join(runDir, 'meta.json'),
        JSON.stringify({ name: `run ${i}`, note: 'hypothesis', starred: i % 20 === 0 }),
      );
  }
  return dir;
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const dir = makeStore();
  const createMs = performance.now() - t0;
  try {
    const loads: number[] = [];
    let index = new RunIndex(dir);
    for (let k = 0; k < 5; k++) {
      index = new RunIndex(dir);
      const t = performance.now();
      await index.load();
      // The tree's first paint: each experiment's first page.
      for (const e of EXPERIMENTS) index.ofExperiment(e).slice(0, PAGE);
      loads.push(performance.now() - t);
    }
    if (index.all().length !== RUNS) throw new Error(`loaded ${index.all().length} runs, expected ${RUNS}`);

    const refreshes: number[] = [];
    const ids = index.all().map((r) => r.runId);
    for (let k = 0; k < 200; k++) {
      const id = ids[(k * 37) % ids.length];
      annotateRun(dir, id, { note: `edit ${k}` }); // the change the watcher reports (not timed)
      const t = performance.now();
      const run = index.reload(id)!;
      index.ofExperiment(run.record.experiment).slice(0, PAGE);
      refreshes.push(performance.now() - t);
    }

    const rechecks: number[] = [];
    for (let k = 0; k < 50; k++) {
      const t = performance.now();
      index.recheckRunning();
      rechecks.push(performance.now() - t);
    }
    // The watcher's safety net, every 3 s: a readdir of the store and a stat per running run.
    const storeChecks: number[] = [];
    for (let k = 0; k < 50; k++) {
      const t = performance.now();
      index.recheckStore();
      storeChecks.push(performance.now() - t);
    }

    const figures = {
      runs: RUNS,
      experiments: EXPERIMENTS.length,
      createStoreMs: Math.round(createMs),
      firstLoadMs: { median: Math.round(median(loads)), all: loads.map(Math.round) },
      refreshOneRunMs: { median: Number(median(refreshes).toFixed(3)), max: Number(Math.max(...refreshes).toFixed(3)) },
      recheckRunningMs: Number(median(rechecks).toFixed(3)),
      recheckStoreMs: Number(median(storeChecks).toFixed(3)),
      node: process.version,
    };
    console.log(JSON.stringify(figures, null, 2));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
