// bench:server, the wire part (issue 19): rows per second for 512-row requests of a tabular model over
// JSON, Triton's binary data extension (REST) and gRPC (raw_input_contents), against in-process ONNX
// Runtime running the same 512-row batches in the same run; then images per second for 28×28 PNG
// bodies to /predict against in-process decode (the same preprocessing module) + run.
// Goal: binary and gRPC ≥ 50 % of in-process. The clients keep CONCURRENCY requests in flight, send
// bodies encoded once, and read the responses' bytes without decoding them (the client shares the
// machine's two cores with the server: the less it does, the more the figures say about the server).
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect } from 'node:http2';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protobuf from 'protobufjs';
import * as ort from 'onnxruntime-node';
import { imageMetadata } from '../../src/core/data/images/modelMetadata';
import { scaleToUnit } from '../../src/core/data/images/pixels';
import { preprocessImage } from '../../src/core/data/images/preprocess';
import { OnnxGraphBuilder } from '../../src/core/onnx/builder';
import { protoPath } from '../../src/core/serve/grpc';
import { SERVER_NODE_OPTIONS } from '../../src/core/serve/nodeOptions';

const ROWS = 512;
/** A Node HTTP server that reads each request body and answers argv[1] bytes: the HTTP layer's ceiling. */
const ECHO_SERVER = `
const reply = Buffer.alloc(Number(process.argv[1]), 1);
require('http').createServer((req, res) => { req.on('data', () => {}); req.on('end', () => res.end(reply)); })
  .listen(0, '127.0.0.1', function () { console.log('http://127.0.0.1:' + this.address().port); });`;
const CONCURRENCY = 4;

export interface TabularModel {
  name: string;
  bytes: Uint8Array;
}

export interface WireOptions {
  /** The bundled server (its .proto beside it). */
  serverJs: string;
  dir: string;
  seconds: number;
  /** The tabular models (features FP32 [N, F]) and F. */
  models: TabularModel[];
  features: number;
  /** Encoded 28×28 PNG files (the fashion sample's). */
  pngs: Buffer[];
  /** Rounds of the tabular variants (medians reported). */
  rounds: number;
}

function startServer(serverJs: string, modelPath: string): Promise<{ child: ChildProcess; url: string; grpc: string }> {
  const child = spawn(
    process.execPath,
    [
      ...SERVER_NODE_OPTIONS,
      serverJs,
      '--model',
      modelPath,
      '--name',
      'm',
      '--port',
      '0',
      '--grpc-port',
      '0',
      '--json',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve({ child, ...(JSON.parse(line) as { url: string; grpc: string }) });
    });
    child.once('exit', (c) => reject(new Error(`the server exited ${c}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** utime + stime of a process, in ms (Linux /proc; clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Calls per second of wall time, and per second of the CPU time `cpu()` counts (ms) while they ran. */
interface Rate {
  wall: number;
  cpu: number;
}

/** Runs `once` with CONCURRENCY in flight for `seconds` (after a 1 s warm-up). */
async function rate(seconds: number, once: (k: number) => Promise<void>, cpu: () => number): Promise<Rate> {
  const loop = async (until: number, counter: { n: number }, k: number) => {
    while (performance.now() < until) {
      await once(k);
      counter.n++;
    }
  };
  const warm = { n: 0 };
  const w = performance.now() + 1000;
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, k) => loop(w, warm, k)));
  const done = { n: 0 };
  const t0 = performance.now();
  const cpu0 = cpu();
  const end = t0 + seconds * 1000;
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, k) => loop(end, done, k)));
  return { wall: done.n / ((performance.now() - t0) / 1000), cpu: done.n / ((cpu() - cpu0) / 1000) };
}

/** This process's CPU time in ms (all its threads: ONNX Runtime's and libuv's included). */
const ownCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

function post(agent: Agent, url: string, path: string, body: Buffer, headers: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      url + path,
      { method: 'POST', agent, headers: { ...headers, 'Content-Length': body.length } },
      (res) => {
        let bytes = 0;
        res.on('data', (d: Buffer) => (bytes += d.length));
        res.on('end', () =>
          res.statusCode === 200 && bytes > 0 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A small CNN over 28×28 grey images (conv 3×3 × 8, ReLU, max-pool 2, dense 10) with ML Loop's image metadata. */
function imageModel(): Uint8Array {
  const b = new OnnxGraphBuilder('bench_cnn');
  b.addInput('image', 'float', ['N', 1, 28, 28]);
  const k = b.addInitializer(
    'k',
    Float32Array.from({ length: 8 * 9 }, (_, i) => Math.sin(i) / 3),
    [8, 1, 3, 3],
  );
  const [conv] = b.addNode('Conv', ['image', k], 1, { pads: [1, 1, 1, 1] });
  const [relu] = b.addNode('Relu', [conv]);
  const [pool] = b.addNode('MaxPool', [relu], 1, { kernel_shape: [2, 2], strides: [2, 2] });
  const [flat] = b.addNode('Flatten', [pool], 1, { axis: 1 });
  const w = b.addInitializer(
    'w',
    Float32Array.from({ length: 8 * 14 * 14 * 10 }, (_, i) => Math.cos(i) / 40),
    [8 * 14 * 14, 10],
  );
  b.addNode('MatMul', [flat, w], ['scores']);
  b.addOutput('scores', 'float', ['N', 10]);
  return b.build({
    task: 'classification',
    classes: JSON.stringify(Array.from({ length: 10 }, (_, i) => `c${i}`)),
    ...imageMetadata({ height: 28, width: 28, channels: 1 }),
  });
}

function scale(r: Rate, k: number): Rate {
  return { wall: r.wall * k, cpu: r.cpu * k };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * 512-row requests of one tabular model over JSON, binary REST and gRPC, against in-process runs.
 * The variants run one after another in each of `rounds` rounds, each ratio taken within its round
 * (the neighbours' load changes from minute to minute on a shared machine), and the medians reported.
 */
async function benchTabularWire(o: WireOptions, model: TabularModel): Promise<void> {
  const F = o.features;
  const modelPath = join(o.dir, 'wire.onnx');
  writeFileSync(modelPath, model.bytes);
  const x = Float32Array.from({ length: ROWS * F }, (_, i) => ((i * 7) % 17) / 4);
  console.log(
    `\nwire, ${model.name}: ${ROWS}-row requests of FP32 [${ROWS}, ${F}], ${CONCURRENCY} in flight, ${o.seconds} s per point, ${o.rounds} round(s) (rows/s)`,
  );

  // In-process: the same batches, CONCURRENCY runs in flight on one session (as the server's thread).
  const session = await ort.InferenceSession.create(model.bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const feeds = { features: new ort.Tensor('float32', x, [ROWS, F]) };

  const s = await startServer(o.serverJs, modelPath);
  // The transport's own ceiling: a Node HTTP server that reads the binary request and answers as many bytes as ours.
  const echo = spawn(process.execPath, ['-e', ECHO_SERVER, String(ROWS * 10 * 4 + ROWS * 5 + 400)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const echoUrl = await new Promise<string>((resolve) => echo.stdout!.once('data', (d) => resolve(String(d).trim())));
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const json = Buffer.from(
    JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [ROWS, F], data: Array.from(x) }] }),
  );
  const header = Buffer.from(
    JSON.stringify({
      inputs: [
        { name: 'features', datatype: 'FP32', shape: [ROWS, F], parameters: { binary_data_size: x.byteLength } },
      ],
      parameters: { binary_data_output: true },
    }),
  );
  const binary = Buffer.concat([header, Buffer.from(x.buffer)]);
  const root = protobuf.loadSync(protoPath());
  const grpcBody = Buffer.from(
    root
      .lookupType('inference.ModelInferRequest')
      .encode({
        modelName: 'm',
        inputs: [{ name: 'features', datatype: 'FP32', shape: [ROWS, F] }],
        rawInputContents: [Buffer.from(x.buffer)],
      })
      .finish(),
  );
  const client = new grpc.Client(s.grpc, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': -1,
  });
  const identity = (b: Buffer) => b;
  const grpcCall = () =>
    new Promise<void>((resolve, reject) =>
      client.makeUnaryRequest('/inference.GRPCInferenceService/ModelInfer', identity, identity, grpcBody, (e) =>
        e ? reject(e) : resolve(),
      ),
    );
  // A lighter load generator as well (wrk's role for HTTP/1): unary gRPC calls framed by hand on one
  // node:http2 session. grpc-js's client costs about as much CPU per call as the server on these two
  // shared cores; the figures of both clients are printed.
  const h2 = connect(`http://${s.grpc}`);
  const h2Body = Buffer.alloc(5 + grpcBody.length);
  h2Body.writeUInt32BE(grpcBody.length, 1);
  grpcBody.copy(h2Body, 5);
  const h2Call = () =>
    new Promise<void>((resolve, reject) => {
      const stream = h2.request({
        ':method': 'POST',
        ':path': '/inference.GRPCInferenceService/ModelInfer',
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      let bytes = 0;
      stream.on('data', (d: Buffer) => (bytes += d.length));
      stream.on('trailers', (t) =>
        t['grpc-status'] === '0' && bytes > 5
          ? resolve()
          : reject(new Error(`gRPC status ${String(t['grpc-status'])}: ${String(t['grpc-message'])}`)),
      );
      stream.on('error', reject);
      stream.end(h2Body);
    });
  const serverCpu = () => cpuMs(s.child.pid!);
  const variants: Array<[string, () => Promise<void>, () => number]> = [
    ['in-process', async () => void (await session.run(feeds)), ownCpu],
    ['JSON', () => post(agent, s.url, '/v2/models/m/infer', json, { 'Content-Type': 'application/json' }), serverCpu],
    [
      'binary',
      () =>
        post(agent, s.url, '/v2/models/m/infer', binary, {
          'Content-Type': 'application/octet-stream',
          'Inference-Header-Content-Length': String(header.length),
        }),
      serverCpu,
    ],
    ['gRPC', h2Call, serverCpu],
    ['gRPC (grpc-js client)', grpcCall, serverCpu],
    ['no-op HTTP', () => post(agent, echoUrl, '/', binary, {}), () => cpuMs(echo.pid!)],
  ];
  /** Per variant, its rate in each round. */
  const rates = new Map<string, Rate[]>(variants.map(([name]) => [name, []]));
  try {
    for (let round = 0; round < o.rounds; round++)
      for (const [name, once, cpu] of variants) rates.get(name)!.push(scale(await rate(o.seconds, once, cpu), ROWS));
  } finally {
    h2.close();
    client.close();
    agent.destroy();
    await session.release();
    await stop(s.child);
    await stop(echo);
  }
  // Wall-clock rates depend on how the scheduler shares the cores among client, server and the
  // neighbours; rows per CPU second of the server (in-process: of this process) are what a CPU-bound
  // server would reach. Each ratio is the median over the rounds of the ratio within a round.
  const inProcess = rates.get('in-process')!;
  const ratio = (rs: Rate[], k: keyof Rate) => median(rs.map((r, i) => r[k] / inProcess[i][k])) * 100;
  for (const [name, rs] of rates) {
    const wall = median(rs.map((r) => r.wall));
    const cpu = median(rs.map((r) => r.cpu));
    const rounds =
      o.rounds > 1
        ? `   rounds: ${rs.map((r, i) => ((r.wall / inProcess[i].wall) * 100).toFixed(0)).join(', ')} %`
        : '';
    console.log(
      `  ${name.padEnd(21)} ${String(Math.round(wall)).padStart(9)} rows/s (${ratio(rs, 'wall').toFixed(0).padStart(3)} %)   ${String(Math.round(cpu)).padStart(9)} rows per CPU s (${ratio(rs, 'cpu').toFixed(0).padStart(3)} %, ${((ROWS / cpu) * 1000).toFixed(2)} ms a request)${rounds}`,
    );
  }
  console.log('  goal: binary and gRPC ≥ 50 % of in-process');
}

export async function benchWire(o: WireOptions): Promise<void> {
  // A linear model's 512-row run costs less than one HTTP round trip, so it shows the wire's fixed cost
  // per request; ML Loop's GBDT (100 trees) is what a tabular deployment usually serves.
  for (const model of o.models) await benchTabularWire(o, model);
  // Images: 28×28 PNG bodies to /predict, against in-process decode + preprocess + run, one image a call.
  const cnn = imageModel();
  const cnnPath = join(o.dir, 'cnn.onnx');
  writeFileSync(cnnPath, cnn);
  const settings = { height: 28, width: 28, channels: 1 } as const;
  const cnnSession = await ort.InferenceSession.create(cnn, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  let next = 0;
  const local = await rate(
    o.seconds,
    async () => {
      const png = o.pngs[next++ % o.pngs.length];
      const { pixels } = await preprocessImage(png, settings);
      await cnnSession.run({ image: new ort.Tensor('float32', scaleToUnit(pixels), [1, 1, 28, 28]) });
    },
    ownCpu,
  );
  await cnnSession.release();
  const si = await startServer(o.serverJs, cnnPath);
  const imageAgent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  let served: Rate;
  try {
    served = await rate(
      o.seconds,
      () =>
        post(imageAgent, si.url, '/v2/models/m/predict', o.pngs[next++ % o.pngs.length], {
          'Content-Type': 'image/png',
        }),
      () => cpuMs(si.child.pid!),
    );
  } finally {
    imageAgent.destroy();
    await stop(si.child);
  }
  console.log(
    `\nimages: 28×28 PNG bodies to /predict (a conv 3×3 × 8 + dense CNN), ${CONCURRENCY} in flight\n  in-process decode + run ${Math.round(local.wall)} images/s, ${Math.round(local.cpu)} per CPU s\n  server /predict          ${Math.round(served.wall)} images/s (${((served.wall / local.wall) * 100).toFixed(0)} %), ${Math.round(served.cpu)} per CPU s (${((served.cpu / local.cpu) * 100).toFixed(0)} %)`,
  );
}

/** Up to `n` PNG files of the fashion sample (read only). */
export function fashionPngs(root: string, n: number): Buffer[] {
  const dir = join(root, 'examples/fashion/images');
  const out: Buffer[] = [];
  for (const cls of readdirSync(dir))
    for (const f of readdirSync(join(dir, cls)).slice(0, Math.ceil(n / 10))) out.push(readFileSync(join(dir, cls, f)));
  return out.slice(0, n);
}
