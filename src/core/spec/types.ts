// TypeScript view of mlloop.json. The JSON Schema beside this file (mlloop.schema.json) is the
// source of truth for validation and editor IntelliSense; these types must describe the same shape.

export type Task = 'classification' | 'regression';
export type ClassificationMetric = 'accuracy' | 'f1' | 'logloss';
export type RegressionMetric = 'rmse' | 'mae' | 'r2';
export type MetricName = ClassificationMetric | RegressionMetric;

export interface FractionSplit {
  dev: number;
  /** Default 0 (no test split). */
  test?: number;
  /** Default 0. */
  seed?: number;
}
export interface ColumnSplit {
  /** A column of the data whose values are train / dev / test. Never a feature. */
  column: string;
}
/** Image folders only: `images/train|dev|test/<class>/…` hold the split. */
export type FoldersSplit = 'folders';
export type SplitSpec = FractionSplit | ColumnSplit | FoldersSplit;

export interface DataSpec {
  /** Relative to the project file. CSV with a header row, or JSON Lines (.jsonl/.ndjson). Absent for image folders (`images`). */
  path?: string;
  /** The column to predict. Image folders: the name of the class column given to scripts (default "label", filled in by parsing). */
  target: string;
  /** Default: every column but the target (and the split column). */
  features?: string[];
  /** Numeric columns to treat as categorical. */
  categorical?: string[];
  /** Default: { dev: 0.2, test: 0.2, seed: 0 } (DEFAULT_SPLIT). */
  split?: SplitSpec;
  /** The features are pixels, row-major, channels last. channels: 1 (default) or 3. */
  image?: { width: number; height: number; channels?: number };
  /** Image folders (relative to the project file): `<class>/<file>`, or `train|dev|test/<class>/<file>` with split "folders". */
  images?: string;
  /** With `path` (a CSV manifest): the column naming each image file, relative to the CSV. */
  imageColumn?: string;
  /** Image projects: a folder of unlabelled images (relative to the project file) that "find similar images" searches. */
  unlabelled?: string;
  /** [height, width] every image is resized to. Default: the most common size in the data. */
  imageSize?: [number, number];
  /** 1 (grey) or 3 (RGB). Default: 3 when any image is in colour, else 1. */
  channels?: 1 | 3;
}

/** The project's examples are image files (folders or a manifest), not rows of numbers. */
export function isImageProject(spec: ProjectSpec): boolean {
  return spec.data.images !== undefined || spec.data.imageColumn !== undefined;
}
/** The class column's name when an image-folder project gives none. */
export const DEFAULT_IMAGE_TARGET = 'label';

export const BUILTIN_MODELS = ['linear', 'logistic', 'mlp', 'gbdt', 'cnn'] as const;
export type BuiltinModel = (typeof BUILTIN_MODELS)[number];

export interface BuiltinExperiment {
  model: BuiltinModel;
  description?: string;
  params?: Record<string, unknown>;
  sweep?: Record<string, unknown[]>;
  /** Train on this cluster of `clusters` (SLURM) instead of on the editor's machine. */
  cluster?: string;
}

/** `earlyStopping`: a patience (epochs/iterations without dev improvement); false or 0 = off; true = 10. */
export type EarlyStopping = number | boolean;
export interface LinearParams {
  l2: number;
}
export interface LogisticParams {
  l2: number;
  maxIter: number;
  tol: number;
}
export interface MlpParams {
  hidden: number[];
  activation: 'relu' | 'tanh';
  optimizer: 'adam' | 'sgd';
  learningRate: number;
  momentum: number;
  batchSize: number;
  epochs: number;
  l2: number;
  dropout: number;
  earlyStopping: EarlyStopping;
  seed: number;
}
export interface GbdtParams {
  iterations: number;
  learningRate: number;
  /** 0 = no depth limit (trees are bounded by maxLeaves). */
  maxDepth: number;
  maxLeaves: number;
  minSamplesLeaf: number;
  l2: number;
  /** At most 255. */
  maxBins: number;
  earlyStopping: EarlyStopping;
}
/** Train-time augmentation of the CNN: each epoch sees each training image randomly changed. */
export interface CnnAugment {
  /** Mirror left-right with probability 1/2. */
  flip: boolean;
  /** Move by up to this many pixels in x and y (zeros shifted in). */
  shift: number;
}
export interface CnnParams {
  /** Output channels of each convolution block (3×3 conv, ReLU, 2×2 max-pool). */
  channels: number[];
  /** Batch normalisation after each convolution. */
  batchNorm: boolean;
  /** Units of each dense hidden layer after the blocks. */
  dense: number[];
  dropout: number;
  optimizer: 'adam' | 'sgd';
  learningRate: number;
  lrSchedule: 'constant' | 'cosine';
  momentum: number;
  batchSize: number;
  epochs: number;
  l2: number;
  earlyStopping: EarlyStopping;
  augment: CnnAugment;
  seed: number;
}
/** Parameters of each built-in model once schema defaults are applied (see resolveParams). */
export interface ModelParams {
  linear: LinearParams;
  logistic: LogisticParams;
  mlp: MlpParams;
  gbdt: GbdtParams;
  cnn: CnnParams;
}
export interface ScriptExperiment {
  /** argv, no shell. */
  command: string[];
  description?: string;
  cwd?: string;
  env?: Record<string, string>;
  params?: Record<string, unknown>;
  sweep?: Record<string, unknown[]>;
  /** Train on this cluster of `clusters` (SLURM) instead of on the editor's machine. */
  cluster?: string;
}
export type ExperimentSpec = BuiltinExperiment | ScriptExperiment;

/** A SLURM cluster runs (`clusters.NAME`): the sbatch options of its jobs and the shell lines that prepare a node. */
export interface SlurmCluster {
  kind: 'slurm';
  partition?: string;
  gres?: string;
  cpusPerTask?: number;
  /** sbatch --mem, e.g. "32G". */
  memory?: string;
  /** sbatch --time, e.g. "02:00:00". */
  time?: string;
  /** Shell lines run on the node before the command (module load, source a venv). */
  setup?: string[];
  /** Extra sbatch arguments, e.g. ["--account=ml"]. */
  sbatch?: string[];
  /** Array tasks of a sweep running at once (`--array=0-N%P`); default all. */
  parallel?: number;
}

export interface ProjectSpec {
  $schema?: string;
  name: string;
  description?: string;
  task: Task;
  data: DataSpec;
  metric: MetricName;
  baseline?: { error: number; source?: string };
  experiments: Record<string, ExperimentSpec>;
  clusters?: Record<string, SlurmCluster>;
}

export function isScriptExperiment(e: ExperimentSpec): e is ScriptExperiment {
  return Array.isArray((e as ScriptExperiment).command);
}
export function isColumnSplit(s: SplitSpec): s is ColumnSplit {
  return typeof s === 'object' && typeof (s as ColumnSplit).column === 'string';
}
export function isFoldersSplit(s: SplitSpec): s is FoldersSplit {
  return s === 'folders';
}

/** The split used when mlloop.json gives none. */
export const DEFAULT_SPLIT: Required<FractionSplit> = { dev: 0.2, test: 0.2, seed: 0 };
