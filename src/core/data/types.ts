// The data contract between loading (src/core/data) and training/evaluation (src/core/train, …).
// It mirrors the ONNX input contract of every model ML Loop makes:
//   `features`   float32 [N, F]  numeric features in the project's feature order, missing = NaN
//   `categories` string  [N, K]  categorical features, missing = ''

import type { Task } from '../spec/types';

export interface FeatureSchema {
  task: Task;
  target: string;
  /** Numeric feature columns, in order (the columns of `features`). */
  numeric: string[];
  /** Categorical feature columns, in order (the columns of `categories`). */
  categorical: string[];
  /** Classification only: class names in class-index order (sorted, stable). */
  classes?: string[];
  /** Image projects: the model takes one input `image` float32 [N, C, H, W] in [0, 1] (numeric and
   *  categorical are then empty); rows carry their pixels in `Rows.images`. */
  image?: ImageShape;
}

export interface ImageShape {
  height: number;
  width: number;
  channels: 1 | 3;
}

/** The images of N rows, preprocessed (src/core/data/images/preprocess.ts). */
export interface ImageRows {
  /** uint8 [N, C, H, W]. */
  pixels: Uint8Array;
  /** The image files, relative to the project folder, in row order. */
  files: string[];
  /** A manifest's other columns (not the file, target or split column): their names, and per row
   *  `values[row * columns.length + k]` ('' where empty). Absent for image folders. */
  metadata?: { columns: string[]; values: string[] };
}

/** Raw (unencoded) feature values of N rows, row-major, exactly what the ONNX model takes. */
export interface RawFeatures {
  n: number;
  /** n * numeric.length values, NaN where missing. */
  numeric: Float32Array;
  /** n * categorical.length values, '' where missing. */
  categories: string[];
}

export interface Rows {
  features: RawFeatures;
  /** Classification: class index (into schema.classes). Regression: target value. */
  y: Float64Array;
  /** Stable example ids: a content hash of the source row (survives re-splits). */
  ids: string[];
  /** 0-based data-row index in the source file (header excluded); image projects: index in the listing. */
  rowIndex: Uint32Array;
  /** Image projects only. */
  images?: ImageRows;
}

export interface SplitDataset {
  schema: FeatureSchema;
  train: Rows;
  dev: Rows;
  test: Rows;
  /** Content hash of the data file plus the split definition. */
  version: DataVersion;
}

export interface DataVersion {
  /** sha256 (hex) of the data file's bytes. */
  fileHash: string;
  /** sha256 (hex) of the split definition (fractions+seed, or the split column). */
  splitHash: string;
  /** Short id shown to users: first 12 hex chars of sha256(fileHash + splitHash). */
  id: string;
  /** Derived versions only (extra training rows or label fixes, src/core/data/dataVersions): the version it extends. */
  parent?: string;
}

/** Predictions for N rows. Classification fills `classIndex` and `probabilities`; regression `values`. */
export interface Prediction {
  classIndex?: Int32Array;
  /** n * classes.length, row-major, columns in schema.classes order. */
  probabilities?: Float32Array;
  values?: Float32Array;
}
