// The gRPC service of the built server process (dist/server.js --grpc-port, the .proto beside the bundle)
// called by a Python client generated from the same grpc_predict_v2.proto with Debian's python3-grpcio
// and python3-grpc-tools (under /usr/bin/python3): an image model answers the raw FP32 tensor and the
// BYTES image files as in-process ONNX Runtime does on the same preprocessed tensor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { preprocessImage } from '../../../src/core/data/images/preprocess';
import { scaleToUnit } from '../../../src/core/data/images/pixels';
import { imageModel, tempDir, writeModel } from './helpers';

const PYTHON = process.env.MLLOOP_TEST_PYTHON ?? '/usr/bin/python3';
const SERVER = join(__dirname, '../../../dist/server.js');
const PROTO_DIR = join(__dirname, '../../../src/core/serve');
const hasGrpc = spawnSync(PYTHON, ['-c', 'import grpc, grpc_tools.protoc'], { stdio: 'ignore' }).status === 0;

const CLIENT = `
import json, struct, sys
sys.path.insert(0, sys.argv[1])
import grpc
import grpc_predict_v2_pb2 as pb
import grpc_predict_v2_pb2_grpc as pb_grpc

address, tensor_file, image_files = sys.argv[2], sys.argv[3], sys.argv[4:]
stub = pb_grpc.GRPCInferenceServiceStub(grpc.insecure_channel(address))
out = {"live": stub.ServerLive(pb.ServerLiveRequest()).live}
meta = stub.ModelMetadata(pb.ModelMetadataRequest(name="img"))
out["inputs"] = [[t.name, t.datatype, list(t.shape)] for t in meta.inputs]

def scores(response):
    raw = response.raw_output_contents[0]
    return list(struct.unpack("<%df" % (len(raw) // 4), raw))

tensor = open(tensor_file, "rb").read()
request = pb.ModelInferRequest(model_name="img", id="py-1")
t = request.inputs.add(name="image", datatype="FP32", shape=[len(image_files), 1, 8, 8])
request.raw_input_contents.append(tensor)
response = stub.ModelInfer(request)
out["id"] = response.id
out["fp32"] = scores(response)

request = pb.ModelInferRequest(model_name="img")
t = request.inputs.add(name="image", datatype="BYTES", shape=[len(image_files)])
t.contents.bytes_contents.extend(open(f, "rb").read() for f in image_files)
out["bytes"] = scores(stub.ModelInfer(request))

try:
    stub.ModelInfer(pb.ModelInferRequest(model_name="missing"))
except grpc.RpcError as e:
    out["missing"] = e.code().name
print(json.dumps(out))
`;

function run(cmd: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}: ${err}`))));
  });
}

test(
  'a Python client generated from grpc_predict_v2.proto gets in-process ORT’s scores from the server process',
  {
    skip: !hasGrpc
      ? `${PYTHON} has no grpc / grpc_tools (Debian: python3-grpcio python3-grpc-tools)`
      : !existsSync(SERVER)
        ? 'dist/server.js is not built (npm run build)'
        : false,
    timeout: 120_000,
  },
  async () => {
    const dir = tempDir();
    const modelPath = writeModel(dir, 'image.onnx', imageModel());
    // The client's modules, generated from the .proto the server ships.
    await run(
      PYTHON,
      [
        '-m',
        'grpc_tools.protoc',
        `-I${PROTO_DIR}`,
        `--python_out=${dir}`,
        `--grpc_python_out=${dir}`,
        'grpc_predict_v2.proto',
      ],
      PROTO_DIR,
    );
    const files: string[] = [];
    const pixels = new Uint8Array(3 * 64);
    for (const [k, level] of [15, 120, 250].entries()) {
      const png = await sharp({
        create: { width: 30, height: 20, channels: 3, background: { r: level, g: level, b: 0 } },
      })
        .png()
        .toBuffer();
      files.push(writeModel(dir, `${k}.png`, png));
      pixels.set((await preprocessImage(png, { height: 8, width: 8, channels: 1 })).pixels, k * 64);
    }
    const tensor = scaleToUnit(pixels);
    const tensorFile = writeModel(dir, 'tensor.f32', new Uint8Array(tensor.buffer));
    const session = await ort.InferenceSession.create(modelPath);
    const expected = Array.from(
      (await session.run({ image: new ort.Tensor('float32', tensor, [3, 1, 8, 8]) })).scores.data as Float32Array,
    );
    await session.release();

    const server = spawn(
      process.execPath,
      [SERVER, '--model', modelPath, '--name', 'img', '--port', '0', '--grpc-port', '0', '--json'],
      {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      const grpcAddress = await new Promise<string>((resolve, reject) => {
        let out = '';
        server.stdout.on('data', (d) => {
          out += d;
          const line = out.split('\n').find((l) => l.startsWith('{'));
          if (line) resolve(JSON.parse(line).grpc);
        });
        server.once('exit', (code) => reject(new Error(`server exited ${code}`)));
      });
      assert.match(grpcAddress, /^127\.0\.0\.1:\d+$/);
      writeFileSync(join(dir, 'client.py'), CLIENT);
      const result = JSON.parse(
        await run(PYTHON, [join(dir, 'client.py'), dir, grpcAddress, tensorFile, ...files], dir),
      );
      assert.equal(result.live, true);
      assert.deepEqual(result.inputs, [['image', 'FP32', [-1, 1, 8, 8]]]);
      assert.equal(result.id, 'py-1');
      assert.deepEqual(result.fp32, expected);
      assert.deepEqual(result.bytes, expected);
      assert.equal(result.missing, 'NOT_FOUND');
    } finally {
      server.kill('SIGTERM');
    }
  },
);
