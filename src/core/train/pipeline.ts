// Glue shared by every model kind: a ModelCore (the model proper, working on preprocessed dense rows)
// plus the Preprocessor make a TrainedModel whose predict() and ONNX export take raw features.
// Also the small helpers every trainer needs: parameter checks, bounded-rate progress, cancellation,
// and the check that no NaN/Infinity reaches a model that cannot handle it.

import type { BuiltinModel } from '../spec/types';
import type { FeatureSchema } from '../data/types';
import { OnnxGraphBuilder } from '../onnx/builder';
import { imageMetadata } from '../data/images/modelMetadata';
import { Preprocessor } from './preprocess';
import {
  TrainingError,
  type ModelMetadata,
  type Prediction,
  type ProgressEvent,
  type TrainContext,
  type TrainedModel,
} from './types';
import { CancelledError } from '../runtime/cancel';

export interface ModelCore {
  /** Predictions on preprocessed rows (n × pre.outputDim, row-major). */
  predictDense(X: Float32Array, n: number): Prediction;
  /** Adds the model's nodes reading `dense` [N, D] and declares the contract outputs (see outputs.ts). */
  appendOnnx(b: OnnxGraphBuilder, dense: string, schema: FeatureSchema): void;
}

/** Metadata keys written into every model's metadata_props. */
export function modelMetadata(kind: BuiltinModel, schema: FeatureSchema, meta: ModelMetadata): Record<string, string> {
  const m: Record<string, string> = {
    task: schema.task,
    model: kind,
    target: schema.target,
    features: JSON.stringify(schema.numeric),
    categories: JSON.stringify(schema.categorical),
  };
  if (schema.task === 'classification') m.classes = JSON.stringify(schema.classes ?? []);
  m.run_id = meta.runId;
  m.data_version = meta.dataVersion;
  m.mlloop_version = meta.mlloopVersion;
  // Image models carry their preprocessing, so the server (and Triton clients) feed them pictures as trained.
  if (schema.image) Object.assign(m, imageMetadata(schema.image));
  return m;
}

export function makeTrainedModel(
  kind: BuiltinModel,
  schema: FeatureSchema,
  pre: Preprocessor,
  core: ModelCore,
): TrainedModel {
  return {
    model: kind,
    schema,
    predict(features) {
      // Cores only read the dense rows: no copy where preprocessing changes nothing.
      return core.predictDense(pre.transformForReading(features), features.n);
    },
    toOnnx(meta) {
      const b = new OnnxGraphBuilder(`mlloop_${kind}`);
      const dense = pre.appendOnnx(b);
      core.appendOnnx(b, dense, schema);
      return b.build(modelMetadata(kind, schema, meta));
    },
  };
}

// ---------- parameters ----------

interface NumberRule {
  /** Inclusive lower bound. */
  min?: number;
  /** Exclusive lower bound. */
  above?: number;
  max?: number;
  integer?: boolean;
}

/** Reads a numeric parameter (defaults are applied upstream; `fallback` covers direct calls). */
export function numberParam(
  params: Record<string, unknown>,
  name: string,
  fallback: number,
  rule: NumberRule = {},
): number {
  const raw = params[name] ?? fallback;
  if (typeof raw !== 'number' || !Number.isFinite(raw))
    throw new TrainingError(`Parameter "${name}" must be a finite number (got ${JSON.stringify(raw)})`, name);
  if (rule.integer && !Number.isInteger(raw))
    throw new TrainingError(`Parameter "${name}" must be an integer (got ${raw})`, name);
  if (rule.min !== undefined && raw < rule.min)
    throw new TrainingError(`Parameter "${name}" must be ≥ ${rule.min} (got ${raw})`, name);
  if (rule.above !== undefined && raw <= rule.above)
    throw new TrainingError(`Parameter "${name}" must be > ${rule.above} (got ${raw})`, name);
  if (rule.max !== undefined && raw > rule.max)
    throw new TrainingError(`Parameter "${name}" must be ≤ ${rule.max} (got ${raw})`, name);
  return raw;
}

/** `earlyStopping` as a patience: false or 0 turn it off, true means 10 (as mlloop.schema.json says). */
export function patienceParam(params: Record<string, unknown>, fallback: number | false): number | false {
  const raw = params.earlyStopping ?? fallback;
  if (raw === false || raw === 0) return false;
  if (raw === true) return 10;
  return numberParam({ earlyStopping: raw }, 'earlyStopping', 10, { min: 1, integer: true });
}

export function booleanParam(params: Record<string, unknown>, name: string, fallback: boolean): boolean {
  const raw = params[name] ?? fallback;
  if (typeof raw !== 'boolean')
    throw new TrainingError(`Parameter "${name}" must be true or false (got ${JSON.stringify(raw)})`, name);
  return raw;
}

export function choiceParam<T extends string>(
  params: Record<string, unknown>,
  name: string,
  fallback: T,
  choices: readonly T[],
): T {
  const raw = params[name] ?? fallback;
  if (typeof raw !== 'string' || !choices.includes(raw as T)) {
    throw new TrainingError(
      `Parameter "${name}" must be one of ${choices.join(', ')} (got ${JSON.stringify(raw)})`,
      name,
    );
  }
  return raw as T;
}

// ---------- targets and data checks ----------

/** Number of classes of a classification problem; throws when the train target has fewer than two. */
export function checkClassificationTarget(ctx: TrainContext): number {
  const classes = ctx.schema.classes ?? [];
  if (classes.length < 2)
    throw new TrainingError(
      `The target "${ctx.schema.target}" has ${classes.length} class(es); classification needs at least two`,
      'target',
    );
  const seen = new Set<number>();
  for (const y of ctx.train.y) {
    if (!Number.isInteger(y) || y < 0 || y >= classes.length)
      throw new TrainingError(
        `Class index ${y} of the target "${ctx.schema.target}" is not one of the ${classes.length} classes`,
        'target',
      );
    seen.add(y);
  }
  if (seen.size < 2) {
    throw new TrainingError(
      `The train split's target "${ctx.schema.target}" has a single class (${classes[[...seen][0] ?? 0]}); classification needs at least two`,
      'target',
    );
  }
  return classes.length;
}

export function checkRegressionTarget(ctx: TrainContext): void {
  for (const y of ctx.train.y) {
    if (!Number.isFinite(y))
      throw new TrainingError(
        `The target "${ctx.schema.target}" has a missing or non-finite value in the train split`,
        'target',
      );
  }
}

/** Throws when a value that preprocessing left non-finite would reach a model that cannot handle it. */
export function assertFiniteDense(X: Float32Array, n: number, pre: Preprocessor): void {
  const d = pre.outputDim;
  for (let i = 0; i < n * d; i++) {
    if (!Number.isFinite(X[i])) {
      throw new TrainingError(
        `Feature "${pre.outputNames[i % d]}" is ${X[i]} in train row ${Math.floor(i / d)} after preprocessing; this model needs finite values`,
        'features',
      );
    }
  }
}

/** Throws a divergence error naming the step when a loss is NaN or infinite. */
export function checkLoss(loss: number, step: number, unit = 'epoch'): void {
  if (!Number.isFinite(loss)) {
    throw new TrainingError(
      `Training diverged: the loss became ${loss} at ${unit} ${step}; try a smaller learning rate or more regularization`,
      undefined,
      step,
    );
  }
}

// ---------- progress and cancellation ----------

/** Runs of at most this many epochs/iterations report each one (a few hundred small messages). */
export const EVERY_STEP_LIMIT = 1000;

/**
 * Forwards progress at most once every `minIntervalMs` (always the first and the last step), and
 * checks cancellation on every call, throwing CancelledError.
 */
export class ProgressGate {
  private last = -Infinity;
  constructor(
    private readonly ctx: Pick<TrainContext, 'onProgress' | 'isCancelled'>,
    private readonly minIntervalMs = 50,
  ) {}

  /** Whether anyone receives the reports: a trainer may skip computing what only they show. */
  get listening(): boolean {
    return this.ctx.onProgress !== undefined;
  }

  /** Throws CancelledError when the run was cancelled. Cheap: call it often. */
  checkCancelled(): void {
    if (this.ctx.isCancelled?.()) throw new CancelledError('Training');
  }

  report(e: ProgressEvent, force = false): void {
    this.checkCancelled();
    if (!this.ctx.onProgress) return;
    const now = Date.now();
    const isLast = e.totalSteps !== undefined && e.step >= e.totalSteps;
    // Short runs report every step: the training curves get a point per epoch (the host throttles what it draws).
    const everyStep = e.totalSteps !== undefined && e.totalSteps <= EVERY_STEP_LIMIT;
    if (!force && !isLast && !everyStep && e.step !== 1 && now - this.last < this.minIntervalMs) return;
    this.last = now;
    try {
      this.ctx.onProgress(e);
    } catch {
      // A listener's failure must not stop training.
    }
  }
}
