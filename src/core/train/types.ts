// The contract every built-in trainer implements. Trainers are pure (no I/O, no vscode) and run
// inside a worker thread (src/worker/train.ts); the host only sees progress events and the result.

import type { BuiltinModel } from '../spec/types';
import type { FeatureSchema, ImageRows, Prediction, RawFeatures, Rows } from '../data/types';

export interface ProgressEvent {
  /** Epoch (mlp) or boosting iteration (gbdt) or optimizer iteration (logistic), 1-based. */
  step: number;
  totalSteps?: number;
  trainLoss?: number;
  devLoss?: number;
  /** Dev value of the project's metric at this step, when computed. */
  devMetric?: number;
  metricName?: string;
}

export interface TrainContext {
  schema: FeatureSchema;
  train: Rows;
  dev: Rows;
  /** Resolved parameters (defaults from the JSON Schema already applied). */
  params: Record<string, unknown>;
  seed: number;
  /** Called at a bounded rate; never throws back into the trainer. */
  onProgress?: (e: ProgressEvent) => void;
  /** Checked at least once per epoch/iteration and at least once a second. */
  isCancelled?: () => boolean;
}

// What a model answers for N rows is data (src/core/data/types), shared with the ONNX predictor.
export type { Prediction };

export interface ModelMetadata {
  runId: string;
  dataVersion: string;
  mlloopVersion: string;
}

export interface TrainedModel {
  model: BuiltinModel;
  schema: FeatureSchema;
  /** Image models (schema.image) read the rows' pixels from `images`. */
  predict(features: RawFeatures, images?: ImageRows): Prediction;
  /** Serialized ONNX ModelProto honouring the input/output contract (preprocessing included). */
  toOnnx(meta: ModelMetadata): Uint8Array;
  /**
   * Predictions the fit has already made, each equal to predict() on those rows, bit for bit: `dev`,
   * of the dev rows the trainer was given (TrainContext.dev). A job's evaluation takes them instead
   * of predicting those rows again.
   */
  fitted?: { dev?: Prediction };
}

export type Trainer = (ctx: TrainContext) => TrainedModel | Promise<TrainedModel>;

export class TrainingError extends Error {
  constructor(
    message: string,
    /** The offending parameter, when one is to blame. */
    readonly param?: string,
    /** The epoch/iteration at which training failed (e.g. divergence). */
    readonly step?: number,
  ) {
    super(message);
    this.name = 'TrainingError';
  }
}
