// Benchmark: the inference server side by side with its limits, single-row requests on loopback from wrk
// at 1, 16 and 64 connections (interleaved, so the shared machine's noise hits every variant alike):
//   no-op    a Node HTTP server answering a fixed ~100-byte JSON (the HTTP layer's ceiling)
//   session  in-process session.run, single rows, no HTTP (the model's ceiling)
//   off      dist/server.js with batching off (--max-batch-size 1: one session.run per request)
//   on       dist/server.js with dynamic batching (default: up to 64 rows, flushed each event-loop turn)
// The model has the shape of the digits softmax run (64 features, 10 classes, label + probabilities).
// Targets (issue 9): batching on at 64 connections ≥ 60 % of no-op, p99 < 5 ms; 1 connection p50 < 1 ms.
//   npm run bench:server [-- --seconds 5 --connections 1,16,64]   (bundles the server first; needs Debian's wrk)
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { OnnxGraphBuilder } from '../../src/core/onnx/builder';
import { appendClassifierOutputsFromLogits } from '../../src/core/train/outputs';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '5' }, connections: { type: 'string', default: '1,16,64' } } });
const SECONDS = Number(values.seconds);
const CONNECTIONS = values.connections!.split(',').map(Number);
const F = 64;
const root = join(__dirname, '../..');

function digitsLikeModel(): Uint8Array {
  const b = new OnnxGraphBuilder('bench');
  b.addInput('features', 'float', ['N', F]);
  const w = b.addInitializer('w', Float32Array.from({ length: F * 10 }, (_, i) => Math.sin(i) / 8), [F, 10]);
  const bias = b.addInitializer('b', Float32Array.from({ length: 10 }, (_, i) => i / 10), [10]);
  const [mm] = b.addNode('MatMul', ['features', w]);
  const [logits] = b.addNode('Add', [mm, bias]);
  appendClassifierOutputsFromLogits(b, logits, Array.from({ length: 10 }, (_, i) => String(i)));
  return b.build({ task: 'classification', features: JSON.stringify(Array.from({ length: F }, (_, i) => `px${i}`)), categories: '[]', classes: JSON.stringify(Array.from({ length: 10 }, (_, i) => String(i))) }, { '': 15, 'ai.onnx.ml': 3 });
}

const row = Array.from({ length: F }, (_, i) => (i * 7) % 17);
const body = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, F], data: row }] });

const NOOP_SERVER = `
const reply = JSON.stringify({ model_name: 'noop', model_version: '1', outputs: [{ name: 'label', datatype: 'BYTES', shape: [1], data: ['3'] }] });
require('http').createServer((req, res) => { req.on('data', () => {}); req.on('end', () => { res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(reply) }); res.end(reply); }); })
  .listen(0, '127.0.0.1', function () { console.log(JSON.stringify({ url: 'http://127.0.0.1:' + this.address().port })); });`;

function start(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
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
  const out = execFileSync('wrk', ['-t1', `-c${connections}`, `-d${SECONDS}s`, '--latency', '-s', lua, url], { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const p50 = toMs(/\s50%\s+(\S+)/.exec(out)?.[1] ?? '');
  const p99 = toMs(/\s99%\s+(\S+)/.exec(out)?.[1] ?? '');
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const sockErr = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return { rps, p50, p99, errors: non2xx + (sockErr ? sockErr.slice(1).reduce((a, b) => a + Number(b), 0) : 0) };
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

(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlloop-bench-server-'));
  const model = digitsLikeModel();
  const modelPath = join(dir, 'model.onnx');
  writeFileSync(modelPath, model);
  const lua = join(dir, 'post.lua');
  writeFileSync(lua, `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = ${JSON.stringify(body)}\n`);
  const luaGet = join(dir, 'noop.lua');
  writeFileSync(luaGet, `wrk.method = "POST"\nwrk.body = ${JSON.stringify(body)}\n`);
  console.log(`bench:server — ${availableParallelism()} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}, ${SECONDS} s per point, single-row FP32 [1, ${F}] requests, wrk -t1`);
  const session = await inProcessRuns(model);
  console.log(`in-process session.run: ${Math.round(session.rps)} calls/s, p50 ${(session.p50 * 1000).toFixed(0)} µs, p99 ${(session.p99 * 1000).toFixed(0)} µs`);
  // Its own bundle (npm run bench:server makes it): dist/ may be rebuilt by someone else mid-run.
  const serverJs = join(root, '.cache/bench/server.js');
  const variants: Array<[string, string[], string]> = [
    ['no-op', ['-e', NOOP_SERVER], '/'],
    ['off', [serverJs, '--model', modelPath, '--name', 'm', '--port', '0', '--json', '--max-batch-size', '1'], '/v2/models/m/infer'],
    ['on', [serverJs, '--model', modelPath, '--name', 'm', '--port', '0', '--json'], '/v2/models/m/infer'],
  ];
  const results: Record<string, Record<number, WrkResult>> = {};
  for (const c of CONNECTIONS) {
    for (const [name, args, path] of variants) {
      const s = await start(args);
      // A short warm-up so JIT and the first allocations are out of the measurement.
      execFileSync('wrk', ['-t1', '-c4', '-d1s', '-s', lua, s.url + path], { encoding: 'utf8' });
      const cpu0 = cpuMs(s.child.pid!);
      const r = wrk(s.url + path, c, name === 'no-op' ? luaGet : lua);
      r.cpuUsPerRequest = ((cpuMs(s.child.pid!) - cpu0) * 1000) / (r.rps * SECONDS);
      await stop(s.child);
      (results[name] ??= {})[c] = r;
      console.log(`  ${String(c).padStart(2)} conn  ${name.padEnd(6)} ${String(Math.round(r.rps)).padStart(6)} req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  server CPU ${r.cpuUsPerRequest!.toFixed(0)} µs/req${r.errors ? `  ${r.errors} errors` : ''}`);
    }
  }
  console.log('\nconn   no-op req/s   off req/s (p99)      on req/s (p99)       on/no-op  on/off');
  for (const c of CONNECTIONS) {
    const n = results['no-op'][c];
    const off = results.off[c];
    const on = results.on[c];
    console.log(
      `${String(c).padStart(4)}   ${String(Math.round(n.rps)).padStart(11)}   ${`${Math.round(off.rps)} (${off.p99.toFixed(2)} ms)`.padEnd(19)}  ${`${Math.round(on.rps)} (${on.p99.toFixed(2)} ms)`.padEnd(19)}  ${((on.rps / n.rps) * 100).toFixed(0).padStart(6)} %  ${(on.rps / off.rps).toFixed(2)}x`,
    );
  }
  const c64 = results.on[64];
  const c1 = results.on[1];
  if (c64 && results['no-op'][64]) console.log(`\ntarget 64 conn: on ≥ 60 % of no-op → ${((c64.rps / results['no-op'][64].rps) * 100).toFixed(0)} %; p99 < 5 ms → ${c64.p99.toFixed(2)} ms`);
  if (c1) console.log(`target 1 conn: p50 < 1 ms → ${c1.p50.toFixed(2)} ms`);
  rmSync(dir, { recursive: true, force: true });
})();
