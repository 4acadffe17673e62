// MLP kernel benchmark (a benchmark, never a test): for each GEMM kernel variant, the GEMM rate on
// the shapes of one training step and the MLP's ms/epoch (64 hidden, relu, adam, batch 200) on
// digits and on a generated 100,000 × 50 set, next to scikit-learn's MLPClassifier with the same
// settings (test/bench/kernels_sklearn.py in a /usr/bin/python3 process that never imports torch).
//   npm run bench:kernels [-- --rounds N] [-- --quick]
// Rounds are interleaved (every variant, then sklearn, again…) and the best of each is kept. Both
// wall time and CPU time are reported: the machine is shared and often busy, which disturbs wall
// time far more (ML Loop trains on one thread; sklearn's BLAS may use both cores, so its CPU time
// can exceed its wall time).

import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FeatureSchema, Rows } from '../../src/core/data/types';
import {
  createKernels,
  INIT_ZERO,
  KERNEL_KINDS,
  POST_NONE,
  wasmSimdAvailable,
  type KernelKind,
} from '../../src/core/train/kernels/gemm';
import { trainMlpWith } from '../../src/core/train/mlp';
import { readClassificationCsv, rows } from '../unit/train/fixtures';
import { generatedClassification } from '../unit/train/gbdt-fixtures';
import { DIGITS_CSV } from '../datasets';
import { benchTempDir } from './tempDir';

const PYTHON = '/usr/bin/python3';
const SKLEARN_SCRIPT = join(__dirname, 'kernels_sklearn.py');
const MLP_PARAMS = {
  hidden: [64],
  activation: 'relu',
  optimizer: 'adam',
  learningRate: 0.001,
  batchSize: 200,
  l2: 1e-4,
  earlyStopping: false,
};

interface Dataset {
  label: string;
  schema: FeatureSchema;
  train: Rows;
  /** Epochs each variant trains per round (fewer for the slow ones on the large set). */
  epochs: Record<KernelKind | 'sklearn', number>;
}

/** Milliseconds per epoch. */
interface Timing {
  wall: number;
  cpu: number;
}

const bestOf = (a: Timing | undefined, b: Timing): Timing =>
  a ? { wall: Math.min(a.wall, b.wall), cpu: Math.min(a.cpu, b.cpu) } : b;

function digits(): Dataset {
  const split = readClassificationCsv(DIGITS_CSV);
  const parts = [split.train, split.dev, split.test];
  const numeric = parts.flatMap((r) => Array.from(r.features.numeric));
  const y = parts.flatMap((r) => Array.from(r.y));
  return {
    label: 'digits (1,797 × 64, 10 classes)',
    schema: split.schema,
    train: rows(numeric, y),
    epochs: { 'wasm-simd': 50, 'js-blocked': 20, 'js-naive': 10, sklearn: 50 },
  };
}

function generated(): Dataset {
  const d = 50;
  const { X, y } = generatedClassification(100_000, d, 2024);
  const schema: FeatureSchema = {
    task: 'classification',
    target: 'y',
    numeric: Array.from({ length: d }, (_, j) => `x${j}`),
    categorical: [],
    classes: ['0', '1'],
  };
  const train: Rows = {
    features: { n: y.length, numeric: X, categories: [] },
    y,
    ids: [],
    rowIndex: new Uint32Array(0),
  };
  return {
    label: 'generated 100,000 × 50, 2 classes',
    schema,
    train,
    epochs: { 'wasm-simd': 10, 'js-blocked': 2, 'js-naive': 1, sklearn: 10 },
  };
}

const emptyRows = (): Rows => rows([], []);

/** One training run (preprocessing and model building included), per epoch. */
function timeMlp(ds: Dataset, kernel: KernelKind, epochs: number): Timing {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  trainMlpWith(
    { schema: ds.schema, train: ds.train, dev: emptyRows(), params: { ...MLP_PARAMS, epochs }, seed: 0 },
    { kernel },
  );
  const used = process.cpuUsage(cpu);
  return { wall: (performance.now() - wall) / epochs, cpu: (used.user + used.system) / 1000 / epochs };
}

/** sklearn on the same rows, per epoch, or a reason it is not available. */
function timeSklearn(ds: Dataset, dir: string): Timing | string {
  const prefix = join(dir, ds.label.replace(/\W+/g, '_'));
  const X = ds.train.features.numeric;
  writeFileSync(`${prefix}.json`, JSON.stringify({ n: ds.train.y.length, d: ds.schema.numeric.length }));
  writeFileSync(`${prefix}.X.f32`, new Uint8Array(X.buffer, X.byteOffset, X.byteLength));
  writeFileSync(`${prefix}.y.f64`, new Uint8Array(ds.train.y.buffer, ds.train.y.byteOffset, ds.train.y.byteLength));
  const r = spawnSync(PYTHON, [SKLEARN_SCRIPT, prefix, String(ds.epochs.sklearn)], { encoding: 'utf8' });
  try {
    const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '');
    return { wall: out.wall_ms_per_epoch, cpu: out.cpu_ms_per_epoch };
  } catch {
    return `failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' | ')}`;
  }
}

/** GFLOP/s of each product of one digits training step (batch 200, 64 → 64 → 10). */
function gemmRates(kernel: KernelKind): string {
  const shapes = [
    { label: 'forward 200×64·64×64', m: 200, n: 64, k: 64, transA: false },
    { label: 'output 200×64·64×12', m: 200, n: 12, k: 64, transA: false },
    { label: '∂W 64×200·200×64 (Aᵀ)', m: 64, n: 64, k: 200, transA: true },
    { label: '∂input 200×12·12×64', m: 200, n: 64, k: 12, transA: false },
  ];
  const kern = createKernels(kernel, 64 * 1024);
  kern.heap.forEach((_, i) => (kern.heap[i] = ((i * 7919) % 1000) / 1000 - 0.5));
  return shapes
    .map(({ label, m, n, k, transA }) => {
      const a = 0;
      const b = 20_000;
      const c = 40_000;
      const sam = transA ? 1 : k;
      const sak = transA ? m : 1;
      const reps = kernel === 'js-naive' ? 200 : 2000;
      let best = Infinity;
      for (let round = 0; round < 3; round++) {
        const t = performance.now();
        for (let r = 0; r < reps; r++) kern.gemm(m, n, k, a, sam, sak, b, n, c, n, INIT_ZERO, 0, POST_NONE, 0, 0);
        best = Math.min(best, (performance.now() - t) / reps);
      }
      return `${label}: ${((2 * m * n * k) / best / 1e6).toFixed(1)} GFLOP/s`;
    })
    .join('; ');
}

function main(): void {
  const argv = process.argv.slice(2);
  const rounds = Number(argv[argv.indexOf('--rounds') + 1] || 3);
  const quick = argv.includes('--quick');
  const kinds = KERNEL_KINDS.filter((k) => k !== 'wasm-simd' || wasmSimdAvailable());
  const haveSklearn = spawnSync(PYTHON, ['-c', 'import sklearn'], { stdio: 'ignore' }).status === 0;
  const dir = benchTempDir('kernels');

  console.log('GEMM rates on the products of one training step (best of 3):');
  for (const kind of kinds) console.log(`  ${kind.padEnd(10)} ${gemmRates(kind)}`);

  console.log(
    `\nMLP 64 hidden, relu, adam, batch 200 — ms per epoch (wall / CPU), best of ${rounds} interleaved rounds; ratio = ML Loop / scikit-learn`,
  );
  for (const ds of quick ? [digits()] : [digits(), generated()]) {
    const ours: Partial<Record<KernelKind, Timing>> = {};
    let sk: Timing | string | undefined = haveSklearn ? undefined : 'scikit-learn not installed under /usr/bin/python3';
    for (let round = 0; round < rounds; round++) {
      for (const kind of kinds) ours[kind] = bestOf(ours[kind], timeMlp(ds, kind, ds.epochs[kind]));
      if (haveSklearn) {
        const r = timeSklearn(ds, dir);
        sk = typeof r === 'string' ? r : typeof sk === 'string' ? sk : bestOf(sk, r);
      }
    }
    const fmt = (t: Timing) => `${t.wall.toFixed(2)} / ${t.cpu.toFixed(2)} ms`;
    console.log(`\n${ds.label}`);
    console.log(`  scikit-learn  ${typeof sk === 'object' ? `${fmt(sk)} (${ds.epochs.sklearn} epochs)` : sk}`);
    for (const kind of kinds) {
      const t = ours[kind]!;
      const ratio =
        typeof sk === 'object'
          ? `  ratio wall ${(t.wall / sk.wall).toFixed(2)}×, CPU ${(t.cpu / sk.cpu).toFixed(2)}×`
          : '';
      console.log(`  ${kind.padEnd(12)}  ${fmt(t)} (${ds.epochs[kind]} epochs)${ratio}`);
    }
  }
  rmSync(dir, { recursive: true, force: true });
}

main();
