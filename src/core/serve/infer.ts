// OIP v2 inference request → ORT feeds (checked against the model's inputs), ORT outputs → OIP
// response; and the `/predict` convenience (records by feature name → labels and probabilities).
import * as ort from 'onnxruntime-node';
import {
  decodeElements,
  elementsToRaw,
  encodeElements,
  flattenData,
  isOipDatatype,
  jsonKind,
  OIP_TO_ORT,
  rawToElements,
  splitRawBytes,
} from './datatypes';
import type { Outputs } from './engine';
import { BadRequest, HttpError } from './errors';
import { toProbabilities } from '../scripts/scriptModel';
import type { ServedVersion } from './model';

export interface InferRequest {
  id?: string;
  feeds: Record<string, ort.Tensor>;
  /** Rows along the first dimension (1 for inputs without a batch dimension). */
  rows: number;
  /** Output names to return (all when absent). */
  outputs?: string[];
  /** `parameters.timeout` (µs, as Triton's): the request's own deadline, shorter than the server's. */
  timeoutUs?: number;
  /** Outputs to return as raw bytes (the binary data extension): `binary_data` per output, or `binary_data_output` for all. */
  binaryOutputs?: Set<string>;
  /** Encoded image files sent as a BYTES tensor for the image input, still to be decoded (./images.ts); not in `feeds`. */
  imageFiles?: Buffer[];
}

/**
 * The raw bytes of the inputs that have them: the binary data extension's bytes after the JSON header
 * (`binary_data_size` per input, in input order), or gRPC's raw_input_contents.
 */
export interface RawInputs {
  /** The raw bytes of input `name` (the `index`-th input of the request), `size` when the request declares it. */
  take(name: string, index: number, size: number | undefined): Uint8Array;
}

/** Raw input bytes laid out one after another (Triton's binary data extension). */
export function sequentialRawInputs(bytes: Uint8Array): RawInputs {
  let at = 0;
  return {
    take(name, _index, size) {
      if (size === undefined)
        throw new BadRequest(`input "${name}": parameters.binary_data_size is needed for binary data`);
      if (at + size > bytes.length)
        throw new BadRequest(
          `input "${name}": binary_data_size ${size} but only ${bytes.length - at} bytes follow the JSON header`,
        );
      const part = bytes.subarray(at, at + size);
      at += size;
      return part;
    },
  };
}

/** Decodes one base64 image of a JSON request; `where` names it in the error. */
export function base64File(value: unknown, where: string): Buffer {
  const text = value && typeof value === 'object' && !Array.isArray(value) ? (value as { b64?: unknown }).b64 : value;
  if (typeof text !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(text) || text.length === 0)
    throw new BadRequest(`${where} must be a base64 string (or {"b64": "<base64>"}) of an image file`);
  return Buffer.from(text, 'base64');
}

export function parseInferRequest(body: unknown, version: ServedVersion, raw?: RawInputs): InferRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new BadRequest(`the request body must be a JSON object with "inputs", got ${jsonKind(body)}`);
  const req = body as Record<string, unknown>;
  if (req.id !== undefined && typeof req.id !== 'string')
    throw new BadRequest(`"id" must be a string, got ${jsonKind(req.id)}`);
  if (!Array.isArray(req.inputs))
    throw new BadRequest(
      `"inputs" must be an array of tensors, got ${jsonKind(req.inputs)}; expected inputs: ${expectedInputs(version)}`,
    );
  const feeds: Record<string, ort.Tensor> = {};
  let imageFiles: Buffer[] | undefined;
  let rows = -1;
  for (const [i, input] of req.inputs.entries()) {
    if (input === null || typeof input !== 'object' || Array.isArray(input))
      throw new BadRequest(`inputs[${i}] must be an object with name, shape, datatype and data`);
    const t = input as Record<string, unknown>;
    if (typeof t.name !== 'string') throw new BadRequest(`inputs[${i}].name must be a string`);
    const meta = version.inputs.find((m) => m.name === t.name);
    if (!meta) throw new BadRequest(`unknown input "${t.name}"; the model takes: ${expectedInputs(version)}`);
    if (feeds[t.name] || (imageFiles && t.name === version.image?.input))
      throw new BadRequest(`input "${t.name}" is given twice`);
    if (!isOipDatatype(t.datatype))
      throw new BadRequest(
        `input "${t.name}": datatype must be one of ${Object.keys(OIP_TO_ORT).join(', ')}, got ${JSON.stringify(t.datatype)}`,
      );
    const rawSize = binaryDataSize(t);
    if (t.datatype === 'BYTES' && version.image?.input === t.name) {
      // Encoded image files for the image input: decoded and preprocessed by the server.
      imageFiles = imageBytesInput(t, i, raw, rawSize);
      const r = imageFiles.length;
      if (rows >= 0 && r !== rows)
        throw new BadRequest(`inputs disagree on the batch size: "${t.name}" has ${r} images, another input ${rows}`);
      rows = r;
      continue;
    }
    if (t.datatype !== meta.datatype)
      throw new BadRequest(`input "${t.name}": datatype ${t.datatype} but the model expects ${meta.datatype}`);
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0))
      throw new BadRequest(
        `input "${t.name}": shape must be an array of non-negative integers, got ${JSON.stringify(t.shape)}`,
      );
    const shape = t.shape as number[];
    if (shape.length !== meta.shape.length || shape.some((d, k) => meta.shape[k] >= 0 && meta.shape[k] !== d))
      throw new BadRequest(
        `input "${t.name}": shape [${shape.join(', ')}] does not fit the model's [${meta.shape.join(', ')}] (-1: any size)`,
      );
    const data =
      rawSize !== undefined || (raw && t.data === undefined)
        ? rawToElements(t.name, meta.datatype, shape, rawInput(raw, t.name, i, rawSize))
        : encodeElements(t.name, meta.datatype, flattenData(t.name, t.data, shape));
    feeds[t.name] = new ort.Tensor(OIP_TO_ORT[meta.datatype] as 'float32', data as Float32Array, shape);
    const r = shape.length > 0 ? shape[0] : 1;
    if (rows >= 0 && meta.shape[0] === -1 && r !== rows)
      throw new BadRequest(`inputs disagree on the batch size: "${t.name}" has ${r} rows, another input ${rows}`);
    rows = r;
  }
  const missing = version.inputs
    .filter((m) => !feeds[m.name] && !(imageFiles && m.name === version.image?.input))
    .map((m) => m.name);
  if (missing.length)
    throw new BadRequest(
      `missing input ${missing.map((m) => `"${m}"`).join(', ')}; the model takes: ${expectedInputs(version)}`,
    );
  let outputs: string[] | undefined;
  let binaryOutputs: Set<string> | undefined;
  if (req.outputs !== undefined) {
    if (!Array.isArray(req.outputs)) throw new BadRequest(`"outputs" must be an array of {"name": …}`);
    outputs = req.outputs.map((o, i) => {
      const name = o && typeof o === 'object' ? (o as Record<string, unknown>).name : undefined;
      if (typeof name !== 'string') throw new BadRequest(`outputs[${i}].name must be a string`);
      if (!version.outputs.some((m) => m.name === name))
        throw new BadRequest(
          `unknown output "${name}"; the model has: ${version.outputs.map((m) => m.name).join(', ')}`,
        );
      const p = (o as Record<string, unknown>).parameters;
      if (p && typeof p === 'object' && (p as Record<string, unknown>).binary_data === true)
        (binaryOutputs ??= new Set()).add(name);
      return name;
    });
  }
  const timeoutUs = timeoutParameter(req.parameters);
  if ((req.parameters as Record<string, unknown> | undefined)?.binary_data_output === true)
    binaryOutputs = new Set(outputs ?? version.outputs.map((m) => m.name));
  return {
    id: req.id as string | undefined,
    feeds,
    rows: Math.max(rows, 0),
    outputs,
    timeoutUs,
    ...(binaryOutputs ? { binaryOutputs } : {}),
    ...(imageFiles ? { imageFiles } : {}),
  };
}

/** `parameters.binary_data_size` of an input, when given. */
function binaryDataSize(t: Record<string, unknown>): number | undefined {
  const p = t.parameters;
  if (!p || typeof p !== 'object') return undefined;
  const size = (p as Record<string, unknown>).binary_data_size;
  if (size === undefined) return undefined;
  if (!Number.isSafeInteger(size) || (size as number) < 0)
    throw new BadRequest(`input "${String(t.name)}": parameters.binary_data_size must be a non-negative integer`);
  return size as number;
}

function rawInput(raw: RawInputs | undefined, name: string, index: number, size: number | undefined): Uint8Array {
  if (!raw)
    throw new BadRequest(
      `input "${name}" has binary_data_size but the request has no binary data (send the Inference-Header-Content-Length header)`,
    );
  return raw.take(name, index, size);
}

/** The files of a BYTES tensor for the image input: shape [N] or [N, 1]; base64 strings in JSON, raw bytes in binary. */
function imageBytesInput(
  t: Record<string, unknown>,
  index: number,
  raw: RawInputs | undefined,
  size?: number,
): Buffer[] {
  const shape = t.shape;
  if (
    !Array.isArray(shape) ||
    !(shape.length === 1 || (shape.length === 2 && shape[1] === 1)) ||
    !Number.isSafeInteger(shape[0]) ||
    shape[0] < 1
  )
    throw new BadRequest(
      `input "${String(t.name)}" (BYTES): encoded images take shape [N] or [N, 1] (one file per image), got ${JSON.stringify(shape)}`,
    );
  const n = shape[0] as number;
  if (size !== undefined || (raw && t.data === undefined))
    return splitRawBytes(String(t.name), rawInput(raw, String(t.name), index, size), n);
  const values = flattenData(String(t.name), t.data, shape as number[]);
  return values.map((v, k) => base64File(v, `input "${String(t.name)}" element ${k}`));
}

/** `parameters.timeout`: a positive number of microseconds (Triton's request parameter), when given. */
export function timeoutParameter(parameters: unknown): number | undefined {
  if (parameters === undefined || parameters === null) return undefined;
  if (typeof parameters !== 'object' || Array.isArray(parameters))
    throw new BadRequest(`"parameters" must be an object, got ${jsonKind(parameters)}`);
  const t = (parameters as Record<string, unknown>).timeout;
  if (t === undefined) return undefined;
  if (typeof t !== 'number' || !Number.isFinite(t) || t <= 0)
    throw new BadRequest(`parameters.timeout must be a positive number of microseconds, got ${JSON.stringify(t)}`);
  return t;
}

function expectedInputs(v: ServedVersion): string {
  return v.inputs.map((m) => `${m.name} (${m.datatype} [${m.shape.join(', ')}])`).join(', ');
}

export interface OipOutput {
  name: string;
  datatype: string;
  shape: number[];
  data: Array<number | string | boolean>;
}

export function inferResponse(
  version: ServedVersion,
  outputs: Outputs,
  id: string | undefined,
  selected?: string[],
): Record<string, unknown> {
  const names = selected ?? version.outputs.map((m) => m.name);
  const res: Record<string, unknown> = { model_name: version.model, model_version: version.version };
  if (id !== undefined) res.id = id;
  res.outputs = names.map((name): OipOutput => {
    const t = outputs[name];
    const meta = version.outputs.find((m) => m.name === name)!;
    return { name, datatype: meta.datatype, shape: [...t.dims], data: decodeElements(t) };
  });
  return res;
}

/**
 * The response of /infer with the outputs in `binary` as raw bytes after the JSON (the binary data
 * extension): `json` carries `parameters.binary_data_size` for them, `chunks` their bytes in output order.
 */
export function binaryInferResponse(
  version: ServedVersion,
  outputs: Outputs,
  id: string | undefined,
  selected: string[] | undefined,
  binary: Set<string>,
): { json: Record<string, unknown>; chunks: Buffer[] } {
  const names = selected ?? version.outputs.map((m) => m.name);
  const json: Record<string, unknown> = { model_name: version.model, model_version: version.version };
  if (id !== undefined) json.id = id;
  const chunks: Buffer[] = [];
  json.outputs = names.map((name) => {
    const t = outputs[name];
    const meta = version.outputs.find((m) => m.name === name)!;
    const o = { name, datatype: meta.datatype, shape: [...t.dims] };
    if (!binary.has(name)) return { ...o, data: decodeElements(t) };
    const bytes = elementsToRaw(t);
    chunks.push(bytes);
    return { ...o, parameters: { binary_data_size: bytes.length } };
  });
  return { json, chunks };
}

/** `{"instances": [{feature: value, …}]}` → the model's `features` [N, F] and `categories` [N, K]. */
export function parsePredictRequest(
  body: unknown,
  version: ServedVersion,
): { feeds: Record<string, ort.Tensor>; rows: number; timeoutUs?: number } {
  const c = version.contract;
  if (!c)
    throw new BadRequest(
      `model "${version.model}" has no ML Loop feature metadata; use /infer with its inputs: ${expectedInputs(version)}`,
    );
  const instances = body && typeof body === 'object' ? (body as Record<string, unknown>).instances : undefined;
  if (!Array.isArray(instances) || instances.length === 0)
    throw new BadRequest(
      `the body must be {"instances": [{${c.features
        .slice(0, 3)
        .map((f) => `"${f}": …`)
        .join(', ')}${c.features.length > 3 ? ', …' : ''}}]}`,
    );
  const F = c.features.length;
  const K = c.categories.length;
  const known = new Set([...c.features, ...c.categories]);
  const numeric = new Float32Array(instances.length * F);
  const categories = new Array<string>(instances.length * K);
  for (const [i, rec] of instances.entries()) {
    if (rec === null || typeof rec !== 'object' || Array.isArray(rec))
      throw new BadRequest(`instances[${i}] must be an object of feature values`);
    const r = rec as Record<string, unknown>;
    for (const k of Object.keys(r))
      if (!known.has(k))
        throw new BadRequest(`instances[${i}]: unknown feature "${k}"; the model takes ${[...known].join(', ')}`);
    for (const [j, f] of c.features.entries()) {
      const v = r[f];
      if (v === undefined)
        throw new BadRequest(`instances[${i}]: feature "${f}" is missing (null marks a missing value)`);
      if (v !== null && (typeof v !== 'number' || !Number.isFinite(v)))
        throw new BadRequest(`instances[${i}]: feature "${f}" must be a finite number or null, got ${jsonKind(v)}`);
      numeric[i * F + j] = v === null ? NaN : v;
    }
    for (const [j, f] of c.categories.entries()) {
      const v = r[f];
      if (v === undefined)
        throw new BadRequest(`instances[${i}]: feature "${f}" is missing (null marks a missing value)`);
      if (v !== null && typeof v !== 'string')
        throw new BadRequest(`instances[${i}]: feature "${f}" must be a string or null, got ${jsonKind(v)}`);
      categories[i * K + j] = v ?? '';
    }
  }
  const feeds: Record<string, ort.Tensor> = {};
  const n = instances.length;
  for (const input of version.inputs) {
    if (input.name === 'features') feeds.features = new ort.Tensor('float32', numeric, [n, F]);
    else if (input.name === 'categories') feeds.categories = new ort.Tensor('string', categories, [n, K]);
  }
  return { feeds, rows: n, timeoutUs: timeoutParameter((body as Record<string, unknown>).parameters) };
}

/**
 * The predicted classes and probabilities of a classification model's outputs: its `label` and
 * `probabilities` (ML Loop's models), or else its one score output [N, C] in class order (a script's
 * model, e.g. the fashion sample's `scores`), softmaxed unless its rows already are distributions,
 * as ML Loop evaluated it (src/core/scripts/scriptModel.ts). Undefined when neither is there.
 */
export function classified(
  version: ServedVersion,
  outputs: Outputs,
): { labels: ArrayLike<string>; probabilities: Float32Array } | undefined {
  const classes = version.contract?.classes ?? [];
  const probs = outputs.probabilities?.data;
  if (outputs.label && probs instanceof Float32Array)
    return { labels: outputs.label.data as string[], probabilities: probs };
  const C = classes.length;
  const scores = version.outputs.filter(
    (m) =>
      (m.datatype === 'FP32' || m.datatype === 'FP64') && m.shape.length === 2 && (m.shape[1] < 0 || m.shape[1] === C),
  );
  const named = scores.find((m) => m.name === 'probabilities') ?? (scores.length === 1 ? scores[0] : undefined);
  const t = named && outputs[named.name];
  if (!t || C === 0) return undefined;
  const n = t.dims[0];
  const probabilities = toProbabilities(t.data as Float32Array, n, C);
  const labels = Array.from({ length: n }, (_, i) => {
    let best = 0;
    for (let k = 1; k < C; k++) if (probabilities[i * C + k] > probabilities[i * C + best]) best = k;
    return classes[best];
  });
  return { labels, probabilities };
}

export function predictResponse(version: ServedVersion, outputs: Outputs): Record<string, unknown> {
  const c = version.contract!;
  const predictions: Array<Record<string, unknown>> = [];
  if (c.task === 'classification') {
    const result = classified(version, outputs);
    if (!result)
      throw new HttpError(
        500,
        `model "${version.model}" returns neither label and probabilities nor one score output of ${c.classes?.length ?? 0} classes`,
      );
    const { labels, probabilities: probs } = result;
    const classes = c.classes ?? [];
    for (let i = 0; i < labels.length; i++) {
      const p: Record<string, number> = {};
      classes.forEach((cls, k) => (p[cls] = probs[i * classes.length + k]));
      predictions.push({ label: labels[i], probabilities: p });
    }
  } else {
    for (const v of outputs.prediction.data as Float32Array) predictions.push({ prediction: v });
  }
  return { model_name: version.model, model_version: version.version, predictions };
}
