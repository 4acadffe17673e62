// The `cnn` model for image classification: convolution blocks (3×3 convolution with padding 1,
// optional batch normalisation, ReLU, 2×2 max-pooling), then dense ReLU layers with dropout, then
// softmax; trained by minibatch Adam or SGD with momentum on the images as the model takes them
// (float32 in [0, 1]), optionally augmented per epoch (random flips and shifts). The numeric work
// runs on WebAssembly SIMD kernels (engine.ts), each batch split over two threads where the machine
// has them. Exported to ONNX as Conv/Relu/MaxPool/Flatten/Gemm/Softmax (batch normalisation folded
// into the convolutions) with the contract outputs `label` and `probabilities`, plus `embedding`:
// the last hidden layer (the penultimate one), float32 [N, D].
import { availableParallelism } from 'node:os';
import type { FeatureSchema, ImageRows, Prediction } from '../../data/types';
import type { CnnParams } from '../../spec/types';
import { cnnShapeProblem } from '../../spec/cnnShape';
import { mulberry32, shuffleInPlace } from '../../data/prng';
import { OnnxGraphBuilder } from '../../onnx/builder';
import { argmaxRows } from '../../onnx/argmax';
import { appendClassifierOutputsFromLogits, logitLoss, softmaxRowsInPlace } from '../outputs';
import {
  booleanParam,
  checkClassificationTarget,
  checkLoss,
  choiceParam,
  modelMetadata,
  numberParam,
  patienceParam,
  ProgressGate,
} from '../pipeline';
import { TrainingError, type TrainContext, type TrainedModel, type Trainer } from '../types';
import { CnnEngine } from './engine';
import type { CnnArchitecture, CnnLayout } from './layout';
import { CNN_PHASES, type LaneClock } from './lane';
import { readLayerTensors, writeLayerTensors, type LayerTensors } from './weights';

/** cnn's parameters once checked: `earlyStopping` is a patience, or false. */
export type CheckedCnnParams = Omit<CnnParams, 'earlyStopping'> & { earlyStopping: number | false };

/** The defaults of mlloop.schema.json's cnnParams, for direct calls that bypass it. */
export const CNN_DEFAULTS: CheckedCnnParams = {
  channels: [32, 64],
  batchNorm: false,
  dense: [128],
  dropout: 0.25,
  optimizer: 'adam',
  learningRate: 0.001,
  lrSchedule: 'constant',
  momentum: 0.9,
  batchSize: 64,
  epochs: 10,
  l2: 0,
  earlyStopping: 3,
  augment: { flip: false, shift: 0 },
  seed: 0,
};

function layerList(params: Record<string, unknown>, name: 'channels' | 'dense', min: number): number[] {
  const raw = params[name] ?? CNN_DEFAULTS[name];
  const list = typeof raw === 'number' ? [raw] : raw;
  if (!Array.isArray(list) || list.length < min)
    throw new TrainingError(`Parameter "${name}" must be a list of layer sizes (got ${JSON.stringify(raw)})`, name);
  return list.map((u) => {
    if (typeof u !== 'number' || !Number.isInteger(u) || u < 1)
      throw new TrainingError(
        `Parameter "${name}": every layer needs a whole number ≥ 1 (got ${JSON.stringify(u)})`,
        name,
      );
    return u;
  });
}

export function readCnnParams(params: Record<string, unknown>, fallbackSeed: number): CheckedCnnParams {
  const augment = (params.augment ?? {}) as Record<string, unknown>;
  if (typeof augment !== 'object' || augment === null || Array.isArray(augment))
    throw new TrainingError(`Parameter "augment" must be an object such as {"flip": true, "shift": 2}`, 'augment');
  return {
    channels: layerList(params, 'channels', 1),
    batchNorm: booleanParam(params, 'batchNorm', CNN_DEFAULTS.batchNorm),
    dense: layerList(params, 'dense', 0),
    dropout: numberParam(params, 'dropout', CNN_DEFAULTS.dropout, { min: 0, max: 0.999999 }),
    optimizer: choiceParam(params, 'optimizer', CNN_DEFAULTS.optimizer, ['adam', 'sgd'] as const),
    learningRate: numberParam(params, 'learningRate', CNN_DEFAULTS.learningRate, { above: 0 }),
    lrSchedule: choiceParam(params, 'lrSchedule', CNN_DEFAULTS.lrSchedule, ['constant', 'cosine'] as const),
    momentum: numberParam(params, 'momentum', CNN_DEFAULTS.momentum, { min: 0, max: 0.999999 }),
    batchSize: numberParam(params, 'batchSize', CNN_DEFAULTS.batchSize, { min: 1, integer: true }),
    epochs: numberParam(params, 'epochs', CNN_DEFAULTS.epochs, { min: 1, integer: true }),
    l2: numberParam(params, 'l2', CNN_DEFAULTS.l2, { min: 0 }),
    earlyStopping: patienceParam(params, CNN_DEFAULTS.earlyStopping),
    augment: {
      flip: booleanParam(augment, 'flip', false),
      shift: numberParam(augment, 'shift', 0, { min: 0, max: 16, integer: true }),
    },
    seed: numberParam(params, 'seed', fallbackSeed, { min: 0, integer: true }),
  };
}

export interface CnnOptions {
  /** 1 or 2; default 2 where the machine has two cores. */
  threads?: number;
  /** Called after each batch with the batch's index in the epoch (benchmarks, tests). */
  onBatch?: (epoch: number, batch: number) => void;
  /** Benchmarks: charges the time of each phase (CNN_PHASES); the lanes then run on this thread. */
  clock?: LaneClock;
}

export const trainCnn: Trainer = (ctx) => trainCnnWith(ctx, {});

const INPUT_PHASE = CNN_PHASES.indexOf('input images');

/** Rows a lane holds: half a batch, and at least this many for prediction passes. */
const MIN_LANE_ROWS = 32;

export function trainCnnWith(ctx: TrainContext, opts: CnnOptions): TrainedModel {
  const p = readCnnParams(ctx.params, ctx.seed);
  const { schema } = ctx;
  const shape = schema.image;
  if (!shape)
    throw new TrainingError(
      'The cnn model takes images: use it in an image project (data.images, or data.path with data.imageColumn)',
      'model',
    );
  if (schema.task !== 'classification')
    throw new TrainingError('The cnn model does classification; this project does regression', 'model');
  const n = ctx.train.features.n;
  if (n === 0) throw new TrainingError('The train split has no images', 'train');
  const shapeProblem = cnnShapeProblem(shape.height, shape.width, p.channels.length);
  if (shapeProblem) throw new TrainingError(shapeProblem, 'channels');
  const pixelsPerImage = shape.channels * shape.height * shape.width;
  for (const [name, rows] of [
    ['train', ctx.train],
    ['dev', ctx.dev],
  ] as const) {
    const got = rows.images?.pixels.length ?? 0;
    if (rows.features.n > 0 && got !== rows.features.n * pixelsPerImage)
      throw new TrainingError(
        `The ${name} images hold ${got} pixel values, not ${rows.features.n} × ${shape.channels} channel(s) × ${shape.height} × ${shape.width}: the data's channel count disagrees with the model's input`,
        'channels',
      );
  }
  const classes = checkClassificationTarget(ctx);
  const gate = new ProgressGate(ctx);
  const arch: CnnArchitecture = {
    height: shape.height,
    width: shape.width,
    inChannels: shape.channels,
    channels: p.channels,
    dense: p.dense,
    classes,
    batchNorm: p.batchNorm,
  };
  const batchSize = Math.min(p.batchSize, n);
  const laneRows = Math.max(Math.ceil(batchSize / 2), MIN_LANE_ROWS);
  const threads = opts.threads ?? (availableParallelism() > 1 ? 2 : 1);
  const random = mulberry32(p.seed);
  // Augmentation and dropout draw from their own streams: turning one on leaves the others' draws as they were.
  const augmentRandom = mulberry32(p.seed ^ 0x2545f491);
  const dropoutRandom = mulberry32(p.seed ^ 0x68e31da4);
  const engine = new CnnEngine(arch, laneRows, opts.clock ? 1 : threads);
  engine.clock = opts.clock;
  try {
    initWeights(engine, random);
    engine.transposeWeights();
    const train = ctx.train.images!.pixels;
    const y = ctx.train.y;
    const order = Uint32Array.from({ length: n }, (_, i) => i);
    const nDev = ctx.dev.features.n;
    const earlyStop = p.earlyStopping !== false && nDev > 0 ? p.earlyStopping : 0;
    let best: { loss: number; epoch: number; params: Float32Array } | undefined;
    const useDropout = p.dropout > 0 && p.dense.length > 0;
    const augment = p.augment.flip || p.augment.shift > 0 ? p.augment : undefined;
    for (let epoch = 1; epoch <= p.epochs; epoch++) {
      gate.checkCancelled();
      shuffleInPlace(order, random);
      const learningRate =
        p.lrSchedule === 'cosine'
          ? (p.learningRate * (1 + Math.cos((Math.PI * (epoch - 1)) / p.epochs))) / 2
          : p.learningRate;
      let lossSum = 0;
      let batch = 0;
      for (let start = 0; start < n; start += batchSize, batch++) {
        const rows = Math.min(batchSize, n - start);
        const rows0 = Math.ceil(rows / 2);
        const rows1 = rows - rows0;
        // Lane 1's images first: the helper starts on them while this thread loads lane 0's.
        const load = (lane: number, first: number, count: number) => {
          loadImages(
            engine.laneInput(lane),
            train,
            order,
            first,
            count,
            arch,
            augment ? { ...augment, random: augmentRandom } : undefined,
          );
          const labels = engine.laneLabels(lane);
          for (let r = 0; r < count; r++) labels[r] = y[order[first + r]];
          if (useDropout) fillDropoutMasks(engine, lane, count, p.dropout, dropoutRandom);
          opts.clock?.lap(INPUT_PHASE);
        };
        if (rows1 > 0) load(1, start + rows0, rows1);
        lossSum += engine.gradients(rows0, rows1, useDropout, () => load(0, start, rows0));
        engine.step({ kind: p.optimizer, learningRate, momentum: p.momentum, l2: p.l2 });
        opts.onBatch?.(epoch, batch);
        gate.checkCancelled();
      }
      const trainLoss = lossSum / n;
      checkLoss(trainLoss, epoch);
      const dev = nDev > 0 ? evaluate(engine, ctx.dev.images!.pixels, ctx.dev.y, nDev, arch, gate) : undefined;
      if (dev && earlyStop > 0 && (!best || dev.loss < best.loss)) {
        if (best) best.params.set(engine.params());
        best = { loss: dev.loss, epoch, params: best?.params ?? engine.params().slice() };
      }
      const stop = best !== undefined && epoch - best.epoch >= earlyStop;
      gate.report(
        {
          step: epoch,
          totalSteps: p.epochs,
          trainLoss,
          devLoss: dev?.loss,
          devMetric: dev?.accuracy,
          metricName: 'accuracy',
        },
        stop,
      );
      if (stop) break;
    }
    // The model keeps an engine of its own (one thread, no training rows) holding the best (or last) weights.
    const weights = best ? best.params : engine.params().slice();
    return cnnModel(schema, { ...arch, batchNorm: false }, foldBatchNorm(weights, engine.layout));
  } finally {
    engine.dispose();
  }
}

/**
 * PyTorch's default initialisation (kaiming-uniform with a = √5): weights and biases U(±1/√fanIn),
 * so that the same architecture and optimiser learn as they do there. Padded units stay 0.
 */
function initWeights(engine: CnnEngine, random: () => number): void {
  const h = engine.f32;
  const L = engine.layout;
  for (const c of L.convs) {
    const bound = 1 / Math.sqrt(9 * c.cinAsked);
    for (let tap = 0; tap < 9; tap++)
      for (let ci = 0; ci < c.cinAsked; ci++)
        for (let co = 0; co < c.coutAsked; co++)
          h[(c.w0 >> 2) + (tap * c.cin + ci) * c.cout + co] = (2 * random() - 1) * bound;
    for (let co = 0; co < c.coutAsked; co++) h[(c.b0 >> 2) + co] = (2 * random() - 1) * bound;
    if (c.gamma >= 0) {
      // Batch normalisation starts as the identity: γ 1 (0 on padded channels, which stay 0), β 0, running variance 1.
      for (let co = 0; co < c.coutAsked; co++) h[(c.gamma >> 2) + co] = 1;
      for (let co = 0; co < c.cout; co++) h[(c.runVar >> 2) + co] = 1;
    }
  }
  const last = L.convs[L.convs.length - 1];
  L.denses.forEach((d, l) => {
    const first = l === 0;
    const ninAsked = first ? last.ph * last.pw * last.coutAsked : L.denses[l - 1].noutAsked;
    const bound = 1 / Math.sqrt(ninAsked);
    for (let i = 0; i < d.nin; i++) {
      // Inputs from padded channels (first layer) or padded units stay without weights.
      if (first ? i % last.cout >= last.coutAsked : i >= ninAsked) continue;
      for (let j = 0; j < d.noutAsked; j++) h[(d.w0 >> 2) + i * d.nout + j] = (2 * random() - 1) * bound;
    }
    for (let j = 0; j < d.noutAsked; j++) h[(d.b0 >> 2) + j] = (2 * random() - 1) * bound;
  });
}

interface Augment {
  flip: boolean;
  shift: number;
  random: () => number;
}

/** Images order[first..first+count) of `pixels` (uint8 NCHW) into `dst` as the model takes them, optionally augmented. */
function loadImages(
  dst: Float32Array,
  pixels: Uint8Array,
  order: ArrayLike<number> | null,
  first: number,
  count: number,
  arch: CnnArchitecture,
  augment?: Augment,
): void {
  const size = arch.height * arch.width * arch.inChannels;
  for (let r = 0; r < count; r++) {
    let flip = false;
    let dx = 0;
    let dy = 0;
    if (augment) {
      if (augment.flip) flip = augment.random() < 0.5;
      if (augment.shift > 0) {
        dx = Math.floor(augment.random() * (2 * augment.shift + 1)) - augment.shift;
        dy = Math.floor(augment.random() * (2 * augment.shift + 1)) - augment.shift;
      }
    }
    imageInput(pixels, (order ? order[first + r] : first + r) * size, dst, r * size, arch, flip, dx, dy);
  }
}

/**
 * One image of `pixels` (uint8 NCHW, from float offset `src`) into `dst` at `out` as NHWC floats in
 * [0, 1], mirrored left-right when `flip`, then moved by (dx, dy) pixels (zeros shifted in).
 */
export function imageInput(
  pixels: Uint8Array,
  src: number,
  dst: Float32Array,
  out: number,
  shape: { height: number; width: number; inChannels: number },
  flip: boolean,
  dx: number,
  dy: number,
): void {
  const { height: H, width: W, inChannels: C } = shape;
  const plane = H * W;
  if (!flip && dx === 0 && dy === 0) {
    if (C === 1) for (let i = 0; i < plane; i++) dst[out + i] = pixels[src + i] / 255;
    else
      for (let c = 0; c < C; c++)
        for (let i = 0; i < plane; i++) dst[out + i * C + c] = pixels[src + c * plane + i] / 255;
    return;
  }
  for (let y = 0; y < H; y++) {
    const sy = y - dy;
    for (let x = 0; x < W; x++) {
      const shifted = x - dx;
      const sx = flip ? W - 1 - shifted : shifted;
      const inside = sy >= 0 && sy < H && shifted >= 0 && shifted < W;
      for (let c = 0; c < C; c++)
        dst[out + (y * W + x) * C + c] = inside ? pixels[src + c * plane + sy * W + sx] / 255 : 0;
    }
  }
}

function fillDropoutMasks(engine: CnnEngine, lane: number, rows: number, p: number, random: () => number): void {
  const keep = 1 / (1 - p);
  const L = engine.layout;
  for (let l = 0; l < L.denses.length - 1; l++) {
    const mask = engine.laneMask(lane, l);
    for (let t = 0, count = rows * L.denses[l].nout; t < count; t++) mask[t] = random() < p ? 0 : keep;
  }
}

/** Logits of `n` images (uint8 NCHW) through lane 0 in chunks; calls take(first, rows) with the logits at engine.logitsAt. */
function forwardChunks(
  engine: CnnEngine,
  pixels: Uint8Array,
  n: number,
  arch: CnnArchitecture,
  take: (first: number, rows: number) => void,
): void {
  const chunk = engine.layout.laneRows;
  const input = engine.laneInput(0);
  for (let start = 0; start < n; start += chunk) {
    const rows = Math.min(chunk, n - start);
    loadImages(input, pixels, null, start, rows, arch);
    engine.forward(rows);
    take(start, rows);
  }
}

/** Dev loss (mean cross-entropy) and accuracy. */
function evaluate(
  engine: CnnEngine,
  pixels: Uint8Array,
  y: Float64Array,
  n: number,
  arch: CnnArchitecture,
  gate: ProgressGate,
): { loss: number; accuracy: number } {
  const h = engine.f32;
  const stride = engine.layout.denses[engine.layout.denses.length - 1].nout;
  const c = arch.classes;
  let loss = 0;
  let hits = 0;
  forwardChunks(engine, pixels, n, arch, (first, rows) => {
    gate.checkCancelled();
    for (let i = 0; i < rows; i++) {
      const row = logitLoss(h, engine.logitsAt + i * stride, c, y[first + i]);
      loss += row.loss;
      if (row.hit) hits++;
    }
  });
  return { loss: loss / n, accuracy: hits / n };
}

/** The trained CNN: predictions on images and its ONNX graph. */
/**
 * The layers' weights in ONNX layout with batch normalisation (running statistics) folded into each
 * convolution: W' = W · γ / σ, b' = (b − mean) · γ / σ + β, σ = √(running variance + ε).
 */
function foldBatchNorm(weights: Float32Array, L: CnnLayout): LayerTensors[] {
  const tensors = readLayerTensors(weights, L);
  L.convs.forEach((c, l) => {
    if (c.gamma < 0) return;
    const t = tensors[l];
    const per = t.weight.length / c.coutAsked;
    for (let co = 0; co < c.coutAsked; co++) {
      const scale = weights[(c.gamma >> 2) + co] / Math.sqrt(weights[(c.runVar >> 2) + co] + 1e-5);
      for (let k = 0; k < per; k++) t.weight[co * per + k] *= scale;
      t.bias[co] = (t.bias[co] - weights[(c.runMean >> 2) + co]) * scale + weights[(c.beta >> 2) + co];
    }
  });
  return tensors;
}

function cnnModel(schema: FeatureSchema, arch: CnnArchitecture, tensors: LayerTensors[]): TrainedModel {
  // Prediction passes go MIN_LANE_ROWS… images at a time through an engine of their own (one thread).
  const engine = new CnnEngine(arch, 64, 1);
  writeLayerTensors(engine.f32, engine.layout, tensors);
  const L = engine.layout;
  const classes = arch.classes;
  return {
    model: 'cnn',
    schema,
    predict(features, images?: ImageRows): Prediction {
      const n = features.n;
      if (n > 0 && !images)
        throw new TrainingError('The cnn model predicts from images; these rows carry none', 'model');
      const out = new Float32Array(n * classes);
      const stride = L.denses[L.denses.length - 1].nout;
      forwardChunks(engine, images?.pixels ?? new Uint8Array(0), n, arch, (first, rows) => {
        for (let i = 0; i < rows; i++)
          for (let j = 0; j < classes; j++)
            out[(first + i) * classes + j] = engine.f32[engine.logitsAt + i * stride + j];
      });
      softmaxRowsInPlace(out, n, classes);
      return { probabilities: out, classIndex: argmaxRows(out, n, classes) };
    },
    toOnnx(meta) {
      const b = new OnnxGraphBuilder('mlloop_cnn');
      b.addInput('image', 'float', ['N', arch.inChannels, arch.height, arch.width]);
      let x = 'image';
      const layers = readLayerTensors(engine.f32, L);
      layers.forEach((t, l) => {
        if (t.kind === 'dense' && layers[l - 1].kind === 'conv') [x] = b.addNode('Flatten', [x], 1, { axis: 1 });
        if (l === layers.length - 1) {
          // The penultimate layer, for "find more like these" and monitoring.
          b.addNode('Identity', [x], ['embedding']);
          b.addOutput('embedding', 'float', ['N', t.dims[0]]);
        }
        const W = b.addInitializer(`${t.kind}_W`, t.weight, t.dims);
        const B = b.addInitializer(`${t.kind}_b`, t.bias, [t.bias.length]);
        if (t.kind === 'conv') {
          [x] = b.addNode('Conv', [x, W, B], 1, { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1] });
          [x] = b.addNode('Relu', [x]);
          [x] = b.addNode('MaxPool', [x], 1, { kernel_shape: [2, 2], strides: [2, 2] });
        } else {
          [x] = b.addNode('Gemm', [x, W, B]);
          if (l < layers.length - 1) [x] = b.addNode('Relu', [x]);
        }
      });
      appendClassifierOutputsFromLogits(b, x, schema.classes ?? []);
      return b.build(modelMetadata('cnn', schema, meta));
    },
  };
}
