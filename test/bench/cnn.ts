// Benchmark: the built-in cnn against PyTorch on Fashion-MNIST (Debian's dataset-fashion-mnist, the
// 60,000 training and 10,000 test images), same architecture (Conv32-pool-Conv64-pool-Dense128-
// Dense10, 3×3 kernels with padding 1), Adam 1e-3, batch 64, no dropout, both on two threads
// (PyTorch: Debian's python3-torch, torch.set_num_threads(2)), measured in the same run.
// Goal: seconds per epoch no more than PyTorch's, peak memory under 1 GB, test accuracy after 5
// epochs within 0.5 points. The two take turns epoch by epoch (PyTorch in its own process, paced
// through two FIFOs), so a slow spell of this shared machine falls on both sides rather than on
// whichever ran then. Prints wall and CPU seconds per epoch (CPU time counts every thread of the
// process: on a shared machine wall time says as much about the other processes), the ratios, peak
// RSS, test accuracy, the load average, and where ML Loop's time goes (one thread, timed phases).
//   npm run bench:cnn                      (5 epochs on 60,000 images)
//   CNN_EPOCHS=1 CNN_ROWS=6000 npm run bench:cnn   (a quick run)
//   CNN_PROFILE_BATCHES=N (default 60; 0 skips the breakdown), CNN_SKIP_TORCH=1
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
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

/** ML Loop's side; `between` runs after each epoch, outside its timing (PyTorch's turn). */
function ours(train: Rows, test: Rows, between?: () => void): SideResult {
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
        between?.();
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

/**
 * PyTorch's side (cnn_torch.py) in its own process, loaded and then paced through two FIFOs: each
 * epoch() runs one of its epochs while this thread waits (blocking reads: ML Loop's training holds
 * the event loop), so the two sides alternate.
 */
class TorchTurns {
  private readonly epochs: Record<string, number>[] = [];
  private pending = '';
  private toTorch = -1;

  private constructor(
    private readonly dir: string,
    private readonly fromTorch: number,
  ) {}

  static start(): TorchTurns | string {
    // A missing torch would leave the FIFOs unopened and this thread waiting forever: check first.
    const check = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
    if (check.status !== 0)
      return `PyTorch side failed (${PYTHON} needs python3-torch): ${check.stderr.trim().split('\n').at(-1)}`;
    const dir = mkdtempSync(join(tmpdir(), 'mlloop-bench-cnn-'));
    const [turns, lines] = [join(dir, 'turns'), join(dir, 'lines')];
    execFileSync('mkfifo', [turns, lines]);
    spawn(PYTHON, [join(__dirname, 'cnn_torch.py'), String(EPOCHS), String(ROWS), '2', turns, lines], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const fromTorch = openSync(lines, 'r');
    const side = new TorchTurns(dir, fromTorch);
    if (side.line() !== 'ready') return 'PyTorch side failed to start';
    side.toTorch = openSync(turns, 'w');
    return side;
  }

  /** One PyTorch epoch, printed as ML Loop's are. */
  epoch(): void {
    writeSync(this.toTorch, 'go\n');
    const e = this.line() as Record<string, number>;
    this.epochs.push(e);
    console.log(
      `  PyTorch epoch ${e.epoch}: ${e.seconds.toFixed(1)} s wall, ${e.cpu.toFixed(1)} s CPU, train loss ${e.trainLoss.toFixed(4)}`,
    );
  }

  /** Its test accuracy and peak memory, and the FIFOs removed. */
  finish(): SideResult {
    writeSync(this.toTorch, 'test\n');
    const last = this.line() as Record<string, number>;
    closeSync(this.toTorch);
    closeSync(this.fromTorch);
    rmSync(this.dir, { recursive: true, force: true });
    return {
      wall: this.epochs.map((e) => e.seconds),
      cpu: this.epochs.map((e) => e.cpu),
      testAccuracy: last.testAccuracy,
      peakRssMb: last.peakRssMb,
    };
  }

  /** The next JSON line PyTorch wrote. */
  private line(): unknown {
    const buffer = Buffer.alloc(4096);
    for (let end = this.pending.indexOf('\n'); end < 0; end = this.pending.indexOf('\n')) {
      const n = readSync(this.fromTorch, buffer);
      if (n === 0) throw new Error('the PyTorch side ended early (its error is above)');
      this.pending += buffer.toString('utf8', 0, n);
    }
    const end = this.pending.indexOf('\n');
    const text = this.pending.slice(0, end);
    this.pending = this.pending.slice(end + 1);
    return JSON.parse(text);
  }
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
  const turns = process.env.CNN_SKIP_TORCH ? 'skipped (CNN_SKIP_TORCH)' : TorchTurns.start();
  const a = ours(train, test, typeof turns === 'string' ? undefined : () => turns.epoch());
  const b = typeof turns === 'string' ? turns : turns.finish();
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
