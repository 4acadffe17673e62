// TypeScript view of mlloop.json. The JSON Schema beside this file (mlloop.schema.json) is the
// source of truth for validation and editor IntelliSense; these types must describe the same shape.

export type Task = 'classification' | 'regression';
export type ClassificationMetric = 'accuracy' | 'f1' | 'logloss';
export type RegressionMetric = 'rmse' | 'mae' | 'r2';
export type MetricName = ClassificationMetric | RegressionMetric;

export interface FractionSplit {
  dev: number;
  test?: number;
  seed?: number;
}
export interface ColumnSplit {
  /** A column of the data whose values are train / dev / test. Never a feature. */
  column: string;
}
export type SplitSpec = FractionSplit | ColumnSplit;

export interface DataSpec {
  /** Relative to the project file. CSV with a header row, or JSON Lines (.jsonl/.ndjson). */
  path: string;
  target: string;
  /** Default: every column but the target (and the split column). */
  features?: string[];
  /** Numeric columns to treat as categorical. */
  categorical?: string[];
  split?: SplitSpec;
  image?: { width: number; height: number; channels?: number };
}

export type BuiltinModel = 'linear' | 'logistic' | 'mlp' | 'gbdt';

export interface BuiltinExperiment {
  model: BuiltinModel;
  params?: Record<string, unknown>;
  sweep?: Record<string, unknown[]>;
}
export interface ScriptExperiment {
  command: string[];
  cwd?: string;
  env?: Record<string, string>;
  params?: Record<string, unknown>;
  sweep?: Record<string, unknown[]>;
}
export type ExperimentSpec = BuiltinExperiment | ScriptExperiment;

export interface ProjectSpec {
  name: string;
  task: Task;
  data: DataSpec;
  metric: MetricName;
  baseline?: { error: number; source?: string };
  experiments: Record<string, ExperimentSpec>;
}

export function isScriptExperiment(e: ExperimentSpec): e is ScriptExperiment {
  return Array.isArray((e as ScriptExperiment).command);
}
export function isColumnSplit(s: SplitSpec): s is ColumnSplit {
  return typeof (s as ColumnSplit).column === 'string';
}
