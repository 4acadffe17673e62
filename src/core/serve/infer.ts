// OIP v2 inference request → ORT feeds (checked against the model's inputs), ORT outputs → OIP
// response; and the `/predict` convenience (records by feature name → labels and probabilities).
import * as ort from 'onnxruntime-node';
import { decodeElements, encodeElements, flattenData, isOipDatatype, jsonKind, OIP_TO_ORT } from './datatypes';
import type { Outputs } from './engine';
import { BadRequest } from './errors';
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
}

export function parseInferRequest(body: unknown, version: ServedVersion): InferRequest {
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
  let rows = -1;
  for (const [i, raw] of req.inputs.entries()) {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
      throw new BadRequest(`inputs[${i}] must be an object with name, shape, datatype and data`);
    const t = raw as Record<string, unknown>;
    if (typeof t.name !== 'string') throw new BadRequest(`inputs[${i}].name must be a string`);
    const meta = version.inputs.find((m) => m.name === t.name);
    if (!meta) throw new BadRequest(`unknown input "${t.name}"; the model takes: ${expectedInputs(version)}`);
    if (feeds[t.name]) throw new BadRequest(`input "${t.name}" is given twice`);
    if (!isOipDatatype(t.datatype))
      throw new BadRequest(
        `input "${t.name}": datatype must be one of ${Object.keys(OIP_TO_ORT).join(', ')}, got ${JSON.stringify(t.datatype)}`,
      );
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
    const values = flattenData(t.name, t.data, shape);
    feeds[t.name] = new ort.Tensor(
      OIP_TO_ORT[meta.datatype] as 'float32',
      encodeElements(t.name, meta.datatype, values) as Float32Array,
      shape,
    );
    const r = shape.length > 0 ? shape[0] : 1;
    if (rows >= 0 && meta.shape[0] === -1 && r !== rows)
      throw new BadRequest(`inputs disagree on the batch size: "${t.name}" has ${r} rows, another input ${rows}`);
    rows = r;
  }
  const missing = version.inputs.filter((m) => !feeds[m.name]).map((m) => m.name);
  if (missing.length)
    throw new BadRequest(
      `missing input ${missing.map((m) => `"${m}"`).join(', ')}; the model takes: ${expectedInputs(version)}`,
    );
  let outputs: string[] | undefined;
  if (req.outputs !== undefined) {
    if (!Array.isArray(req.outputs)) throw new BadRequest(`"outputs" must be an array of {"name": …}`);
    outputs = req.outputs.map((o, i) => {
      const name = o && typeof o === 'object' ? (o as Record<string, unknown>).name : undefined;
      if (typeof name !== 'string') throw new BadRequest(`outputs[${i}].name must be a string`);
      if (!version.outputs.some((m) => m.name === name))
        throw new BadRequest(
          `unknown output "${name}"; the model has: ${version.outputs.map((m) => m.name).join(', ')}`,
        );
      return name;
    });
  }
  return {
    id: req.id as string | undefined,
    feeds,
    rows: Math.max(rows, 0),
    outputs,
    timeoutUs: timeoutParameter(req.parameters),
  };
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

export function predictResponse(version: ServedVersion, outputs: Outputs): Record<string, unknown> {
  const c = version.contract!;
  const predictions: Array<Record<string, unknown>> = [];
  if (c.task === 'classification') {
    const labels = outputs.label.data as string[];
    const probs = outputs.probabilities.data as Float32Array;
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
