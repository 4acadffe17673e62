// Scale-out: the same model.onnx in a Triton Inference Server model repository (config.pbtxt with the
// ONNX Runtime backend and dynamic batching) and a KServe InferenceService manifest pointing at it.
// Triton and KServe speak the same Open Inference Protocol v2 as the local server.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import type { OipDatatype } from './datatypes';
import { ServedVersion, type TensorMetadata } from './model';

const TRITON_TYPE: Record<OipDatatype, string> = {
  BOOL: 'TYPE_BOOL',
  UINT8: 'TYPE_UINT8',
  UINT16: 'TYPE_UINT16',
  UINT32: 'TYPE_UINT32',
  UINT64: 'TYPE_UINT64',
  INT8: 'TYPE_INT8',
  INT16: 'TYPE_INT16',
  INT32: 'TYPE_INT32',
  INT64: 'TYPE_INT64',
  FP16: 'TYPE_FP16',
  FP32: 'TYPE_FP32',
  FP64: 'TYPE_FP64',
  BYTES: 'TYPE_STRING',
};

export interface TritonExportOptions {
  modelPath: string;
  outDir: string;
  name: string;
  version?: string;
  maxBatchSize?: number;
  maxQueueDelayUs?: number;
  runId?: string;
}

/** config.pbtxt text for a model's inputs and outputs. With batching, the first (dynamic) dim is Triton's batch dim. */
export function tritonConfig(
  name: string,
  inputs: TensorMetadata[],
  outputs: TensorMetadata[],
  maxBatchSize: number,
  maxQueueDelayUs: number,
): string {
  const batching = maxBatchSize > 0 && [...inputs, ...outputs].every((t) => t.shape[0] === -1);
  const tensor = (t: TensorMetadata): string => {
    const dims = batching ? t.shape.slice(1) : t.shape;
    // A batch-only tensor ([N]) is [1] per request in Triton, reshaped to [] (Triton's documented idiom).
    const lines = [
      `    name: "${t.name}"`,
      `    data_type: ${TRITON_TYPE[t.datatype]}`,
      `    dims: [ ${(dims.length ? dims : [1]).join(', ')} ]`,
    ];
    if (dims.length === 0) lines.push('    reshape: { shape: [ ] }');
    return `  {\n${lines.join('\n')}\n  }`;
  };
  return [
    `name: "${name}"`,
    'backend: "onnxruntime"',
    `max_batch_size: ${batching ? maxBatchSize : 0}`,
    `input [\n${inputs.map(tensor).join(',\n')}\n]`,
    `output [\n${outputs.map(tensor).join(',\n')}\n]`,
    ...(batching ? [`dynamic_batching {\n  max_queue_delay_microseconds: ${maxQueueDelayUs}\n}`] : []),
    'instance_group [ { count: 1, kind: KIND_CPU } ]',
    '',
  ].join('\n');
}

/** Writes `<out>/<name>/config.pbtxt` and `<out>/<name>/<version>/model.onnx`; returns the files written. */
export async function exportTriton(o: TritonExportOptions): Promise<string[]> {
  const v = await ServedVersion.load(o.name, o.version ?? '1', { path: o.modelPath, runId: o.runId });
  try {
    const modelDir = join(o.outDir, o.name);
    const versionDir = join(modelDir, o.version ?? '1');
    mkdirSync(versionDir, { recursive: true });
    const config = join(modelDir, 'config.pbtxt');
    writeFileSync(config, tritonConfig(o.name, v.inputs, v.outputs, o.maxBatchSize ?? 64, o.maxQueueDelayUs ?? 100));
    const model = join(versionDir, 'model.onnx');
    copyFileSync(o.modelPath, model);
    if (!v.image) return [config, model];
    const readme = join(modelDir, 'README.md');
    writeFileSync(readme, imageModelReadme(o.name, v));
    return [config, model, readme];
  } finally {
    await v.session.release();
  }
}

/**
 * How Triton serves an image model: the repository's README. Triton's ONNX Runtime backend takes the
 * tensor, not image files, so the client preprocesses as the model's metadata says (the same steps
 * ML Loop's server applies to files it receives).
 */
export function imageModelReadme(name: string, v: ServedVersion): string {
  const p = v.image!;
  const classes = v.contract?.classes;
  const output = v.outputs.find((o) => o.name === 'probabilities') ?? v.outputs[0];
  const grey = p.channels === 1;
  return `# ${name}: an image model

\`model.onnx\` takes \`${p.input}\`: FP32 [N, ${p.channels}, ${p.height}, ${p.width}] (NCHW), pixels scaled to [0, 1].
Its ONNX metadata carries the preprocessing it was trained with (key \`image_preprocessing\`)${classes ? ' and its classes (key `classes`)' : ''}:

\`\`\`json
${JSON.stringify(p, null, 2)}
\`\`\`
${
  classes
    ? `
Classes, in the order of the model's \`${output.name}\` output: ${classes.map((c) => `\`${c}\``).join(', ')}.
`
    : ''
}
## Preprocessing

Triton's ONNX Runtime backend runs the model on the tensor; it does not decode image files. Send the
tensor made exactly as in training:

1. decode the file (PNG, JPEG, WebP);
2. turn it upright by its EXIF orientation;
3. resize to ${p.width}×${p.height} (width × height), stretched (no crop, aspect not kept), bilinear;
4. convert to ${grey ? 'one grey channel' : 'RGB (3 channels, alpha dropped)'};
5. lay it out channels first ([${p.channels}, ${p.height}, ${p.width}]) and divide by 255 (float32).

With Python (Pillow, numpy and Triton's client, \`pip install tritonclient[http]\`):

\`\`\`python
import numpy as np
import tritonclient.http as httpclient
from PIL import Image, ImageOps

image = ImageOps.exif_transpose(Image.open("picture.png")).convert("${grey ? 'L' : 'RGB'}")
image = image.resize((${p.width}, ${p.height}), Image.BILINEAR)
x = np.asarray(image, dtype=np.float32)${grey ? '[None, None, :, :]' : '.transpose(2, 0, 1)[None]'} / 255

client = httpclient.InferenceServerClient("localhost:8000")
tensor = httpclient.InferInput("${p.input}", list(x.shape), "FP32")
tensor.set_data_from_numpy(x, binary_data=True)
result = client.infer("${name}", [tensor])
print(result.as_numpy("${output.name}"))
\`\`\`

(Pillow's bilinear resize and ML Loop's libvips one may differ by a grey level on some pixels.)

The same client code works against ML Loop's local server (\`ml-loop serve\`), which also takes the
image files themselves: \`POST /v2/models/${name}/predict\` with the file as the body
(\`Content-Type: image/png\`), or a BYTES input \`${p.input}\` of encoded files to \`/infer\` (REST or gRPC).
To decode on the Triton side instead, put a Python-backend (or DALI) model applying the steps above in
front of this one in an ensemble.
`;
}

export interface KServeExportOptions {
  name: string;
  /** Where the Triton repository is uploaded (s3://, gs://, pvc://…). */
  storageUri: string;
}

/** A KServe InferenceService serving the Triton repository over the v2 protocol. */
export function kserveManifest(o: KServeExportOptions): string {
  const doc = {
    apiVersion: 'serving.kserve.io/v1beta1',
    kind: 'InferenceService',
    metadata: { name: o.name.toLowerCase().replace(/[^a-z0-9-]/g, '-'), annotations: { 'ml-loop/model': o.name } },
    spec: {
      predictor: {
        model: {
          modelFormat: { name: 'onnx' },
          protocolVersion: 'v2',
          runtime: 'kserve-tritonserver',
          storageUri: o.storageUri,
          resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '2', memory: '2Gi' } },
        },
      },
    },
  };
  return yaml.dump(doc, { noRefs: true, lineWidth: 120 });
}
