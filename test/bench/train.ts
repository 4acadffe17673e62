// Training speed, ML Loop vs scikit-learn, side by side in one run (a benchmark, never a test).
//   npm run bench:train [-- --repeat N] [-- --only gbdt]   (medians of N runs of each side)
// Each ML Loop run happens in its own child process (so its peak RSS is its own), trained through
// the registry (TRAINERS) so every model kind is measured as it lands; each scikit-learn fit runs in
// a /usr/bin/python3 process that never imports torch. Runs are interleaved (ML Loop, sklearn, …)
// because the machine is shared and noisy: trust the ratios more than the absolute seconds.

import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { TRAINERS } from '../../src/core/train/registry';
import type { BuiltinModel } from '../../src/core/spec/types';
import type { FeatureSchema } from '../../src/core/data/types';
import { generatedClassification } from '../unit/train/gbdt-fixtures';
import { readClassificationCsv, rows as makeRows } from '../unit/train/fixtures';
import { DIGITS_CSV } from '../datasets';
import { benchTempDir } from './tempDir';

const HERE = __dirname;
const PYTHON = '/usr/bin/python3';
const ONE_THREAD = { OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };

interface Case {
  label: string;
  model: BuiltinModel;
  data: 'digits' | 'gen100k';
  params: Record<string, unknown>;
}

const MLP = {
  hidden: [64],
  activation: 'relu',
  optimizer: 'adam',
  learningRate: 0.001,
  batchSize: 200,
  epochs: 50,
  l2: 1e-4,
  earlyStopping: false,
};
const CASES: Case[] = [
  { label: 'MLP 64 relu adam, batch 200, 50 epochs — digits', model: 'mlp', data: 'digits', params: MLP },
  { label: 'MLP 64 relu adam, batch 200, 50 epochs — 100,000 × 50', model: 'mlp', data: 'gen100k', params: MLP },
  {
    label: 'GBDT 100 iterations, 31 leaves — 100,000 × 50',
    model: 'gbdt',
    data: 'gen100k',
    params: {
      iterations: 100,
      maxLeaves: 31,
      learningRate: 0.1,
      minSamplesLeaf: 20,
      l2: 0,
      maxBins: 255,
      earlyStopping: false,
    },
  },
  {
    label: 'Logistic (L-BFGS) — digits',
    model: 'logistic',
    data: 'digits',
    params: { l2: 0.001, maxIter: 100, tol: 1e-4 },
  },
  {
    label: 'Logistic (L-BFGS) — 100,000 × 50',
    model: 'logistic',
    data: 'gen100k',
    params: { l2: 0.001, maxIter: 100, tol: 1e-4 },
  },
];

interface Dataset {
  schema: FeatureSchema;
  X: Float32Array;
  y: Float64Array;
}

function makeDataset(name: Case['data']): Dataset {
  if (name === 'digits') {
    // All 1,797 rows (the fixture's train/dev/test parts back together).
    const split = readClassificationCsv(DIGITS_CSV);
    const parts = [split.train, split.dev, split.test];
    const X = Float32Array.from(parts.flatMap((r) => Array.from(r.features.numeric)));
    return { schema: split.schema, X, y: Float64Array.from(parts.flatMap((r) => Array.from(r.y))) };
  }
  const d = 50;
  const { X, y } = generatedClassification(100_000, d, 2024);
  return {
    schema: {
      task: 'classification',
      target: 'y',
      numeric: Array.from({ length: d }, (_, j) => `x${j}`),
      categorical: [],
      classes: ['0', '1'],
    },
    X,
    y,
  };
}

/** Writes the dataset as raw binary for both sides: PREFIX.json, PREFIX.X.f32, PREFIX.y.f64, PREFIX.schema.json. */
function writeDataset(dir: string, name: string, ds: Dataset): string {
  const prefix = join(dir, name);
  writeFileSync(`${prefix}.json`, JSON.stringify({ n: ds.y.length, d: ds.schema.numeric.length }));
  writeFileSync(`${prefix}.schema.json`, JSON.stringify(ds.schema));
  writeFileSync(`${prefix}.X.f32`, new Uint8Array(ds.X.buffer, ds.X.byteOffset, ds.X.byteLength));
  writeFileSync(`${prefix}.y.f64`, new Uint8Array(ds.y.buffer, ds.y.byteOffset, ds.y.byteLength));
  return prefix;
}

function readDataset(prefix: string): Dataset {
  const bytes = (p: string) => {
    const b = readFileSync(p);
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  };
  return {
    schema: JSON.parse(readFileSync(`${prefix}.schema.json`, 'utf8')),
    X: new Float32Array(bytes(`${prefix}.X.f32`)),
    y: new Float64Array(bytes(`${prefix}.y.f64`)),
  };
}

interface Result {
  /** The fit alone (for ML Loop: the trainer, preprocessing included; for sklearn: the estimator's fit, scaling included for logistic). */
  seconds: number;
  /** CPU seconds of all the run's threads: steadier than wall time on a loaded machine. */
  cpu_seconds: number;
  /** Predicting the training rows after the fit (not in the ratios: the issue's targets are about training). */
  predict_seconds: number;
  train_accuracy: number;
  peak_mb: number;
}

/** Child mode: one ML Loop training; prints a Result line. */
async function child(
  model: BuiltinModel,
  prefix: string,
  params: Record<string, unknown>,
  listen: boolean,
): Promise<void> {
  const ds = readDataset(prefix);
  const train = makeRows(ds.X, ds.y);
  const trainer = TRAINERS[model]!;
  const t = performance.now();
  const cpu = process.cpuUsage();
  // A listener as the editor's runs have (gbdt then also sums the train loss it reports).
  const onProgress = listen ? () => undefined : undefined;
  const m = await trainer({ schema: ds.schema, train, dev: makeRows([], []), params, seed: 0, onProgress });
  const seconds = (performance.now() - t) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  const tp = performance.now();
  const pred = m.predict(train.features).classIndex!;
  const predictSeconds = (performance.now() - tp) / 1000;
  let correct = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === ds.y[i]) correct++;
  const result: Result = {
    seconds,
    cpu_seconds: cpuSeconds,
    predict_seconds: predictSeconds,
    train_accuracy: correct / pred.length,
    peak_mb: process.resourceUsage().maxRSS / 1024,
  };
  console.log(JSON.stringify(result));
}

function runChild(command: string, args: string[], env?: Record<string, string>): Result | string {
  const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 24, env: env && { ...process.env, ...env } });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as Result;
  } catch {
    return `failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`;
  }
}

function fmt(r: Result | string | undefined, withMemory: boolean): string {
  if (r === undefined) return 'not available';
  if (typeof r === 'string') return r;
  return `${r.seconds.toFixed(2)} s wall, ${r.cpu_seconds.toFixed(2)} s CPU; predict ${r.predict_seconds.toFixed(2)} s wall (train acc ${r.train_accuracy.toFixed(3)}${withMemory ? `, peak ${r.peak_mb.toFixed(0)} MB` : ''})`;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') return child(argv[1] as BuiltinModel, argv[2], JSON.parse(argv[3]), argv[4] === 'listen');
  const option = (name: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
  const repeat = Number(option('--repeat') ?? 1);
  const only = option('--only');
  const dir = benchTempDir('train');
  const prefixes: Record<string, string> = {};
  const cases = CASES.filter((c) => !only || c.model === only);
  for (const name of new Set(cases.map((c) => c.data))) prefixes[name] = writeDataset(dir, name, makeDataset(name));
  const haveSklearn = spawnSync(PYTHON, ['-c', 'import sklearn'], { stdio: 'ignore' }).status === 0;

  console.log(
    `ML Loop vs scikit-learn (${haveSklearn ? '/usr/bin/python3' : 'scikit-learn not installed'}), median of ${repeat} (each figure its own median); ratio = ML Loop / sklearn`,
  );
  const load = () =>
    loadavg()
      .map((v) => v.toFixed(2))
      .join(', ');
  console.log(`load average at start: ${load()}; ${availableParallelism()} cores`);
  console.log(
    'threads: scikit-learn by default runs OpenMP on every core; ML Loop grows gbdt trees on two threads (histograms, split search, partitions, gradients; from 1,000,000 train cells, with ≥ 2 cores), the other models on one.\n' +
      'The GBDT target is judged wall against wall, each side on the machine\'s cores as it runs by default ("ratio" below); CPU ratios show the work done.\n',
  );
  for (const c of cases) {
    const oursRuns: (Result | string)[] = [];
    const theirsRuns: (Result | string)[] = [];
    const theirsOneRuns: (Result | string)[] = [];
    const listenedRuns: (Result | string)[] = [];
    for (let r = 0; r < repeat; r++) {
      if (TRAINERS[c.model]) {
        const args = [
          '--import',
          'tsx',
          join(HERE, 'train.ts'),
          '--child',
          c.model,
          prefixes[c.data],
          JSON.stringify(c.params),
        ];
        oursRuns.push(runChild(process.execPath, args));
        if (c.model === 'gbdt') listenedRuns.push(runChild(process.execPath, [...args, 'listen']));
      }
      if (haveSklearn) {
        theirsRuns.push(runChild(PYTHON, [join(HERE, 'sklearn_train.py'), c.model, prefixes[c.data]]));
        // One OpenMP/BLAS thread: its CPU seconds are the steadiest reference on a shared machine
        // (idle OpenMP threads spin, which inflates the CPU time of the default run under load).
        theirsOneRuns.push(runChild(PYTHON, [join(HERE, 'sklearn_train.py'), c.model, prefixes[c.data]], ONE_THREAD));
      }
    }
    const ours = median(oursRuns);
    const theirs = median(theirsRuns);
    const theirsOne = median(theirsOneRuns);
    const ratio =
      typeof ours === 'object' && typeof theirs === 'object'
        ? `${(ours.seconds / theirs.seconds).toFixed(2)}× wall (the target's measure: both on the machine's cores), ${(ours.cpu_seconds / theirs.cpu_seconds).toFixed(2)}× CPU`
        : '—';
    console.log(`${c.label}   (load average ${load()})`);
    console.log(`  ML Loop      ${fmt(ours, true)}`);
    const ratioOne =
      typeof ours === 'object' && typeof theirsOne === 'object'
        ? `${(ours.cpu_seconds / theirsOne.cpu_seconds).toFixed(2)}× CPU`
        : '—';
    console.log(`  scikit-learn ${fmt(theirs, false)}`);
    console.log(`  ratio        ${ratio}`);
    console.log(`  scikit-learn, 1 thread ${fmt(theirsOne, false)}`);
    console.log(`  ratio to it  ${ratioOne} (work done, whatever the threads)`);
    const listened = median(listenedRuns);
    if (typeof listened === 'object') {
      const r =
        typeof theirs === 'object' ? ` (${(listened.seconds / theirs.seconds).toFixed(2)}× scikit-learn's wall)` : '';
      console.log(
        `  ML Loop with a progress listener, as in the editor (the train loss summed each iteration): ${listened.seconds.toFixed(2)} s wall${r}`,
      );
    }
    console.log('');
  }
  console.log(`load average at end: ${load()}`);
}

/** Each figure's median over the runs that succeeded (the first failure when none did). */
function median(runs: (Result | string)[]): Result | string | undefined {
  const ok = runs.filter((r): r is Result => typeof r === 'object');
  if (ok.length === 0) return runs[0];
  const mid = (key: keyof Result) => {
    const v = ok.map((r) => r[key]).sort((a, b) => a - b);
    const h = v.length >> 1;
    return v.length % 2 ? v[h] : (v[h - 1] + v[h]) / 2;
  };
  return {
    seconds: mid('seconds'),
    cpu_seconds: mid('cpu_seconds'),
    predict_seconds: mid('predict_seconds'),
    train_accuracy: mid('train_accuracy'),
    peak_mb: mid('peak_mb'),
  };
}

void main();
