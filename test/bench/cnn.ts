// Benchmark: the built-in cnn against PyTorch on Fashion-MNIST (Debian's dataset-fashion-mnist, the
// 60,000 training and 10,000 test images), same architecture (Conv32-pool-Conv64-pool-Dense128-
// Dense10, 3×3 kernels with padding 1), Adam 1e-3, batch 64, no dropout, both on two threads
// (PyTorch: Debian's python3-torch, torch.set_num_threads(2)), run one after the other in this run.
// Goal: seconds per epoch no more than PyTorch's, peak memory under 1 GB, test accuracy after 5
// epochs within 0.5 points. Prints wall and CPU seconds per epoch (CPU time counts every thread of
// the process: on a shared machine wall time says as much about the other processes), the ratios,
// peak RSS, test accuracy, the load average, and where ML Loop's time goes (one thread, timed phases).
//   npm run bench:cnn                      (5 epochs on 60,000 images)
//   CNN_EPOCHS=1 CNN_ROWS=6000 npm run bench:cnn   (a quick run)
//   CNN_PROFILE_BATCHES=N (default 60; 0 skips the breakdown), CNN_SKIP_TORCH=1
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { FeatureSchema, Rows } from '../../src/core/data/types';
import { CNN_PHASES } from '../../src/core/train/cnn/lane';
import { trainCnnWith } from '../../src/core/train/cnn/index';
import { CancelledError } from '../../src/core/runtime/cancel';
import { FASHION_CLASSES, fashionMnistInstalled, readFashionMnist, type IdxImages } from '../fashionMnist';

const EPOCHS = Number(process.env.CNN_EPOCHS ?? 5);
const ROWS = Number(process.env.CNN_ROWS ?? 60000);
const PROFILE_BATCHES = Number(process.env.CNN_PROFILE_BATCHES ?? 60);
const PYTHON = '/usr/bin/python3';

const PARAMS = {
  channels: [32, 64],
  dense: [128],
  dropout: 0,
  optimizer: 'adam',
  learningRate: 0.001,
  lrSchedule: 'constant',
  batchSize: 64,
  epochs: EPOCHS,
  l2: 0,
  earlyStopping: false,
  augment: { flip: false, shift: 0 },
  seed: 0,
};

const SCHEMA: FeatureSchema = {
  task: 'classification',
  target: 'label',
  numeric: [],
  categorical: [],
  classes: FASHION_CLASSES,
  image: { height: 28, width: 28, channels: 1 },
};

function rowsOf(d: IdxImages, n: number): Rows {
  return {
    features: { n, numeric: new Float32Array(0), categories: [] },
    y: Float64Array.from(d.labels.subarray(0, n)),
    ids: [],
    rowIndex: new Uint32Array(n),
    images: { pixels: d.pixels.subarray(0, n * d.height * d.width), files: [] },
  };
}

const load = () =>
  loadavg()
    .map((v) => v.toFixed(1))
    .join(' ');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const empty: Rows = rowsOf({ n: 0, height: 28, width: 28, pixels: new Uint8Array(0), labels: new Uint8Array(0) }, 0);

interface SideResult {
  wall: number[];
  cpu: number[];
  testAccuracy: number;
  peakRssMb: number;
}

function ours(train: Rows, test: Rows): SideResult {
  const wall: number[] = [];
  const cpu: number[] = [];
  let t = performance.now();
  let c = process.cpuUsage();
  const model = trainCnnWith(
    {
      schema: SCHEMA,
      train,
      dev: empty,
      params: PARAMS,
      seed: 0,
      onProgress: (e) => {
        const u = process.cpuUsage(c);
        wall.push((performance.now() - t) / 1000);
        cpu.push((u.user + u.system) / 1e6);
        console.log(
          `  ML Loop epoch ${e.step}: ${wall.at(-1)!.toFixed(1)} s wall, ${cpu.at(-1)!.toFixed(1)} s CPU, train loss ${e.trainLoss!.toFixed(4)} (load ${load()})`,
        );
        t = performance.now();
        c = process.cpuUsage();
      },
    },
    { threads: 2 },
  );
  const p = model.predict(test.features, test.images);
  let hits = 0;
  for (let i = 0; i < test.y.length; i++) if (p.classIndex![i] === test.y[i]) hits++;
  return { wall, cpu, testAccuracy: hits / test.y.length, peakRssMb: process.resourceUsage().maxRSS / 1024 };
}

function torch(): SideResult | string {
  const r = spawnSync(PYTHON, [join(__dirname, 'cnn_torch.py'), String(EPOCHS), String(ROWS), '2'], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0)
    return `PyTorch side failed (${PYTHON} needs python3-torch): ${r.stderr.trim().split('\n').at(-1)}`;
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, number>);
  const epochs = lines.filter((l) => 'epoch' in l);
  for (const e of epochs)
    console.log(
      `  PyTorch epoch ${e.epoch}: ${e.seconds.toFixed(1)} s wall, ${e.cpu.toFixed(1)} s CPU, train loss ${e.trainLoss.toFixed(4)}`,
    );
  const last = lines.at(-1)!;
  return {
    wall: epochs.map((e) => e.seconds),
    cpu: epochs.map((e) => e.cpu),
    testAccuracy: last.testAccuracy,
    peakRssMb: last.peakRssMb,
  };
}

/** Where the time goes: one thread, each phase timed, over the first PROFILE_BATCHES batches. */
function profile(train: Rows): void {
  // CPU time of this thread (the only one working here), not wall time: other processes' share of the cores is not ours.
  const cpuMs = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const spent = new Float64Array(CNN_PHASES.length);
  let last = cpuMs();
  let batches = 0;
  const clock = {
    lap(phase: number) {
      const now = cpuMs();
      spent[phase] += now - last;
      last = now;
    },
  };
  try {
    trainCnnWith(
      {
        schema: SCHEMA,
        train,
        dev: empty,
        params: { ...PARAMS, epochs: 1 },
        seed: 0,
        isCancelled: () => batches >= PROFILE_BATCHES,
      },
      { clock, onBatch: () => batches++ },
    );
  } catch (e) {
    if (!(e instanceof CancelledError)) throw e;
  }
  const total = spent.reduce((a, b) => a + b, 0);
  console.log(
    `\nwhere ML Loop's time goes (CPU time, one thread, ${batches} batches of 64, ${(total / batches).toFixed(1)} ms per batch):`,
  );
  CNN_PHASES.forEach((name, i) =>
    console.log(
      `  ${name.padEnd(24)} ${(spent[i] / batches).toFixed(2).padStart(7)} ms  ${((100 * spent[i]) / total).toFixed(1).padStart(5)} %`,
    ),
  );
}

function main(): void {
  if (!fashionMnistInstalled()) {
    console.log(
      'bench:cnn skipped: Debian package dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)',
    );
    return;
  }
  const trainData = readFashionMnist('train');
  const testData = readFashionMnist('t10k');
  const train = rowsOf(trainData, Math.min(ROWS, trainData.n));
  const test = rowsOf(testData, testData.n);
  console.log(
    `bench:cnn: ${train.features.n} training images, ${EPOCHS} epoch(s), batch 64, Adam 1e-3, 2 threads each side; load ${load()}`,
  );
  const a = ours(train, test);
  const b = process.env.CNN_SKIP_TORCH ? 'skipped (CNN_SKIP_TORCH)' : torch();
  console.log(`\nload average at the end: ${load()} (2 cores)`);
  const line = (name: string, r: SideResult) =>
    console.log(
      `${name.padEnd(8)} ${median(r.wall).toFixed(1)} s/epoch wall, ${median(r.cpu).toFixed(1)} s/epoch CPU (medians), test accuracy ${(100 * r.testAccuracy).toFixed(2)} %, peak RSS ${r.peakRssMb.toFixed(0)} MB`,
    );
  line('ML Loop', a);
  if (typeof b === 'string') console.log(`PyTorch  ${b}`);
  else {
    line('PyTorch', b);
    console.log(
      `ratio ML Loop / PyTorch: ${(median(a.wall) / median(b.wall)).toFixed(2)} (wall), ${(median(a.cpu) / median(b.cpu)).toFixed(2)} (CPU); accuracy difference ${(100 * (a.testAccuracy - b.testAccuracy)).toFixed(2)} points`,
    );
  }
  if (PROFILE_BATCHES > 0) profile(train);
}

main();
