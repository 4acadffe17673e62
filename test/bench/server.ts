// Benchmark: the inference server side by side with its limits, single-row requests on loopback from wrk
// at 1, 16 and 64 connections (interleaved, so the shared machine's noise hits every variant alike):
//   no-op    a Node HTTP server answering a fixed ~100-byte JSON (the HTTP layer's ceiling)
//   session  in-process session.run, single rows, no HTTP (the model's ceiling)
//   off      the server with batching off (--max-batch-size 1: one session.run per request)
//   on       the server as it starts by default: dynamic batching (up to 64 rows, flushed each event-loop
//            turn) and --workers auto (which keeps this small model on the server's thread)
//   pool     the same with --workers 2: batches run in two inference worker threads
// The model has the shape of the digits softmax run (64 features, 10 classes, label + probabilities).
// Then a heavy model (an MLP, 64 → 2048 → 2048 → 10) on the server's thread and in the pool, to show
// where a pool pays (what --workers auto decides on: the single-row run time, AUTO_POOL_MIN_RUN_MS).
// Targets (issue 9): batching on at 64 connections ≥ 60 % of no-op, p99 < 5 ms; 1 connection p50 < 1 ms.
// Then the wire (issue 19, ./serverWire.ts): 512-row requests over JSON, binary REST and gRPC against
// in-process runs, and 28×28 PNG bodies against in-process decode + run.
//   npm run bench:server [-- --seconds 5 --connections 1,16,64 --heavy-connections 16,64 --parts single,wire --rounds 3]
//   (--rounds: the variants of a point, and the wire part's tabular variants, measured in turn that many
//   times; medians reported, ratios taken within a round)
//   (bundles the server first; needs Debian's wrk)
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { OnnxGraphBuilder } from '../../src/core/onnx/builder';
import { AUTO_POOL_MIN_RUN_MS } from '../../src/core/serve/engine';
import { SERVER_NODE_OPTIONS } from '../../src/core/serve/nodeOptions';
import { appendClassifierOutputsFromLogits } from '../../src/core/train/outputs';
import { benchTempDir } from './tempDir';
import { benchWire, fashionPngs, median } from './serverWire';
import { defaultParams } from '../../src/core/spec/schema';
import { trainGbdt } from '../../src/core/train/gbdt/index';
import { generatedClassification } from '../unit/train/gbdt-fixtures';
import { rows } from '../unit/train/fixtures';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '1,16,64' },
    'heavy-connections': { type: 'string', default: '16,64' },
    parts: { type: 'string', default: 'single,wire' },
    rounds: { type: 'string', default: '3' },
  },
});
const PARTS = new Set(values.parts!.split(','));
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const CONNECTIONS = values.connections!.split(',').map(Number);
const HEAVY_CONNECTIONS = values['heavy-connections']!.split(',').filter(Boolean).map(Number);
/** CPU time a server gets under load before it is measured (at most WARM_MAX_MS of wall time). */
const WARM_CPU_MS = 2000;
const WARM_MAX_MS = 15_000;
const F = 64;
const root = join(__dirname, '../..');

function digitsLikeModel(): Uint8Array {
  const b = new OnnxGraphBuilder('bench');
  b.addInput('features', 'float', ['N', F]);
  const w = b.addInitializer(
    'w',
    Float32Array.from({ length: F * 10 }, (_, i) => Math.sin(i) / 8),
    [F, 10],
  );
  const bias = b.addInitializer(
    'b',
    Float32Array.from({ length: 10 }, (_, i) => i / 10),
    [10],
  );
  const [mm] = b.addNode('MatMul', ['features', w]);
  const [logits] = b.addNode('Add', [mm, bias]);
  appendClassifierOutputsFromLogits(
    b,
    logits,
    Array.from({ length: 10 }, (_, i) => String(i)),
  );
  return b.build(
    {
      task: 'classification',
      features: JSON.stringify(Array.from({ length: F }, (_, i) => `px${i}`)),
      categories: '[]',
      classes: JSON.stringify(Array.from({ length: 10 }, (_, i) => String(i))),
    },
    { '': 15, 'ai.onnx.ml': 3 },
  );
}

/** ML Loop's GBDT with its default parameters (100 trees of up to 31 leaves), trained on generated rows. */
async function gbdtModel(): Promise<Uint8Array> {
  const { X, y } = generatedClassification(20_000, F, 1);
  const schema = {
    task: 'classification' as const,
    target: 'y',
    numeric: Array.from({ length: F }, (_, i) => `px${i}`),
    categorical: [],
    classes: ['0', '1'],
  };
  const model = await trainGbdt({
    schema,
    train: rows(X, y),
    dev: rows([], []),
    params: { ...defaultParams('gbdt') },
    seed: 0,
  });
  return model.toOnnx({ runId: 'bench', dataVersion: 'bench', mlloopVersion: '0' });
}

/** 64 → 2048 → 2048 → 10 with ReLU (4.3 M multiply-adds a row), the same outputs as the digits model. */
function heavyModel(): Uint8Array {
  const H = 2048;
  const b = new OnnxGraphBuilder('bench_heavy');
  b.addInput('features', 'float', ['N', F]);
  let x = 'features';
  for (const [i, [n, m]] of [
    [F, H],
    [H, H],
    [H, 10],
  ].entries()) {
    const w = b.addInitializer(
      `w${i}`,
      Float32Array.from({ length: n * m }, (_, k) => Math.sin(k + i) / Math.sqrt(n)),
      [n, m],
    );
    const [mm] = b.addNode('MatMul', [x, w]);
    x = i < 2 ? b.addNode('Relu', [mm])[0] : mm;
  }
  appendClassifierOutputsFromLogits(
    b,
    x,
    Array.from({ length: 10 }, (_, i) => String(i)),
  );
  return b.build(
    {
      task: 'classification',
      features: JSON.stringify(Array.from({ length: F }, (_, i) => `px${i}`)),
      categories: '[]',
      classes: JSON.stringify(Array.from({ length: 10 }, (_, i) => String(i))),
    },
    { '': 15, 'ai.onnx.ml': 3 },
  );
}

const row = Array.from({ length: F }, (_, i) => (i * 7) % 17);
const body = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, F], data: row }] });

const NOOP_SERVER = `
const reply = JSON.stringify({ model_name: 'noop', model_version: '1', outputs: [{ name: 'label', datatype: 'BYTES', shape: [1], data: ['3'] }] });
require('http').createServer((req, res) => { req.on('data', () => {}); req.on('end', () => { res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(reply) }); res.end(reply); }); })
  .listen(0, '127.0.0.1', function () { console.log(JSON.stringify({ url: 'http://127.0.0.1:' + this.address().port })); });`;

function start(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve({ child, url: JSON.parse(line).url });
    });
    child.once('exit', (c) => reject(new Error(`exited ${c}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

interface WrkResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** The server process's CPU time per request (user + system): steadier than wall time on a busy machine. */
  cpuUsPerRequest?: number;
}

/** utime + stime of a process, in ms (Linux /proc; clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function toMs(s: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(s.trim());
  if (!m) return NaN;
  return Number(m[1]) * (m[2] === 'us' ? 1e-3 : m[2] === 's' ? 1e3 : 1);
}

function wrk(url: string, connections: number, lua: string): WrkResult {
  const out = execFileSync('wrk', ['-t1', `-c${connections}`, `-d${SECONDS}s`, '--latency', '-s', lua, url], {
    encoding: 'utf8',
  });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const p50 = toMs(/\s50%\s+(\S+)/.exec(out)?.[1] ?? '');
  const p99 = toMs(/\s99%\s+(\S+)/.exec(out)?.[1] ?? '');
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const sockErr = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return { rps, p50, p99, errors: non2xx + (sockErr ? sockErr.slice(1).reduce((a, b) => a + Number(b), 0) : 0) };
}

/** How many inference workers the server gave the model (GET /v2/mlloop/status). */
async function workersOf(url: string): Promise<number> {
  const s = (await (await fetch(`${url}/v2/mlloop/status`)).json()) as {
    models: Array<{ versions: Array<{ workers: number }> }>;
  };
  return s.models[0].versions[0].workers;
}

async function inProcessRuns(model: Uint8Array): Promise<{ rps: number; p50: number; p99: number }> {
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const x = Float32Array.from(row);
  const lat: number[] = [];
  const end = performance.now() + SECONDS * 1000;
  let n = 0;
  const t0 = performance.now();
  while (performance.now() < end) {
    const s = performance.now();
    await session.run({ features: new ort.Tensor('float32', x, [1, F]) });
    lat.push(performance.now() - s);
    n++;
  }
  const rps = n / ((performance.now() - t0) / 1000);
  await session.release();
  lat.sort((a, b) => a - b);
  return { rps, p50: lat[Math.floor(lat.length * 0.5)], p99: lat[Math.floor(lat.length * 0.99)] };
}

/**
 * Each variant at each connection count, printing a line per point. Per count, every variant's server
 * is started and warmed first, then ROUNDS rounds measure the variants one after another; a point's
 * figures are the medians over the rounds, and `rounds` keeps each round's result (ratios between
 * variants are taken within a round: the neighbours' load swings between minutes).
 */
async function measureAll(
  variants: Array<[string, string[], string]>,
  connections: number[],
  lua: string,
  luaGet: string,
): Promise<Record<string, Record<number, WrkResult & { rounds: WrkResult[] }>>> {
  const results: Record<string, Record<number, WrkResult & { rounds: WrkResult[] }>> = {};
  for (const c of connections) {
    const servers: Array<{ name: string; child: ChildProcess; url: string; workers?: number; rounds: WrkResult[] }> =
      [];
    try {
      for (const [name, args, path] of variants) {
        const s = await start(args);
        servers.push({ name, child: s.child, url: s.url + path, rounds: [] });
        // Warm-up until the server has had WARM_CPU_MS of CPU: a fresh server spends its first seconds
        // compiling (TurboFan, seen with perf), ours has far more code than the no-op, and on a busy
        // machine a fixed wall-clock warm-up leaves the compilation inside the measurement.
        const warmStart = Date.now();
        const warmCpu0 = cpuMs(s.child.pid!);
        while (cpuMs(s.child.pid!) - warmCpu0 < WARM_CPU_MS && Date.now() - warmStart < WARM_MAX_MS)
          execFileSync('wrk', ['-t1', `-c${c}`, '-d1s', '-s', name === 'no-op' ? luaGet : lua, s.url + path], {
            encoding: 'utf8',
          });
        servers[servers.length - 1].workers = name === 'no-op' ? undefined : await workersOf(s.url);
      }
      for (let round = 0; round < ROUNDS; round++)
        for (const s of servers) {
          const cpu0 = cpuMs(s.child.pid!);
          const r = wrk(s.url, c, s.name === 'no-op' ? luaGet : lua);
          r.cpuUsPerRequest = ((cpuMs(s.child.pid!) - cpu0) * 1000) / (r.rps * SECONDS);
          s.rounds.push(r);
          console.log(
            `  ${String(c).padStart(2)} conn  ${s.name.padEnd(6)} ${String(Math.round(r.rps)).padStart(6)} req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  server CPU ${r.cpuUsPerRequest.toFixed(0)} µs/req${s.workers === undefined ? '' : `  (${s.workers} workers)`}${r.errors ? `  ${r.errors} errors` : ''}${ROUNDS > 1 ? `  (round ${round + 1})` : ''}`,
          );
        }
    } finally {
      for (const s of servers) await stop(s.child);
    }
    for (const s of servers) {
      const m = (k: 'rps' | 'p50' | 'p99' | 'errors' | 'cpuUsPerRequest') => median(s.rounds.map((r) => r[k]!));
      (results[s.name] ??= {})[c] = {
        rps: m('rps'),
        p50: m('p50'),
        p99: m('p99'),
        errors: m('errors'),
        cpuUsPerRequest: m('cpuUsPerRequest'),
        rounds: s.rounds,
      };
    }
  }
  return results;
}

/** The median over the rounds of a's req/s ÷ b's in the same round. */
function roundRatio(a: { rounds: WrkResult[] }, b: { rounds: WrkResult[] }): number {
  return median(a.rounds.map((r, i) => r.rps / b.rounds[i].rps));
}

(async () => {
  const dir = benchTempDir('server');
  const model = digitsLikeModel();
  const modelPath = join(dir, 'model.onnx');
  writeFileSync(modelPath, model);
  const lua = join(dir, 'post.lua');
  writeFileSync(
    lua,
    `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = ${JSON.stringify(body)}\n`,
  );
  const luaGet = join(dir, 'noop.lua');
  writeFileSync(luaGet, `wrk.method = "POST"\nwrk.body = ${JSON.stringify(body)}\n`);
  console.log(
    `bench:server — ${availableParallelism()} cores, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}, ${SECONDS} s per point, single-row FP32 [1, ${F}] requests, wrk -t1`,
  );
  // Its own bundle (npm run bench:server makes it): dist/ may be rebuilt by someone else mid-run.
  const serverJs = join(root, '.cache/bench/server.js');
  if (PARTS.has('single')) await benchSingleRows(dir, model, modelPath, serverJs, lua, luaGet);
  if (PARTS.has('wire'))
    await benchWire({
      serverJs,
      dir,
      seconds: SECONDS,
      rounds: ROUNDS,
      models: [
        { name: 'linear 64 → 10', bytes: model },
        { name: "ML Loop's GBDT (100 trees, 31 leaves)", bytes: await gbdtModel() },
      ],
      features: F,
      pngs: fashionPngs(root, 200),
    });
  console.log(
    `load average at the end: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  rmSync(dir, { recursive: true, force: true });
})();

async function benchSingleRows(
  dir: string,
  model: Uint8Array,
  modelPath: string,
  serverJs: string,
  lua: string,
  luaGet: string,
): Promise<void> {
  const session = await inProcessRuns(model);
  console.log(
    `in-process session.run: ${Math.round(session.rps)} calls/s, p50 ${(session.p50 * 1000).toFixed(0)} µs, p99 ${(session.p99 * 1000).toFixed(0)} µs`,
  );
  const serve = (path: string, extra: string[]) => [
    ...SERVER_NODE_OPTIONS,
    serverJs,
    '--model',
    path,
    '--name',
    'm',
    '--port',
    '0',
    '--json',
    ...extra,
  ];
  const variants: Array<[string, string[], string]> = [
    ['no-op', ['-e', NOOP_SERVER], '/'],
    ['off', serve(modelPath, ['--max-batch-size', '1', '--workers', '0']), '/v2/models/m/infer'],
    ['on', serve(modelPath, []), '/v2/models/m/infer'],
    ['pool', serve(modelPath, ['--workers', '2']), '/v2/models/m/infer'],
  ];
  const results = await measureAll(variants, CONNECTIONS, lua, luaGet);
  console.log(
    '\nconn   no-op req/s   off req/s (p99)      on req/s (p99)       pool req/s (p99)     on/no-op  on/off  pool/on',
  );
  for (const c of CONNECTIONS) {
    const n = results['no-op'][c];
    const off = results.off[c];
    const on = results.on[c];
    const pool = results.pool[c];
    const cell = (r: WrkResult) => `${Math.round(r.rps)} (${r.p99.toFixed(2)} ms)`.padEnd(19);
    console.log(
      `${String(c).padStart(4)}   ${String(Math.round(n.rps)).padStart(11)}   ${cell(off)}  ${cell(on)}  ${cell(pool)}  ${(roundRatio(on, n) * 100).toFixed(0).padStart(6)} %  ${roundRatio(on, off).toFixed(2)}x  ${roundRatio(pool, on).toFixed(2)}x`,
    );
  }
  const c64 = results.on[64];
  const c1 = results.on[1];
  if (c64 && results['no-op'][64])
    console.log(
      `\ntarget 64 conn: on ≥ 60 % of no-op → ${(roundRatio(c64, results['no-op'][64]) * 100).toFixed(0)} %${ROUNDS > 1 ? ` (median of the ${ROUNDS} rounds' ratios: ${c64.rounds.map((r, i) => ((r.rps / results['no-op'][64].rounds[i].rps) * 100).toFixed(0)).join(', ')} %)` : ''}; p99 < 5 ms → ${c64.p99.toFixed(2)} ms`,
    );
  if (c1) console.log(`target 1 conn: p50 < 1 ms → ${c1.p50.toFixed(2)} ms`);
  for (const c of CONNECTIONS)
    console.log(
      `${String(c).padStart(2)} conn: on = ${((results.on[c].rps / session.rps) * 100).toFixed(0)} % of in-process single-row session.run calls/s (${Math.round(session.rps)})`,
    );
  // On a busy machine each server gets whatever CPU share the scheduler leaves it, so req/s ratios drift
  // with the neighbours; CPU per request does not: no-op CPU ÷ ours is the rate ratio of a CPU-bound server.
  for (const c of CONNECTIONS)
    console.log(
      `${String(c).padStart(2)} conn: CPU per request no-op ÷ on = ${((results['no-op'][c].cpuUsPerRequest! / results.on[c].cpuUsPerRequest!) * 100).toFixed(0)} % (pool ${((results['no-op'][c].cpuUsPerRequest! / results.pool[c].cpuUsPerRequest!) * 100).toFixed(0)} %, off ${((results['no-op'][c].cpuUsPerRequest! / results.off[c].cpuUsPerRequest!) * 100).toFixed(0)} %)`,
    );

  if (HEAVY_CONNECTIONS.length > 0) {
    const heavy = heavyModel();
    const heavyPath = join(dir, 'heavy.onnx');
    writeFileSync(heavyPath, heavy);
    const hs = await inProcessRuns(heavy);
    console.log(
      `\nheavy model (64 → 2048 → 2048 → 10): in-process single-row session.run ${Math.round(hs.rps)} calls/s, p50 ${(hs.p50 * 1000).toFixed(0)} µs (auto pools at ≥ ${AUTO_POOL_MIN_RUN_MS * 1000} µs)`,
    );
    const hv = await measureAll(
      [
        ['thread', serve(heavyPath, ['--workers', '0']), '/v2/models/m/infer'],
        ['pool', serve(heavyPath, ['--workers', String(Math.min(availableParallelism(), 4))]), '/v2/models/m/infer'],
        ['auto', serve(heavyPath, []), '/v2/models/m/infer'],
      ],
      HEAVY_CONNECTIONS,
      lua,
      luaGet,
    );
    for (const c of HEAVY_CONNECTIONS)
      console.log(
        `heavy ${String(c).padStart(2)} conn: pool/thread ${roundRatio(hv.pool[c], hv.thread[c]).toFixed(2)}x, auto/thread ${roundRatio(hv.auto[c], hv.thread[c]).toFixed(2)}x`,
      );
  }
}
