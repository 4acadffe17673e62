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
import type { FeatureSchema, Rows } from '../../src/core/data/types';
import { generatedClassification, generatedMulticlass } from '../unit/train/gbdt-fixtures';
import { readClassificationCsv, rows as makeRows } from '../unit/train/fixtures';
import { DIGITS_CSV } from '../datasets';
import { benchTempDir } from './tempDir';
import { sessionOptions } from '../../src/core/onnx/session';
import { WorkerPool } from '../../src/core/serve/engine';

const HERE = __dirname;
const PYTHON = '/usr/bin/python3';
const ONE_THREAD = { OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };

interface Case {
  label: string;
  model: BuiltinModel;
  data: DataName;
  params: Record<string, unknown>;
  /**
   * The issue-21 scale: XGBoost (`hist`, 2 threads) beside scikit-learn, accuracy on held-out rows
   * too, prediction through the exported ONNX model in ONNX Runtime, no one-thread scikit-learn run.
   */
  large?: boolean;
}

type DataName = 'digits' | 'gen100k' | 'gen1m' | 'gen1m10';

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
const GBDT = {
  iterations: 100,
  maxLeaves: 31,
  learningRate: 0.1,
  minSamplesLeaf: 20,
  l2: 0,
  maxBins: 255,
  earlyStopping: false,
};
const CASES: Case[] = [
  { label: 'MLP 64 relu adam, batch 200, 50 epochs — digits', model: 'mlp', data: 'digits', params: MLP },
  { label: 'MLP 64 relu adam, batch 200, 50 epochs — 100,000 × 50', model: 'mlp', data: 'gen100k', params: MLP },
  {
    label: 'GBDT 100 iterations, 31 leaves — 100,000 × 50',
    model: 'gbdt',
    data: 'gen100k',
    params: GBDT,
  },
  {
    label: 'GBDT 100 iterations, 31 leaves — 1,000,000 × 50, binary',
    model: 'gbdt',
    data: 'gen1m',
    params: GBDT,
    large: true,
  },
  {
    label: 'GBDT 100 iterations, 31 leaves — 1,000,000 × 50, 10 classes',
    model: 'gbdt',
    data: 'gen1m10',
    params: GBDT,
    large: true,
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

/** Rows of the held-out set beside each large training set (same generator, another seed). */
const HELDOUT_ROWS = 200_000;

function makeDataset(name: DataName, heldout = false): Dataset {
  if (name === 'digits') {
    // All 1,797 rows (the fixture's train/dev/test parts back together).
    const split = readClassificationCsv(DIGITS_CSV);
    const parts = [split.train, split.dev, split.test];
    const X = Float32Array.from(parts.flatMap((r) => Array.from(r.features.numeric)));
    return { schema: split.schema, X, y: Float64Array.from(parts.flatMap((r) => Array.from(r.y))) };
  }
  const d = 50;
  const seed = heldout ? 7 : 2024;
  const n = heldout ? HELDOUT_ROWS : name === 'gen100k' ? 100_000 : 1_000_000;
  const k = name === 'gen1m10' ? 10 : 2;
  const { X, y } = k === 2 ? generatedClassification(n, d, seed) : generatedMulticlass(n, d, k, seed);
  return {
    schema: {
      task: 'classification',
      target: 'y',
      numeric: Array.from({ length: d }, (_, j) => `x${j}`),
      categorical: [],
      classes: Array.from({ length: k }, (_, c) => String(c)),
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
  // The file's own buffer where it is aligned (a large file's is): no second copy of the data in
  // the peak memory measured.
  const bytes = (p: string) => {
    const b = readFileSync(p);
    return b.byteOffset % 8 === 0 && b.buffer.byteLength === b.byteLength
      ? b.buffer
      : b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
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
  /** Peak RSS after the fit and the in-process prediction (before any held-out or ONNX work). */
  peak_mb: number;
  /** Large cases: accuracy on the held-out rows. */
  heldout_accuracy?: number;
  /** Large cases (ML Loop): predicting the training rows through the exported model in ONNX Runtime, split over `onnx_workers` one-thread sessions (see onnxRuntimePredict). */
  onnx_predict_seconds?: number;
  /** Large cases (ML Loop): share of rows where ONNX Runtime's label equals the in-process one. */
  onnx_agreement?: number;
  onnx_workers?: number;
  /** The same in one run of one session with one intra-op thread (the server's session options). */
  onnx_one_thread_seconds?: number;
  onnx_one_thread_agreement?: number;
  /** The same in one run of one session with ONNX Runtime's default options (an intra-op thread per core). */
  onnx_default_seconds?: number;
  onnx_default_agreement?: number;
}

/** Child mode: one ML Loop training; prints a Result line. */
async function child(
  model: BuiltinModel,
  prefix: string,
  params: Record<string, unknown>,
  listen: boolean,
  heldoutPrefix?: string,
): Promise<void> {
  const ds = readDataset(prefix);
  // The large sets go in as they are (no copy; the trainer reads features and y only), as
  // XGBoost gets its numpy arrays: the peak memory compares the two fits, data included.
  const train: Rows = heldoutPrefix
    ? { features: { n: ds.y.length, numeric: ds.X, categories: [] }, y: ds.y, ids: [], rowIndex: new Uint32Array(0) }
    : makeRows(ds.X, ds.y);
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
  if (heldoutPrefix) {
    const heldout = readDataset(heldoutPrefix);
    const n = heldout.y.length;
    const p = m.predict({ n, numeric: heldout.X, categories: [] }).classIndex!;
    let right = 0;
    for (let i = 0; i < n; i++) if (p[i] === heldout.y[i]) right++;
    result.heldout_accuracy = right / n;
    const bytes = m.toOnnx({ runId: 'bench', dataVersion: 'bench', mlloopVersion: '0' });
    Object.assign(result, await onnxRuntimePredict(bytes, ds, pred));
  }
  console.log(JSON.stringify(result));
}

/**
 * The exported model in ONNX Runtime on the training rows, each way timed with its session made beforehand:
 * one run with the server's session options (one intra-op thread: the kernel's own speed); the rows split
 * over the server's WorkerPool, one such session per core (as XGBoost splits rows over its threads); one run
 * with ONNX Runtime's default options (an intra-op thread per core: its tree ensemble then splits the
 * trees, not the rows, and meets at a barrier every 128 rows). The goal is judged on the fastest way.
 */
async function onnxRuntimePredict(bytes: Uint8Array, ds: Dataset, pred: Int32Array): Promise<Partial<Result>> {
  const ort = await import('onnxruntime-node');
  const n = pred.length;
  const d = ds.schema.numeric.length;
  const classes = ds.schema.classes!;
  const agreement = (labels: ArrayLike<string>) => {
    let same = 0;
    for (let i = 0; i < n; i++) if (labels[i] === classes[pred[i]]) same++;
    return same / n;
  };
  const oneRun = async (options: ReturnType<typeof sessionOptions>) => {
    const session = await ort.InferenceSession.create(bytes, options);
    const t = performance.now();
    const out = await session.run({ features: new ort.Tensor('float32', ds.X, [n, d]) });
    const seconds = (performance.now() - t) / 1000;
    const labels = out.label.data as string[];
    await session.release();
    return { seconds, labels };
  };
  const single = await oneRun(sessionOptions());
  const defaults = await oneRun({});
  const workers = availableParallelism();
  const warm = { features: new ort.Tensor('float32', ds.X.slice(0, d), [1, d]) };
  const pool = await WorkerPool.start(bytes, sessionOptions(), workers, warm);
  const t = performance.now();
  const per = Math.ceil(n / workers);
  const parts = await Promise.all(
    Array.from({ length: workers }, (_, k) => {
      const start = Math.min(n, k * per);
      const end = Math.min(n, start + per);
      // A slice, not a view: a view would carry its whole buffer to the worker.
      const X = ds.X.slice(start * d, end * d);
      return pool.run({ features: new ort.Tensor('float32', X, [end - start, d]) });
    }),
  );
  const splitSeconds = (performance.now() - t) / 1000;
  await pool.close();
  const splitLabels = parts.flatMap((p) => p.label.data as string[]);
  return {
    onnx_predict_seconds: splitSeconds,
    onnx_agreement: agreement(splitLabels),
    onnx_workers: workers,
    onnx_one_thread_seconds: single.seconds,
    onnx_one_thread_agreement: agreement(single.labels),
    onnx_default_seconds: defaults.seconds,
    onnx_default_agreement: agreement(defaults.labels),
  };
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
  if (argv[0] === '--child')
    return child(argv[1] as BuiltinModel, argv[2], JSON.parse(argv[3]), argv[4] === 'listen', argv[5]);
  const option = (name: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
  const repeat = Number(option('--repeat') ?? 1);
  const only = option('--only');
  const dir = benchTempDir('train');
  const prefixes: Record<string, string> = {};
  const only_case = option('--case');
  const cases = CASES.filter((c) => (!only || c.model === only) && (!only_case || c.label.includes(only_case)));
  for (const name of new Set(cases.map((c) => c.data))) prefixes[name] = writeDataset(dir, name, makeDataset(name));
  const heldoutPrefixes: Record<string, string> = {};
  for (const name of new Set(cases.filter((c) => c.large).map((c) => c.data)))
    heldoutPrefixes[name] = writeDataset(dir, `${name}-heldout`, makeDataset(name, true));
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
    if (c.large) {
      largeCase(c, repeat, prefixes[c.data], heldoutPrefixes[c.data], haveSklearn, load);
      continue;
    }
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

/**
 * An issue-21 case: ML Loop, XGBoost and scikit-learn interleaved, each run in its own process;
 * the goals (fit ≤ 0.9× XGBoost's wall, peak memory ≤ XGBoost's, accuracy within 0.3 points,
 * prediction rows/s ≥ XGBoost's in process and through ONNX Runtime) judged on the medians.
 */
function largeCase(
  c: Case,
  repeat: number,
  prefix: string,
  heldout: string,
  haveSklearn: boolean,
  load: () => string,
): void {
  const ours: (Result | string)[] = [];
  const xgb: (Result | string)[] = [];
  const skl: (Result | string)[] = [];
  const oursArgs = ['--import', 'tsx', join(HERE, 'train.ts'), '--child', c.model, prefix, JSON.stringify(c.params)];
  for (let r = 0; r < repeat; r++) {
    ours.push(runChild(process.execPath, [...oursArgs, '-', heldout]));
    if (!haveSklearn) continue;
    xgb.push(runChild(PYTHON, [join(HERE, 'sklearn_train.py'), 'xgboost', prefix, heldout]));
    skl.push(runChild(PYTHON, [join(HERE, 'sklearn_train.py'), 'gbdt', prefix, heldout]));
  }
  const n = Number(JSON.parse(readFileSync(`${prefix}.json`, 'utf8')).n);
  const o = median(ours);
  const x = median(xgb);
  const s = median(skl);
  const line = (r: Result | string | undefined) => {
    if (typeof r !== 'object') return fmt(r, true);
    const held = r.heldout_accuracy !== undefined ? `, held-out acc ${r.heldout_accuracy.toFixed(4)}` : '';
    const ort = (seconds: number, agreement: number) =>
      `${seconds.toFixed(2)} s (${rowsPerSecond(n, seconds)}, labels equal on ${(100 * agreement).toFixed(3)} %)`;
    const onnx =
      r.onnx_predict_seconds !== undefined
        ? `\n               ONNX Runtime, rows split over ${r.onnx_workers} one-thread sessions (the server's WorkerPool) ${ort(r.onnx_predict_seconds, r.onnx_agreement!)}` +
          `\n               ONNX Runtime, one run, one thread (the server's session options) ${ort(r.onnx_one_thread_seconds!, r.onnx_one_thread_agreement!)}` +
          `\n               ONNX Runtime, one run, its default options (an intra-op thread per core) ${ort(r.onnx_default_seconds!, r.onnx_default_agreement!)}`
        : '';
    return `${r.seconds.toFixed(2)} s wall, ${r.cpu_seconds.toFixed(2)} s CPU, peak ${r.peak_mb.toFixed(0)} MB; train acc ${r.train_accuracy.toFixed(4)}${held}; predict ${r.predict_seconds.toFixed(2)} s (${rowsPerSecond(n, r.predict_seconds)})${onnx}`;
  };
  console.log(`${c.label}   (load average ${load()}; runs: ${ours.length} each)`);
  console.log(`  ML Loop      ${line(o)}`);
  console.log(`  XGBoost      ${line(x)}`);
  console.log(`  scikit-learn ${line(s)}`);
  if (typeof o !== 'object' || typeof x !== 'object') return console.log('');
  const verdict = (met: boolean) => (met ? 'met' : 'NOT met');
  const fit = o.seconds / x.seconds;
  const memory = o.peak_mb / x.peak_mb;
  const trainGap = 100 * (o.train_accuracy - x.train_accuracy);
  const heldGap = 100 * ((o.heldout_accuracy ?? 0) - (x.heldout_accuracy ?? 0));
  const predict = x.predict_seconds / o.predict_seconds;
  // Through ONNX Runtime: each way's rows/s over XGBoost's; the goal is judged on the fastest way.
  const onnxWays =
    o.onnx_predict_seconds !== undefined
      ? {
          split: x.predict_seconds / o.onnx_predict_seconds,
          'one thread': x.predict_seconds / o.onnx_one_thread_seconds!,
          'default options': x.predict_seconds / o.onnx_default_seconds!,
        }
      : {};
  const onnx = o.onnx_predict_seconds !== undefined ? Math.max(...Object.values(onnxWays)) : NaN;
  const onnxDetail = Object.entries(onnxWays)
    .map(([way, r]) => `${r.toFixed(2)}× ${way}`)
    .join(', ');
  console.log(
    `  vs XGBoost   fit ${fit.toFixed(2)}× wall (goal ≤ 0.90: ${verdict(fit <= 0.9)}), ${(o.cpu_seconds / x.cpu_seconds).toFixed(2)}× CPU`,
  );
  console.log(`               peak memory ${memory.toFixed(2)}× (goal ≤ 1: ${verdict(memory <= 1)})`);
  console.log(
    `               accuracy ${trainGap >= 0 ? '+' : ''}${trainGap.toFixed(2)} points train, ${heldGap >= 0 ? '+' : ''}${heldGap.toFixed(2)} held-out (goal within 0.3: ${verdict(Math.abs(trainGap) <= 0.3 && Math.abs(heldGap) <= 0.3)})`,
  );
  console.log(
    `               prediction rows/s ${predict.toFixed(2)}× in process, through ONNX Runtime ${onnxDetail} (goal ≥ 1: ${verdict(predict >= 1)}, ${verdict(onnx >= 1)} by the fastest way)`,
  );
  if (typeof s === 'object') console.log(`  vs sklearn   fit ${(o.seconds / s.seconds).toFixed(2)}× wall`);
  console.log('');
}

function rowsPerSecond(n: number, seconds: number): string {
  return `${(n / seconds / 1e6).toFixed(2)} M rows/s`;
}

/** Each figure's median over the runs that succeeded (the first failure when none did). */
function median(runs: (Result | string)[]): Result | string | undefined {
  const ok = runs.filter((r): r is Result => typeof r === 'object');
  if (ok.length === 0) return runs[0];
  const mid = (key: keyof Result) => {
    const v = ok.map((r) => r[key] ?? NaN).sort((a, b) => a - b);
    const h = v.length >> 1;
    return v.length % 2 ? v[h] : (v[h - 1] + v[h]) / 2;
  };
  return {
    seconds: mid('seconds'),
    cpu_seconds: mid('cpu_seconds'),
    predict_seconds: mid('predict_seconds'),
    train_accuracy: mid('train_accuracy'),
    peak_mb: mid('peak_mb'),
    ...(ok.every((r) => r.heldout_accuracy !== undefined) && { heldout_accuracy: mid('heldout_accuracy') }),
    ...(ok.every((r) => r.onnx_predict_seconds !== undefined) && {
      onnx_predict_seconds: mid('onnx_predict_seconds'),
      onnx_agreement: mid('onnx_agreement'),
      onnx_workers: mid('onnx_workers'),
      onnx_one_thread_seconds: mid('onnx_one_thread_seconds'),
      onnx_one_thread_agreement: mid('onnx_one_thread_agreement'),
      onnx_default_seconds: mid('onnx_default_seconds'),
      onnx_default_agreement: mid('onnx_default_agreement'),
    }),
  };
}

void main();
