// Shapes of the learning and validation curves, shared by the verdict, the charts, the CLI and the
// panels (kept apart from learningCurve.ts, which starts worker threads).

export interface CurvePoint {
  /** Fraction of the training split used (learning curve). */
  fraction: number;
  /** Training rows used. */
  trainSize: number;
  trainError: number;
  devError: number;
}

export interface LearningCurve {
  metric: string;
  points: CurvePoint[];
  /** Wall time of the whole curve (every retraining), ms. */
  durationMs: number;
  /** What the cache is keyed by: data version, model, parameters, seed, fractions. */
  key: string;
}

export interface ValidationPoint {
  /** The parameter's value, as written in mlloop.json. */
  value: unknown;
  label: string;
  trainError: number;
  devError: number;
}

export interface ValidationCurve {
  metric: string;
  param: string;
  points: ValidationPoint[];
  durationMs: number;
}
