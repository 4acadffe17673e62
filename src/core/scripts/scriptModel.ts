// A script's model.onnx checked against the project and evaluated with onnxruntime-node.
// Inputs: `features` float32 [N, F] (and `categories` string [N, K] when the project has
// categorical features), as built-in models take; image projects: `image` float32 [N, C, H, W] in
// [0, 1] (RGB order for 3 channels), the preprocessed pixels scaled by scaleToUnit. Outputs, classification: a `label` output (class
// names, or class indices) and/or one float output [N, C] of scores or probabilities in the class
// order of MLLOOP_CLASSES (arg-max; softmax when a row is not a probability distribution).
// Regression: a `prediction` output, or the only float output, of N values.

import * as ort from 'onnxruntime-node';
import { scaleToUnit } from '../data/images/pixels';
import type { FeatureSchema, RawFeatures, Rows, SplitDataset } from '../data/types';
import { splitMetrics, type SplitMetrics } from '../train/metrics';
import type { Prediction } from '../train/types';
import { EMBEDDING_OUTPUT } from '../onnx/embeddings';
import { openSession } from '../onnx/session';

/** The model does not fit the project's input/output contract. */
export class ModelContractError extends Error {
  override name = 'ModelContractError';
}

type Meta = ort.InferenceSession.ValueMetadata;

function describe(m: Meta): string {
  return m.isTensor
    ? `${m.name} ${m.type} [${m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : typeof d === 'string' && d ? d : 'N')).join(', ')}]`
    : `${m.name} (not a tensor)`;
}
const describeAll = (ms: readonly Meta[]) => (ms.length ? ms.map(describe).join(', ') : 'none');
const FLOATS = new Set<string>(['float32', 'float64', 'float16']);

/** How the model's outputs are read. */
export type OutputPlan =
  | { kind: 'label'; label: string; scores?: string }
  | { kind: 'scores'; scores: string }
  | { kind: 'values'; values: string };

/** Checks the model's inputs and outputs against the project; the error names expected and actual. */
export function planModel(schema: FeatureSchema, inputs: readonly Meta[], outputs: readonly Meta[]): OutputPlan {
  const F = schema.numeric.length;
  const K = schema.categorical.length;
  const img = schema.image;
  // Per input: its type and its dimensions after N.
  const want: Record<string, { type: string; dims: number[] }> = img
    ? { image: { type: 'float32', dims: [img.channels, img.height, img.width] } }
    : { features: { type: 'float32', dims: [F] } };
  if (!img && K > 0) want.categories = { type: 'string', dims: [K] };
  const expectedInputs = Object.entries(want)
    .map(([name, w]) => `${name} ${w.type} [N, ${w.dims.join(', ')}]`)
    .join(', ');
  const inputError = (why: string) =>
    new ModelContractError(
      `model.onnx does not take the project's inputs (${why}): expected ${expectedInputs}; the model takes ${describeAll(inputs)}`,
    );
  for (const m of inputs) {
    const w = want[m.name];
    if (!w) throw inputError(`unexpected input "${m.name}"`);
    if (!m.isTensor || m.type !== w.type) throw inputError(`"${m.name}" is not ${w.type}`);
    const fits =
      m.shape.length === w.dims.length + 1 &&
      w.dims.every((d, k) => {
        const actual = m.shape[k + 1];
        return !(typeof actual === 'number' && actual >= 0 && actual !== d);
      });
    if (!fits) throw inputError(`"${m.name}" is not [N, ${w.dims.join(', ')}]`);
  }
  for (const name of Object.keys(want))
    if (!inputs.some((m) => m.name === name)) throw inputError(`no "${name}" input`);

  // The optional embedding is never read as scores or values.
  const tensors = outputs.filter(
    (m): m is Extract<Meta, { isTensor: true }> => m.isTensor && m.name !== EMBEDDING_OUTPUT,
  );
  const floats = tensors.filter((m) => FLOATS.has(m.type));
  if (schema.task === 'classification') {
    const C = schema.classes?.length ?? 0;
    const expectedOutputs = `a "label" output, or one float output [N, ${C}] of scores or probabilities in the order of MLLOOP_CLASSES`;
    const isScores = (m: (typeof tensors)[number]) => {
      const w = m.shape[m.shape.length - 1];
      return FLOATS.has(m.type) && m.shape.length === 2 && !(typeof w === 'number' && w >= 0 && w !== C);
    };
    const label = tensors.find((m) => m.name === 'label');
    const scoreOutputs = tensors.filter(isScores);
    const named =
      scoreOutputs.find((m) => m.name === 'probabilities') ?? (scoreOutputs.length === 1 ? scoreOutputs[0] : undefined);
    if (label) return { kind: 'label', label: label.name, scores: named?.name };
    if (named) return { kind: 'scores', scores: named.name };
    throw new ModelContractError(
      `model.onnx's outputs do not fit a ${C}-class project: expected ${expectedOutputs}; the model returns ${describeAll(outputs)}`,
    );
  }
  const values = floats.find((m) => m.name === 'prediction') ?? (floats.length === 1 ? floats[0] : undefined);
  if (!values)
    throw new ModelContractError(
      `model.onnx's outputs do not fit a regression project: expected a "prediction" output (or one float output) of N values; the model returns ${describeAll(outputs)}`,
    );
  return { kind: 'values', values: values.name };
}

/** Row-wise probabilities from scores: kept when every row already is a distribution, else a softmax. */
export function toProbabilities(scores: Float32Array | Float64Array, n: number, C: number): Float32Array {
  const out = new Float32Array(n * C);
  let probabilities = true;
  for (let i = 0; i < n && probabilities; i++) {
    let s = 0;
    for (let c = 0; c < C; c++) {
      const v = scores[i * C + c];
      if (!(v >= 0 && v <= 1)) probabilities = false;
      s += v;
    }
    if (Math.abs(s - 1) > 1e-3) probabilities = false;
  }
  for (let i = 0; i < n; i++) {
    if (probabilities) {
      for (let c = 0; c < C; c++) out[i * C + c] = scores[i * C + c];
      continue;
    }
    let max = -Infinity;
    for (let c = 0; c < C; c++) max = Math.max(max, scores[i * C + c]);
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.exp(scores[i * C + c] - max);
    for (let c = 0; c < C; c++) out[i * C + c] = Math.exp(scores[i * C + c] - max) / s;
  }
  return out;
}

function argMax(p: Float32Array, i: number, C: number): number {
  let best = 0;
  for (let c = 1; c < C; c++) if (p[i * C + c] > p[i * C + best]) best = c;
  return best;
}

/** Images evaluated per run of the model (bounds the float32 copy: 1024 × 3 × 224 × 224 × 4 bytes = 600 MB at most). */
export const IMAGE_BATCH = 256;

function concatPredictions(parts: Prediction[], n: number, C: number): Prediction {
  if (parts.length === 1) return parts[0];
  if (parts[0].values) {
    const values = new Float32Array(n);
    let off = 0;
    for (const p of parts) {
      values.set(p.values!, off);
      off += p.values!.length;
    }
    return { values };
  }
  const classIndex = new Int32Array(n);
  const probabilities = new Float32Array(n * C);
  let off = 0;
  for (const p of parts) {
    classIndex.set(p.classIndex!, off);
    probabilities.set(p.probabilities!, off * C);
    off += p.classIndex!.length;
  }
  return { classIndex, probabilities };
}

/** A script's ONNX model, validated, predicting in the shape built-in trainers return. */
export class ScriptModel {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly schema: FeatureSchema,
    readonly plan: OutputPlan,
  ) {}

  /** Loads and validates; throws ModelContractError when the model does not fit the project. */
  static async load(modelPath: string, schema: FeatureSchema): Promise<ScriptModel> {
    let session: ort.InferenceSession;
    try {
      session = await openSession(modelPath);
    } catch (e) {
      throw new ModelContractError(`model.onnx could not be loaded by onnxruntime: ${(e as Error).message}`);
    }
    try {
      return new ScriptModel(session, schema, planModel(schema, session.inputMetadata, session.outputMetadata));
    } catch (e) {
      await session.release();
      throw e;
    }
  }

  /** Predicts rows: their features, or for an image project their images (in batches of IMAGE_BATCH). */
  async predictRows(rows: Rows): Promise<Prediction> {
    const img = this.schema.image;
    if (!img) return this.predict(rows.features);
    const n = rows.features.n;
    const size = img.channels * img.height * img.width;
    const parts: Prediction[] = [];
    for (let start = 0; start < n; start += IMAGE_BATCH) {
      const count = Math.min(IMAGE_BATCH, n - start);
      parts.push(
        await this.predict(
          { n: count, numeric: new Float32Array(0), categories: [] },
          rows.images!.pixels.subarray(start * size, (start + count) * size),
        ),
      );
    }
    return concatPredictions(parts, n, this.schema.classes?.length ?? 0);
  }

  /** `pixels`: image projects, uint8 [x.n, C, H, W]. */
  async predict(x: RawFeatures, pixels?: Uint8Array): Promise<Prediction> {
    const F = this.schema.numeric.length;
    const K = this.schema.categorical.length;
    const classes = this.schema.classes ?? [];
    const C = classes.length;
    const img = this.schema.image;
    const feeds: Record<string, ort.Tensor> = img
      ? {
          image: new ort.Tensor('float32', scaleToUnit(pixels ?? new Uint8Array(0)), [
            x.n,
            img.channels,
            img.height,
            img.width,
          ]),
        }
      : { features: new ort.Tensor('float32', x.numeric, [x.n, F]) };
    if (!img && K > 0) feeds.categories = new ort.Tensor('string', x.categories, [x.n, K]);
    const result = await this.session.run(feeds);
    const plan = this.plan;
    if (plan.kind === 'values') {
      const v = result[plan.values].data as Float32Array | Float64Array;
      if (v.length !== x.n)
        throw new ModelContractError(`model.onnx returned ${v.length} values for ${x.n} rows in "${plan.values}"`);
      return { values: Float32Array.from(v) };
    }
    const scoresName = plan.scores;
    let probabilities: Float32Array;
    if (scoresName) {
      const s = result[scoresName].data as Float32Array | Float64Array;
      if (s.length !== x.n * C)
        throw new ModelContractError(
          `model.onnx returned ${s.length} scores in "${scoresName}" for ${x.n} rows of ${C} classes`,
        );
      probabilities = toProbabilities(s, x.n, C);
    } else probabilities = new Float32Array(x.n * C);
    const classIndex = new Int32Array(x.n);
    if (plan.kind === 'label') {
      const labels = result[plan.label].data as ArrayLike<string | number | bigint>;
      const classOf = new Map(classes.map((c, i) => [c, i]));
      for (let i = 0; i < x.n; i++) {
        const l = labels[i];
        // String labels are class names; integer labels are class indices.
        const c = typeof l === 'string' ? classOf.get(l) : Number(l) >= 0 && Number(l) < C ? Number(l) : undefined;
        if (c === undefined)
          throw new ModelContractError(
            `model.onnx predicted "${String(l)}", which is not a class of the data (${classes.join(', ')})`,
          );
        classIndex[i] = c;
        // A label without scores: all probability on the predicted class.
        if (!scoresName) probabilities[i * C + c] = 1;
      }
    } else for (let i = 0; i < x.n; i++) classIndex[i] = argMax(probabilities, i, C);
    return { classIndex, probabilities };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** Train/dev/test metrics of a script's model, computed exactly as for a built-in run. */
export async function evaluateScriptModel(
  modelPath: string,
  dataset: SplitDataset,
  /** Receives the model's predictions on dev (for the monitoring reference). */
  onDevPrediction?: (p: Prediction) => void,
): Promise<{ train: SplitMetrics; dev?: SplitMetrics; test?: SplitMetrics }> {
  const model = await ScriptModel.load(modelPath, dataset.schema);
  try {
    const classes = dataset.schema.classes?.length ?? 0;
    const evaluate = async (rows: Rows): Promise<SplitMetrics | undefined> => {
      if (rows.features.n === 0) return undefined;
      const prediction = await model.predictRows(rows);
      if (rows === dataset.dev) onDevPrediction?.(prediction);
      return splitMetrics(dataset.schema.task, rows.y, prediction, classes);
    };
    return {
      train: (await evaluate(dataset.train))!,
      dev: await evaluate(dataset.dev),
      test: await evaluate(dataset.test),
    };
  } finally {
    await model.release();
  }
}
