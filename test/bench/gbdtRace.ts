// Repro for a rare nondeterminism of the built-in GBDT's fit on two threads (a worse model once in
// a few fresh processes; one thread is deterministic): fits the same generated binary data in
// fresh processes, each a cold start (the first fit of a process is the one seen to differ), and
// prints how many runs gave each model hash (sha256 of the ONNX bytes). More than one hash is the bug.
// Unaltered it shows rarely (seen in 1 of 3 runs, and in 0 of 4); a busy-wait of ~200,000
// Atomics.load iterations before Atomics.wait on both sides of kernels/helperThread.ts's handshake
// made it about 1 in 4 in one engineer's runs (not in another's 8). Still unexplained: the traced bad runs first
// differ at a two-thread partition (a wrong left count from the helper, or a row duplicated and one lost).
//   node --import tsx test/bench/gbdtRace.ts                (8 runs, 1,000,000 × 50, 40 iterations)
//   RACE_RUNS=N RACE_ROWS=N RACE_ITERATIONS=N node --import tsx test/bench/gbdtRace.ts
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { loadavg } from 'node:os';
import { trainGbdt } from '../../src/core/train/gbdt/index';
import type { TrainedModel } from '../../src/core/train/types';
import { generatedClassification } from '../unit/train/gbdt-fixtures';
import { rows as makeRows } from '../unit/train/fixtures';

const rowsCount = Number(process.env.RACE_ROWS ?? 1_000_000);
const iterations = Number(process.env.RACE_ITERATIONS ?? 40);
const runs = Number(process.env.RACE_RUNS ?? 8);
const d = 50;

if (process.argv[2] === 'fit') {
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
  }) as TrainedModel;
  const onnx = model.toOnnx({ runId: 'r', dataVersion: 'v', mlloopVersion: '0' });
  console.log(createHash('sha256').update(onnx).digest('hex').slice(0, 12));
} else {
  const counts = new Map<string, number>();
  for (let i = 0; i < runs; i++) {
    const child = spawnSync(process.execPath, [...process.execArgv, process.argv[1], 'fit'], { encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`fit ${i + 1} failed: ${child.stderr}`);
    const hash = child.stdout.trim();
    counts.set(hash, (counts.get(hash) ?? 0) + 1);
    console.log(`run ${i + 1}/${runs}: ${hash}`);
  }
  console.log(`${rowsCount} × ${d}, ${iterations} iterations, load ${loadavg()[0].toFixed(2)}:`);
  for (const [hash, n] of counts) console.log(`  ${hash}  ${n} run(s)`);
  console.log(counts.size > 1 ? 'NONDETERMINISTIC' : 'one model hash');
}
