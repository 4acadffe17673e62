// Repro of the two-thread GBDT fit's rare nondeterminism (a worse model once in a few runs; one thread
// was always right), fixed in kernels/helperThread.ts. The cause: the helper thread could run a job
// twice. It may take job N without sleeping (it reaches its wait after the main thread stored N), run
// it and go back to sleep before the main thread's notify for N arrives; that late notify woke it, and
// it ran job N again, while the main thread, having seen N done, went on. A partition run again over
// its already rewritten half gives another left count and duplicates or loses rows while the main
// thread combines the halves; a score add run again adds a tree twice; a subtraction twice makes a
// wrong sibling. The window (a job done between a store and the notify after it) is narrow: a
// preemption of the main thread there, on a loaded machine, opens it. Now the helper runs a job only
// for a new job number, whatever wakes it.
//
//   node --import tsx test/bench/gbdtRace.ts jobs      tiny helper jobs back to back (natural timing):
//                                                     how many ran twice. RACE_JOBS=N, RACE_BUSY=N
//                                                     busy-looping threads to perturb the timing.
//   node --import tsx test/bench/gbdtRace.ts small     many small two-thread fits in one process
//                                                     (100,000 × 10): fits whose model differs from
//                                                     the first. RACE_FITS=N, RACE_BUSY=N.
//   node --import tsx test/bench/gbdtRace.ts           fresh processes each fitting 1,000,000 × 50 (the
//                                                     first fit of a process, as reported): how many
//                                                     runs gave each model hash. RACE_RUNS=N,
//                                                     RACE_ROWS=N, RACE_ITERATIONS=N, RACE_BUSY=N.
// The unit tests (test/unit/train/helper-thread.test.ts, gbdt.test.ts) make it happen at every job
// with a thread that keeps waking the helper.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { trainGbdt } from '../../src/core/train/gbdt/index';
import { HELPER_FIRST_WORD, HelperThread, helperSource } from '../../src/core/train/kernels/helperThread';
import { generatedClassification } from '../unit/train/gbdt-fixtures';
import { rows as makeRows } from '../unit/train/fixtures';

const busy = Number(process.env.RACE_BUSY ?? 0);

/** Busy-looping threads (the machine's other load, on purpose); stopped with the process. */
function startBusyThreads(): void {
  for (let i = 0; i < busy; i++) new Worker('for (;;) {}', { eval: true }).unref();
}

/** The hash of a binary fit's ONNX model (two threads from 1,000,000 cells). */
function fitHash(rowsCount: number, d: number, iterations: number): string {
  const { X, y } = generatedClassification(rowsCount, d, 31);
  const schema = {
    task: 'classification' as const,
    target: 'y',
    numeric: Array.from({ length: d }, (_, j) => `x${j}`),
    categorical: [],
    classes: ['0', '1'],
  };
  const model = trainGbdt({
    schema,
    train: makeRows(X, y),
    dev: makeRows([], []),
    params: { iterations, maxLeaves: 31 },
    seed: 7,
  });
  const onnx = model.toOnnx({ runId: 'r', dataVersion: 'v', mlloopVersion: '0' });
  return createHash('sha256').update(onnx).digest('hex').slice(0, 12);
}

const load = () => `load ${loadavg()[0].toFixed(2)}`;

if (process.argv[2] === 'jobs') {
  startBusyThreads();
  const jobs = Number(process.env.RACE_JOBS ?? 1_000_000);
  // Each job spins a varying while, the main thread too between post and await (as a fit's halves).
  const TWICE = HELPER_FIRST_WORD;
  const SPIN = HELPER_FIRST_WORD + 1;
  const source = helperSource(
    'let last = 0;',
    `if (job === last) Atomics.add(control, ${TWICE}, 1);
     last = job;
     let x = 0;
     for (let i = Atomics.load(control, ${SPIN}); i > 0; i--) x += i;`,
  );
  const helper = HelperThread.start(source, {}, HELPER_FIRST_WORD + 2, 10_000)!;
  const t0 = Date.now();
  for (let i = 0; i < jobs; i++) {
    const spin = (i * 7919) % 2000;
    helper.control[SPIN] = spin;
    const job = helper.post();
    let x = 0;
    for (let j = 1000 - spin / 2; j > 0; j--) x += j;
    helper.await(job);
  }
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
  const twice = Atomics.load(helper.control, TWICE);
  helper.stop();
  console.log(`${jobs} jobs, ${busy} busy thread(s), ${Date.now() - t0} ms, ${load()}: ${twice} ran twice`);
  process.exit(0);
} else if (process.argv[2] === 'small') {
  startBusyThreads();
  const fits = Number(process.env.RACE_FITS ?? 40);
  const first = fitHash(100_000, 10, 20);
  let differing = 0;
  for (let i = 1; i < fits; i++) if (fitHash(100_000, 10, 20) !== first) differing++;
  console.log(`${fits} fits of 100,000 × 10, ${busy} busy thread(s), ${load()}: ${differing} differ from the first`);
  process.exit(0);
} else if (process.argv[2] === 'fit') {
  startBusyThreads();
  console.log(fitHash(Number(process.env.RACE_ROWS ?? 1_000_000), 50, Number(process.env.RACE_ITERATIONS ?? 40)));
  process.exit(0);
} else {
  const runs = Number(process.env.RACE_RUNS ?? 8);
  const counts = new Map<string, number>();
  for (let i = 0; i < runs; i++) {
    const child = spawnSync(process.execPath, [...process.execArgv, process.argv[1], 'fit'], { encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`fit ${i + 1} failed: ${child.stderr}`);
    const hash = child.stdout.trim();
    counts.set(hash, (counts.get(hash) ?? 0) + 1);
    console.log(`run ${i + 1}/${runs}: ${hash}`);
  }
  console.log(`${runs} runs, ${busy} busy thread(s), ${load()}:`);
  for (const [hash, n] of counts) console.log(`  ${hash}  ${n} run(s)`);
  console.log(counts.size > 1 ? 'NONDETERMINISTIC' : 'one model hash');
}
