// The cnn trainer: its layers' forward and backward passes against PyTorch (values committed in
// cnn-torch-fixture.json by cnn-torch-fixture.py) and against finite differences, one thread vs two,
// determinism, train-time augmentation, early stopping, cancellation, bad input, and the ONNX export
// (onnxruntime parity within 1e-4, the `embedding` output, onnx.checker).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { FeatureSchema, Rows } from '../../../src/core/data/types';
import { CnnEngine, optimizerPlan } from '../../../src/core/train/cnn/engine';
import { CNN_DEFAULTS, imageInput, readCnnParams, trainCnn, trainCnnWith } from '../../../src/core/train/cnn/index';
import { defaultParams } from '../../../src/core/spec/schema';
import { readLayerTensors, writeLayerTensors } from '../../../src/core/train/cnn/weights';
import { cnnLayout, type CnnArchitecture } from '../../../src/core/train/cnn/layout';
import { TrainingError, type ProgressEvent, type TrainContext } from '../../../src/core/train/types';
import { CancelledError } from '../../../src/core/runtime/cancel';
import { prng } from './fixtures';
import { checkOnnxValidity, FAST_PARAMS } from './parity-helpers';
import { readMetadata } from '../../../src/core/onnx/builder';
import { readImageMetadata } from '../../../src/core/data/images/modelMetadata';

const META = { runId: 'r', dataVersion: 'v', mlloopVersion: '0' };

interface TorchFixture {
  shape: [number, number, number, number];
  channels: number[];
  dense: number[];
  classes: number;
  labels: number[];
  logits: number[];
  loss: number;
  grads: { weight: number[]; bias: number[] }[];
}
const FIXTURE: TorchFixture = JSON.parse(readFileSync(join(__dirname, 'cnn-torch-fixture.json'), 'utf8'));

/** The formula cnn-torch-fixture.py fills weights with. */
const value = (k: number, seed: number, scale: number) => scale * Math.sin(0.7 * k + seed);

/** NCHW floats of `n` images into lane `lane`'s NHWC input. */
function setInput(engine: CnnEngine, lane: number, x: Float32Array, first: number, n: number, arch: CnnArchitecture) {
  const size = arch.inChannels * arch.height * arch.width;
  const input = engine.laneInput(lane);
  // imageInput reads uint8; the fixture's inputs are floats: transpose NCHW → NHWC here.
  for (let r = 0; r < n; r++)
    for (let c = 0; c < arch.inChannels; c++)
      for (let i = 0; i < arch.height * arch.width; i++)
        input[r * size + i * arch.inChannels + c] = x[(first + r) * size + c * arch.height * arch.width + i];
}

function fixtureEngine(lanes: [number, number], batchNorm = false) {
  const [N, C, H, W] = FIXTURE.shape;
  const arch: CnnArchitecture = {
    height: H,
    width: W,
    inChannels: C,
    channels: FIXTURE.channels,
    dense: FIXTURE.dense,
    classes: FIXTURE.classes,
    batchNorm,
  };
  const engine = new CnnEngine(arch, N, 1);
  const L = engine.layout;
  const shapes = readLayerTensors(engine.f32, L);
  writeLayerTensors(
    engine.f32,
    L,
    shapes.map((t, i) => ({
      weight: Float32Array.from(t.weight, (_, k) => value(k, 10 * i + 1, 0.5)),
      bias: Float32Array.from(t.bias, (_, k) => value(k, 10 * i + 2, 0.1)),
    })),
  );
  // Batch normalisation's scale and shift away from the identity, on the asked channels.
  for (const c of L.convs)
    if (c.gamma >= 0)
      for (let ch = 0; ch < c.coutAsked; ch++) {
        engine.f32[(c.gamma >> 2) + ch] = 1 + 0.2 * Math.sin(ch + 1);
        engine.f32[(c.beta >> 2) + ch] = 0.1 * Math.cos(ch + 1);
      }
  engine.transposeWeights();
  const x = Float32Array.from({ length: N * C * H * W }, (_, k) => ((k * 37) % 101) / 100);
  let first = 0;
  lanes.forEach((count, lane) => {
    setInput(engine, lane, x, first, count, arch);
    engine.laneLabels(lane).set(FIXTURE.labels.slice(first, first + count));
    first += count;
  });
  return { engine, arch, L };
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++)
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= tol * (1 + Math.abs(expected[i])),
      `${what}[${i}]: ${actual[i]} vs ${expected[i]}`,
    );
}

test('every layer forward and backward equals PyTorch (conv, relu, max-pool, dense, softmax cross-entropy; padded channels)', () => {
  const { engine, L } = fixtureEngine([4, 0]);
  const N = FIXTURE.shape[0];
  const loss = engine.gradients(N, 0, false) / N;
  assert.ok(Math.abs(loss - FIXTURE.loss) < 1e-5, `loss ${loss} vs ${FIXTURE.loss}`);
  const stride = L.denses[L.denses.length - 1].nout;
  const logits: number[] = [];
  for (let i = 0; i < N; i++)
    for (let j = 0; j < FIXTURE.classes; j++) logits.push(engine.f32[engine.logitsAt + i * stride + j]);
  assertClose(logits, FIXTURE.logits, 1e-5, 'logits');
  const grads = readLayerTensors(engine.f32, L, L.lanes[0].grads);
  grads.forEach((g, l) => {
    assertClose(g.weight, FIXTURE.grads[l].weight, 1e-5, `layer ${l} (${g.kind}) weight gradient`);
    assertClose(g.bias, FIXTURE.grads[l].bias, 1e-5, `layer ${l} (${g.kind}) bias gradient`);
  });
  engine.dispose();
});

test('a batch split over two lanes gives the same loss and gradients as one lane', () => {
  const one = fixtureEngine([4, 0]);
  const two = fixtureEngine([2, 2]);
  const a = one.engine.gradients(4, 0, false);
  const b = two.engine.gradients(2, 2, false);
  assert.ok(Math.abs(a - b) < 1e-5);
  const ga = readLayerTensors(one.engine.f32, one.L, one.L.lanes[0].grads);
  const gb = readLayerTensors(two.engine.f32, two.L, two.L.lanes[0].grads);
  ga.forEach((g, l) => assertClose(gb[l].weight, g.weight, 1e-5, `layer ${l}`));
});

for (const batchNorm of [false, true])
  test(`every layer gradient agrees with finite differences of the loss${batchNorm ? ' (with batch normalisation: γ and β too)' : ''}`, () => {
    const { engine, L } = fixtureEngine([4, 0], batchNorm);
    const N = FIXTURE.shape[0];
    engine.gradients(N, 0, false);
    const analytic = readLayerTensors(engine.f32, L, L.lanes[0].grads);
    const params = readLayerTensors(engine.f32, L);
    const eps = 1e-2;
    const lossAt = () => engine.gradients(N, 0, false) / N;
    params.forEach((t, l) => {
      let diff = 0;
      let norm = 0;
      for (const [which, arr, grad] of [
        ['weight', t.weight, analytic[l].weight],
        ['bias', t.bias, analytic[l].bias],
      ] as const) {
        // Every bias, and weights spread over the tensor.
        const step = which === 'bias' ? 1 : Math.max(1, Math.floor(arr.length / 12));
        for (let k = 0; k < arr.length; k += step) {
          const keep = arr[k];
          arr[k] = keep + eps;
          writeLayerTensors(engine.f32, L, params);
          const up = lossAt();
          arr[k] = keep - eps;
          writeLayerTensors(engine.f32, L, params);
          const down = lossAt();
          arr[k] = keep;
          writeLayerTensors(engine.f32, L, params);
          const fd = (up - down) / (2 * eps);
          diff += (fd - grad[k]) ** 2;
          norm += grad[k] ** 2;
        }
      }
      assert.ok(
        Math.sqrt(diff) <= 2e-2 * Math.sqrt(norm) + 1e-5,
        `layer ${l} (${t.kind}): ‖fd − analytic‖ ${Math.sqrt(diff)} vs ‖analytic‖ ${Math.sqrt(norm)}`,
      );
    });
  });

test("CNN_DEFAULTS are mlloop.schema.json's defaults", () => {
  assert.deepEqual(readCnnParams(defaultParams('cnn') as unknown as Record<string, unknown>, 0), CNN_DEFAULTS);
});

test('imageInput mirrors and shifts a known image (NCHW uint8 → NHWC [0, 1])', () => {
  // 2 channels of a 2 × 3 image: channel 0 holds 0..5, channel 1 holds 10..15.
  const pixels = Uint8Array.from([0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15], (v) => v * 10);
  const shape = { height: 2, width: 3, inChannels: 2 };
  const read = (flip: boolean, dx: number, dy: number) => {
    const out = new Float32Array(12);
    imageInput(pixels, 0, out, 0, shape, flip, dx, dy);
    // back to channel 0's plane, in units of the stored values
    return Array.from({ length: 6 }, (_, i) => Math.round((out[i * 2] * 255) / 10));
  };
  assert.deepEqual(read(false, 0, 0), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(read(true, 0, 0), [2, 1, 0, 5, 4, 3]);
  assert.deepEqual(read(false, 1, 0), [0, 0, 1, 0, 3, 4]);
  assert.deepEqual(read(false, 0, -1), [3, 4, 5, 0, 0, 0]);
  assert.deepEqual(read(true, -1, 1), [0, 0, 0, 1, 0, 0]);
  const out = new Float32Array(12);
  imageInput(pixels, 0, out, 0, shape, false, 0, 0);
  assert.equal(Math.round(out[1] * 255), 100, 'channel 1 of pixel 0 follows channel 0 (NHWC)');
});

// ---------- training ----------

const SCHEMA: FeatureSchema = {
  task: 'classification',
  target: 'label',
  numeric: [],
  categorical: [],
  classes: ['horizontal', 'vertical', 'none'],
  image: { height: 10, width: 9, channels: 1 },
};

/** Noisy 10 × 9 images: a bright horizontal bar, a vertical bar, or neither. */
function bars(n: number, seed: number, channels: 1 | 3 = 1): Rows {
  const r = prng(seed);
  const H = 10;
  const W = 9;
  const pixels = new Uint8Array(n * channels * H * W);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const label = i % 3;
    y[i] = label;
    const at = Math.floor(r() * 6) + 2;
    for (let c = 0; c < channels; c++)
      for (let yy = 0; yy < H; yy++)
        for (let xx = 0; xx < W; xx++) {
          const on = (label === 0 && yy === at) || (label === 1 && xx === at);
          pixels[((i * channels + c) * H + yy) * W + xx] = Math.min(255, Math.floor(r() * 90) + (on ? 160 : 0));
        }
  }
  return {
    features: { n, numeric: new Float32Array(0), categories: [] },
    y,
    ids: Array.from({ length: n }, (_, i) => `i${i}`),
    rowIndex: Uint32Array.from({ length: n }, (_, i) => i),
    images: { pixels, files: Array.from({ length: n }, (_, i) => `img${i}.png`) },
  };
}

const TRAIN = bars(240, 1);
const DEV = bars(60, 2);

function ctxOf(params: Record<string, unknown>, extra: Partial<TrainContext> = {}): TrainContext {
  return { schema: SCHEMA, train: TRAIN, dev: DEV, params: { ...FAST_PARAMS.cnn, ...params }, seed: 0, ...extra };
}

function accuracy(model: ReturnType<typeof trainCnnWith>, rows: Rows): number {
  const idx = model.predict(rows.features, rows.images).classIndex!;
  let hits = 0;
  for (let i = 0; i < rows.y.length; i++) if (idx[i] === rows.y[i]) hits++;
  return hits / rows.y.length;
}

test('learns bars, reports each epoch, and one thread and two give the same weights', () => {
  const events: ProgressEvent[] = [];
  const params = { epochs: 6, batchSize: 20, dropout: 0.2 };
  let helpers = 0;
  const two = trainCnnWith(ctxOf(params, { onProgress: (e) => events.push(e) }), {
    threads: 2,
    onBatch: () => (helpers = Math.max(helpers, CnnEngine.liveHelpers)),
  });
  assert.equal(helpers, 1, 'a helper thread ran lane 1');
  const one = trainCnnWith(ctxOf(params), { threads: 1 });
  assert.ok(accuracy(two, DEV) >= 0.9, `dev accuracy ${accuracy(two, DEV)}`);
  assert.deepEqual(
    events.map((e) => e.step),
    [1, 2, 3, 4, 5, 6],
  );
  assert.ok(
    events.every((e) => e.metricName === 'accuracy' && Number.isFinite(e.trainLoss) && Number.isFinite(e.devLoss)),
  );
  assert.ok(
    Buffer.from(one.toOnnx(META)).equals(Buffer.from(two.toOnnx(META))),
    'one thread and two threads: same model bytes',
  );
});

test("the optimizer step's two shares cover every parameter and every transposed row once, in about equal halves", () => {
  for (const arch of [
    { height: 28, width: 28, inChannels: 1, channels: [32, 64], dense: [128], classes: 10, batchNorm: false },
    { height: 8, width: 6, inChannels: 3, channels: [5], dense: [], classes: 3, batchNorm: true },
  ]) {
    const L = cnnLayout(arch, 4);
    const shares = optimizerPlan(L);
    const covered = new Uint8Array(L.nParams);
    const transposed = new Map<number, Uint8Array>();
    for (const u of shares.flat()) {
      assert.equal(u.count % 4, 0, 'whole 4-float steps');
      for (let i = u.at >> 2; i < (u.at >> 2) + u.count; i++) covered[i]++;
      if (!u.transpose) continue;
      const [src, rows, cols, dst, first, end] = u.transpose;
      assert.equal(u.at >> 2, src + first * cols, 'a share updates the rows it transposes');
      assert.equal(u.count, (end - first) * cols);
      const rowsDone = transposed.get(dst) ?? new Uint8Array(rows);
      for (let r = first; r < end; r++) rowsDone[r]++;
      transposed.set(dst, rowsDone);
    }
    // Parameters are laid out back to back (4-float aligned): every float once but batch
    // normalisation's running statistics, which no optimizer moves.
    const running = new Uint8Array(L.nParams);
    for (const c of L.convs) if (c.runMean >= 0) running.fill(1, c.runMean >> 2, (c.runVar >> 2) + c.cout);
    covered.forEach((n, i) => assert.equal(n, 1 - running[i], `float ${i} updated ${n} times`));
    const withCopy = [...L.convs, ...L.denses].filter((b) => b.wt >= 0);
    assert.equal(transposed.size, withCopy.length);
    for (const rowsDone of transposed.values()) assert.ok(rowsDone.every((n) => n === 1));
    const [mine, helpers] = shares.map((share) => share.reduce((a, u) => a + u.count, 0));
    assert.ok(Math.abs(mine - helpers) <= 0.1 * L.nParams, `shares ${mine} and ${helpers}`);
  }
});

test('the helper thread is gone after training (and after a failure)', async () => {
  trainCnnWith(ctxOf({ epochs: 1 }), { threads: 2 });
  assert.throws(() => trainCnnWith(ctxOf({ epochs: 3 }, { isCancelled: () => true }), { threads: 2 }));
  // terminate() is asynchronous: give the exits a moment.
  for (let i = 0; i < 50 && CnnEngine.liveHelpers > 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(CnnEngine.liveHelpers, 0);
});

test('deterministic for a seed; another seed or augmentation gives another model', () => {
  const a = trainCnn(ctxOf({ epochs: 2 })) as ReturnType<typeof trainCnnWith>;
  const b = trainCnn(ctxOf({ epochs: 2 })) as ReturnType<typeof trainCnnWith>;
  const c = trainCnn(ctxOf({ epochs: 2, seed: 5 })) as ReturnType<typeof trainCnnWith>;
  const d = trainCnn(ctxOf({ epochs: 2, augment: { flip: true, shift: 1 } })) as ReturnType<typeof trainCnnWith>;
  const e = trainCnn(ctxOf({ epochs: 2, augment: { flip: true, shift: 1 } })) as ReturnType<typeof trainCnnWith>;
  const bytes = [a, b, c, d, e].map((m) => Buffer.from(m.toOnnx(META)));
  assert.ok(bytes[0].equals(bytes[1]), 'same seed, same bytes');
  assert.ok(!bytes[0].equals(bytes[2]), 'another seed');
  assert.ok(!bytes[0].equals(bytes[3]), 'augmentation changes what is learnt');
  assert.ok(bytes[3].equals(bytes[4]), 'augmentation is seeded');
});

test('batch normalisation: learns bars, one thread and two agree, and the folded model predicts as the running statistics do', () => {
  const events: ProgressEvent[] = [];
  const params = { epochs: 5, batchSize: 20, batchNorm: true, earlyStopping: false };
  const two = trainCnnWith(ctxOf(params, { onProgress: (e) => events.push(e) }), { threads: 2 });
  const one = trainCnnWith(ctxOf(params), { threads: 1 });
  assert.ok(
    Buffer.from(one.toOnnx(META)).equals(Buffer.from(two.toOnnx(META))),
    'one thread and two threads: same model bytes',
  );
  const dev = accuracy(two, DEV);
  assert.ok(dev >= 0.9, `dev accuracy ${dev}`);
  // The last epoch's dev accuracy comes from the engine with batch normalisation (running statistics);
  // predict() from the model with it folded into the convolutions.
  assert.equal(dev, events.at(-1)!.devMetric);
});

test('augmented training (flips and shifts) still learns bars', () => {
  const m = trainCnnWith(ctxOf({ epochs: 8, batchSize: 20, augment: { flip: true, shift: 1 } }), { threads: 1 });
  assert.ok(accuracy(m, DEV) >= 0.85, `dev accuracy ${accuracy(m, DEV)}`);
});

test('early stopping on the dev loss stops before the last epoch and keeps the best weights', () => {
  const events: ProgressEvent[] = [];
  trainCnnWith(ctxOf({ epochs: 60, learningRate: 0.05, earlyStopping: 2 }, { onProgress: (e) => events.push(e) }), {
    threads: 1,
  });
  assert.ok(events.length < 60, `${events.length} epochs`);
  const best = Math.min(...events.map((e) => e.devLoss!));
  const lastTwo = events.slice(-2).map((e) => e.devLoss!);
  assert.ok(lastTwo.every((l) => l >= best));
});

test('cancelling throws CancelledError', () => {
  let batches = 0;
  assert.throws(
    () =>
      trainCnnWith(ctxOf({ epochs: 5 }, { isCancelled: () => batches > 3 }), { threads: 1, onBatch: () => batches++ }),
    CancelledError,
  );
});

test('bad input: blocks that pool the image below 1×1, a table project, pixels that disagree with the channels', () => {
  assert.throws(
    () => trainCnn(ctxOf({ channels: [4, 4, 4, 4] })),
    (e: unknown) =>
      e instanceof TrainingError &&
      e.param === 'channels' &&
      /below 1×1/.test(e.message) &&
      /at most 3/.test(e.message),
  );
  assert.throws(
    () => trainCnn(ctxOf({}, { schema: { ...SCHEMA, image: undefined } })),
    (e: unknown) => e instanceof TrainingError && e.param === 'model' && /image project/.test(e.message),
  );
  assert.throws(
    () => trainCnn(ctxOf({}, { schema: { ...SCHEMA, image: { height: 10, width: 9, channels: 3 } } })),
    (e: unknown) => e instanceof TrainingError && e.param === 'channels' && /channel/.test(e.message),
  );
});

test('ONNX export: image in; label, probabilities and embedding out; onnxruntime equals predict() within 1e-4; onnx.checker', async (t) => {
  const rgb: FeatureSchema = { ...SCHEMA, image: { height: 10, width: 9, channels: 3 } };
  const exported: { name: string; bytes: Uint8Array }[] = [];
  for (const [name, schema, train, dev, params] of [
    ['grey', SCHEMA, TRAIN, DEV, { epochs: 3, channels: [6, 5], dense: [7, 5] }],
    ['grey-batch-norm', SCHEMA, TRAIN, DEV, { epochs: 2, channels: [6, 5], dense: [7], batchNorm: true }],
    ['rgb-no-dense', rgb, bars(90, 3, 3), bars(30, 4, 3), { epochs: 2, channels: [4], dense: [] }],
  ] as const) {
    const model = trainCnnWith(
      { schema, train, dev, params: { ...FAST_PARAMS.cnn, ...params }, seed: 0 },
      { threads: 1 },
    );
    const bytes = model.toOnnx(META);
    exported.push({ name, bytes });
    // The preprocessing travels with the model: the server decodes pictures for it from this entry.
    const meta = readMetadata(bytes);
    const pre = readImageMetadata(meta);
    assert.ok(pre, `${name}: no image_preprocessing metadata`);
    assert.deepEqual(
      [pre.input, pre.height, pre.width, pre.channels, pre.scale],
      ['image', 10, 9, schema.image!.channels, 'unit'],
      `${name}: image metadata`,
    );
    assert.equal(meta.classes, JSON.stringify(schema.classes));
    const session = await ort.InferenceSession.create(bytes);
    assert.deepEqual([...session.inputNames], ['image']);
    assert.deepEqual([...session.outputNames].sort(), ['embedding', 'label', 'probabilities']);
    const n = dev.features.n;
    const image = Float32Array.from(dev.images!.pixels, (v) => v / 255);
    const out = await session.run({ image: new ort.Tensor('float32', image, [n, schema.image!.channels, 10, 9]) });
    const js = model.predict(dev.features, dev.images);
    const probs = out.probabilities.data as Float32Array;
    let maxDiff = 0;
    for (let i = 0; i < probs.length; i++) maxDiff = Math.max(maxDiff, Math.abs(probs[i] - js.probabilities![i]));
    assert.ok(maxDiff <= 1e-4, `${name}: max |Δprob| ${maxDiff}`);
    const labels = out.label.data as string[];
    for (let i = 0; i < n; i++)
      assert.equal(labels[i], schema.classes![js.classIndex![i]], `${name}: label of row ${i}`);
    const embeddingWidth = params.dense.length
      ? params.dense[params.dense.length - 1]
      : params.channels[params.channels.length - 1] * 5 * 4;
    assert.deepEqual(out.embedding.dims, [n, embeddingWidth], `${name}: embedding shape`);
  }
  const checked = checkOnnxValidity(exported);
  if (checked === 'no-onnx') t.skip('/usr/bin/python3 has no onnx module');
});
