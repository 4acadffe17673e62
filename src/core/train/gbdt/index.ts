// `gbdt`: histogram-based gradient-boosted decision trees (as LightGBM and scikit-learn's
// HistGradientBoosting*): squared error for regression, log loss for binary classification,
// softmax (one tree per class per iteration) for multi-class. Missing values are handled natively
// (a learned direction per split), so preprocessing only one-hot encodes categories.

import { availableParallelism } from 'node:os';
import type { TrainContext, TrainedModel } from '../types';
import { TrainingError } from '../types';
import {
  checkClassificationTarget,
  checkLoss,
  checkRegressionTarget,
  makeTrainedModel,
  numberParam,
  ProgressGate,
} from '../pipeline';
import { Preprocessor } from '../preprocess';
import { BinMapper } from './binning';
import { TreeGrower, type GrowOptions } from './grower';
import type { GradientSums } from './workspace';
import { binaryLogLoss, softmaxLoss, squaredError, type BoostingLoss } from './losses';
import { GbdtCore } from './model';
import { DEV_BINARY, DEV_SOFTMAX, DEV_SQUARED, DevEvaluator } from './devEval';
import type { Tree } from './tree';

/** Parameter defaults (the JSON Schema documents the same). maxDepth 0 means no depth limit; earlyStopping 0/false means off. */
export const GBDT_DEFAULTS = {
  iterations: 100,
  learningRate: 0.1,
  maxDepth: 0,
  maxLeaves: 31,
  minSamplesLeaf: 20,
  l2: 0,
  maxBins: 255,
  earlyStopping: 0,
};

/** Patience used when earlyStopping is simply `true`. */
export const DEFAULT_PATIENCE = 10;
/** Training rows × dense columns from which histograms are built on two threads. */
const PARALLEL_MIN_CELLS = 1_000_000;
/** A dev loss must improve by more than this (relative) to count as an improvement. */
const EARLY_STOPPING_TOL = 1e-7;

export interface GbdtParams extends GrowOptions {
  iterations: number;
  maxBins: number;
  /** Iterations without dev-loss improvement before stopping; 0 = off. */
  patience: number;
}

export function readGbdtParams(params: Record<string, unknown>): GbdtParams {
  const maxDepth =
    params.maxDepth === null ? 0 : numberParam(params, 'maxDepth', GBDT_DEFAULTS.maxDepth, { min: 0, integer: true });
  const es = params.earlyStopping ?? GBDT_DEFAULTS.earlyStopping;
  let patience: number;
  if (typeof es === 'boolean') patience = es ? DEFAULT_PATIENCE : 0;
  else patience = numberParam(params, 'earlyStopping', 0, { min: 0, integer: true });
  return {
    iterations: numberParam(params, 'iterations', GBDT_DEFAULTS.iterations, { min: 1, integer: true }),
    learningRate: numberParam(params, 'learningRate', GBDT_DEFAULTS.learningRate, { above: 0 }),
    maxDepth: maxDepth === 0 ? Infinity : maxDepth,
    maxLeaves: numberParam(params, 'maxLeaves', GBDT_DEFAULTS.maxLeaves, { min: 2, integer: true }),
    minSamplesLeaf: numberParam(params, 'minSamplesLeaf', GBDT_DEFAULTS.minSamplesLeaf, { min: 1, integer: true }),
    l2: numberParam(params, 'l2', GBDT_DEFAULTS.l2, { min: 0 }),
    maxBins: numberParam(params, 'maxBins', GBDT_DEFAULTS.maxBins, { min: 2, max: 255, integer: true }),
    patience,
  };
}

export function trainGbdt(ctx: TrainContext): TrainedModel {
  const p = readGbdtParams(ctx.params);
  const { schema } = ctx;
  const classification = schema.task === 'classification';
  const nClasses = classification ? checkClassificationTarget(ctx) : 0;
  if (!classification) checkRegressionTarget(ctx);
  const n = ctx.train.features.n;
  if (n === 0) throw new TrainingError('The train split is empty', 'data');
  const gate = new ProgressGate(ctx);

  const pre = Preprocessor.fit(schema, ctx.train.features, { standardize: false, impute: false });
  const d = pre.outputDim;
  // Read only (binning, the checks below): the caller's own array when there is nothing to transform.
  const X = pre.transformForReading(ctx.train.features);
  for (let i = 0; i < X.length; i++) {
    if (X[i] === Infinity || X[i] === -Infinity) {
      throw new TrainingError(
        `Feature "${pre.outputNames[i % d]}" is ${X[i]} in train row ${Math.floor(i / d)}; gbdt accepts finite values or missing (NaN)`,
        'features',
      );
    }
  }
  const mapper = BinMapper.fit(X, n, d, p.maxBins, ctx.seed);
  gate.checkCancelled();

  const loss: BoostingLoss = !classification ? squaredError : nClasses === 2 ? binaryLogLoss : softmaxLoss(nClasses);
  const k = loss.k;
  const init = loss.initialScores(ctx.train.y);

  const devN = ctx.dev.features.n;
  const devX = devN > 0 ? pre.transformForReading(ctx.dev.features) : new Float32Array(0);
  const devY = ctx.dev.y;
  const patience = devN > 0 ? p.patience : 0;
  // Made first: its helper thread (large dev sets) boots while the rows are binned. Stopped below in
  // every case.
  const devKind = !classification ? DEV_SQUARED : nClasses === 2 ? DEV_BINARY : DEV_SOFTMAX;
  const dev = devN > 0 ? new DevEvaluator(devKind, devX, devN, d, devY, init, k) : undefined;

  // A second thread takes half of the work when the data is large enough to repay it.
  const threads = n * d >= PARALLEL_MIN_CELLS && availableParallelism() > 1 ? 2 : 1;
  // The rows are binned straight into the grower's memory.
  let grower: TreeGrower;
  try {
    grower = new TreeGrower((into) => mapper.transform(X, n, into), n, mapper, { ...p, threads, scoreColumns: k });
  } catch (e) {
    dev?.stop();
    throw e;
  }
  // Scores and targets live in the grower's (shared) memory, where both threads compute gradients.
  const { scores, y } = grower;
  y.set(ctx.train.y);
  for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) scores[i * k + c] = init[c];
  // The log loss costs a logarithm per row: without a progress listener (a learning curve's fits, a
  // benchmark) it is not summed. Its gradients are bounded, so a NaN in their sums is how it diverges.
  const listening = gate.listening;
  /** The next iteration's gradients; returns the train loss of the current scores (see above). */
  const nextGradients = (): { trainLoss: number; sums?: GradientSums } => {
    // Softmax: every class's gradients at once (each class's tree takes its own below).
    if ('softmax' in loss) return { trainLoss: grower.softmaxGradients() / n };
    const sums = grower.gradients(loss.rangeGradients, listening);
    // A loss left unsummed (0) is still NaN when its gradients are.
    return { trainLoss: Number.isNaN(sums.g) ? NaN : n > 0 ? sums.loss / n : 0, sums };
  };
  const trees: Tree[] = [];
  let bestDevLoss = Infinity;
  let bestIteration = 0;
  let iteration = 0;
  try {
    let next = nextGradients();
    while (iteration < p.iterations) {
      iteration++;
      for (let c = 0; c < k; c++) {
        gate.checkCancelled();
        const tree = grower.grow(next.sums ?? grower.columnGradients(c));
        trees.push(tree);
        grower.addToScores(tree, c);
      }
      const devFit = dev?.add(trees.slice(-k));
      // The next iteration's gradients, and this iteration's train loss in the same pass (one
      // gradient pass more than needed in all, which costs less than a separate loss pass each time).
      next = nextGradients();
      const trainLoss = next.trainLoss;
      checkLoss(trainLoss, iteration, 'iteration');
      const devLoss = devFit?.loss;
      const metric = dev && devFit ? devMetric(classification, dev.scores, devY, devFit.correct) : undefined;
      let stop = false;
      if (devLoss !== undefined) {
        if (devLoss < bestDevLoss - EARLY_STOPPING_TOL * Math.abs(bestDevLoss)) {
          bestDevLoss = devLoss;
          bestIteration = iteration;
        } else if (patience > 0 && iteration - bestIteration >= patience) {
          stop = true;
        }
      }
      // The stopping iteration is always reported, past the rate limit.
      gate.report(
        {
          step: iteration,
          totalSteps: p.iterations,
          trainLoss,
          devLoss,
          devMetric: metric?.value,
          metricName: metric?.name,
        },
        stop,
      );
      if (stop) break;
    }
  } finally {
    dev?.stop();
    grower.dispose();
  }
  const kept = patience > 0 ? bestIteration : iteration;
  const keptTrees = trees.slice(0, kept * k);
  const core = classification
    ? classificationCore(nClasses, d, keptTrees, init)
    : new GbdtCore('regression', d, keptTrees, new Int32Array(keptTrees.length), Float32Array.from(init));
  const model = makeTrainedModel('gbdt', schema, pre, core);
  // Early stopping dropped the last iterations' trees from the model, not from the sums.
  if (dev && kept === iteration) model.fitted = { dev: core.predictionOf(devScoresOf(core, dev.sums, devN), devN) };
  return model;
}

/**
 * The model's raw dev scores from the float32 sums of its trees' leaf values per score column (k of
 * them): each plus its column's base value, as GbdtCore.scores adds it last; binary models' score
 * column 0, which no tree adds to, is its base value.
 */
function devScoresOf(core: GbdtCore, sums: Float32Array, n: number): Float32Array {
  const K = core.nTargets;
  const k = sums.length / n;
  const out = new Float32Array(n * K);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < K - k; c++) out[i * K + c] = core.base[c];
    for (let c = 0; c < k; c++) out[i * K + K - k + c] = sums[i * k + c] + core.base[K - k + c];
  }
  return out;
}

/** Binary: the single logit becomes score column 1 next to a constant 0 (softmax of [0, f] is [1 - σ(f), σ(f)]). */
function classificationCore(nClasses: number, d: number, trees: Tree[], init: Float64Array): GbdtCore {
  if (nClasses === 2)
    return new GbdtCore('classification', d, trees, new Int32Array(trees.length).fill(1), Float32Array.of(0, init[0]));
  const target = Int32Array.from(trees, (_, t) => t % nClasses);
  return new GbdtCore('classification', d, trees, target, Float32Array.from(init));
}

/** Regression: the root mean squared error of the scores; classification: the accuracy, from the count of rows predicted right. */
function devMetric(
  classification: boolean,
  scores: Float64Array,
  y: Float64Array,
  correct: number,
): { name: string; value: number } {
  const n = y.length;
  if (!classification) {
    let s = 0;
    for (let i = 0; i < n; i++) s += (scores[i] - y[i]) ** 2;
    return { name: 'rmse', value: Math.sqrt(s / n) };
  }
  return { name: 'accuracy', value: correct / n };
}
