// What a script run is given: the resolved splits as CSV files, the feature and class order, the
// parameters as a JSON file and as `--name value` arguments. Written into the run folder
// (`<run>/inputs/`) so the run keeps exactly what its script trained on.
// Image projects: the split CSVs are manifests (`path` = absolute image file, the target = class
// name), and .npy files hold ML Loop's preprocessed images (uint8 [N, C, H, W]) and class indices
// (int64 [N]) in the manifests' order, for scripts that want exactly ML Loop's preprocessing.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { toCsv } from '../data/reader';
import type { FeatureSchema, Rows, SplitDataset } from '../data/types';
import { writeNpy } from './npy';

export interface ScriptInputs {
  train: string;
  dev: string;
  test: string;
  features: string;
  classes?: string;
  params: string;
  /** Image projects: per split, the images (uint8 [N, C, H, W]) and labels (int64 [N]) as .npy. */
  images?: { train: string; dev: string; test: string };
  labels?: { train: string; dev: string; test: string };
}

/** The environment variables that name the inputs (plus the run folder). */
export function inputEnv(inputs: ScriptInputs, runDir: string): Record<string, string> {
  return {
    MLLOOP_RUN_DIR: runDir,
    MLLOOP_TRAIN: inputs.train,
    MLLOOP_DEV: inputs.dev,
    MLLOOP_TEST: inputs.test,
    MLLOOP_FEATURES: inputs.features,
    MLLOOP_PARAMS: inputs.params,
    ...(inputs.classes ? { MLLOOP_CLASSES: inputs.classes } : {}),
    ...(inputs.images
      ? {
          MLLOOP_TRAIN_IMAGES: inputs.images.train,
          MLLOOP_DEV_IMAGES: inputs.images.dev,
          MLLOOP_TEST_IMAGES: inputs.images.test,
        }
      : {}),
    ...(inputs.labels
      ? {
          MLLOOP_TRAIN_LABELS: inputs.labels.train,
          MLLOOP_DEV_LABELS: inputs.labels.dev,
          MLLOOP_TEST_LABELS: inputs.labels.test,
        }
      : {}),
  };
}

/**
 * `--lr 0.001 --epochs 30 --hidden 128`: strings and numbers as they are, booleans as true/false,
 * arrays and objects as JSON (the JSON file in MLLOOP_PARAMS keeps every type exactly).
 */
export function paramArgs(params: Record<string, unknown>): string[] {
  const args: string[] = [];
  for (const [name, value] of Object.entries(params)) {
    args.push(`--${name}`, typeof value === 'string' ? value : JSON.stringify(value));
  }
  return args;
}

/**
 * One split as CSV: the numeric features, then the categorical ones, then the target (the class
 * name for classification), under the project's column names. Missing values are empty cells.
 * Float32 feature values are written in full so a float32 parse gives back the exact value ML Loop
 * feeds the model.
 */
export function splitCsv(schema: FeatureSchema, rows: Rows): string {
  const F = schema.numeric.length;
  const K = schema.categorical.length;
  const header = [...schema.numeric, ...schema.categorical, schema.target];
  const data: (string | number)[][] = new Array(rows.features.n);
  for (let i = 0; i < rows.features.n; i++) {
    const row: (string | number)[] = new Array(F + K + 1);
    for (let f = 0; f < F; f++) {
      const v = rows.features.numeric[i * F + f];
      row[f] = Number.isNaN(v) ? '' : v;
    }
    for (let k = 0; k < K; k++) row[F + k] = rows.features.categories[i * K + k];
    row[F + K] = schema.task === 'classification' ? schema.classes![rows.y[i]] : rows.y[i];
    data[i] = row;
  }
  return toCsv([header, ...data]);
}

/** An image split as a manifest: `path` (absolute image file), then the target (class name). */
export function imageManifestCsv(schema: FeatureSchema, rows: Rows, projectDir: string): string {
  const files = rows.images?.files ?? [];
  const data = files.map((f, i) => [resolve(projectDir, f), schema.classes![rows.y[i]]]);
  return toCsv([['path', schema.target], ...data]);
}

/** Writes the inputs of a script run into `<runDir>/inputs/`. `projectDir` resolves image paths. */
export function writeScriptInputs(
  runDir: string,
  dataset: SplitDataset,
  params: Record<string, unknown>,
  projectDir = '.',
): ScriptInputs {
  const dir = join(runDir, 'inputs');
  mkdirSync(dir, { recursive: true });
  const { schema } = dataset;
  const inputs: ScriptInputs = {
    train: join(dir, 'train.csv'),
    dev: join(dir, 'dev.csv'),
    test: join(dir, 'test.csv'),
    features: join(dir, 'features.json'),
    params: join(dir, 'params.json'),
  };
  if (schema.image) {
    const { height, width, channels } = schema.image;
    inputs.images = {
      train: join(dir, 'train_images.npy'),
      dev: join(dir, 'dev_images.npy'),
      test: join(dir, 'test_images.npy'),
    };
    inputs.labels = {
      train: join(dir, 'train_labels.npy'),
      dev: join(dir, 'dev_labels.npy'),
      test: join(dir, 'test_labels.npy'),
    };
    for (const s of ['train', 'dev', 'test'] as const) {
      const rows = dataset[s];
      const n = rows.features.n;
      writeFileSync(inputs[s], imageManifestCsv(schema, rows, projectDir));
      writeNpy(
        inputs.images[s],
        { dtype: 'uint8', data: rows.images!.pixels.subarray(0, n * channels * height * width) },
        [n, channels, height, width],
      );
      writeNpy(
        inputs.labels[s],
        { dtype: 'int64', data: BigInt64Array.from(rows.y.subarray(0, n), (v) => BigInt(v)) },
        [n],
      );
    }
    // The model's input: `image` float32 [N, C, H, W] in [0, 1].
    writeFileSync(
      inputs.features,
      JSON.stringify({ image: { height, width, channels }, target: schema.target, task: schema.task }, null, 2) + '\n',
    );
  } else {
    writeFileSync(inputs.train, splitCsv(schema, dataset.train));
    writeFileSync(inputs.dev, splitCsv(schema, dataset.dev));
    writeFileSync(inputs.test, splitCsv(schema, dataset.test));
    // The `features` input's columns in order, the `categories` input's, and the target column.
    writeFileSync(
      inputs.features,
      JSON.stringify(
        { numeric: schema.numeric, categorical: schema.categorical, target: schema.target, task: schema.task },
        null,
        2,
      ) + '\n',
    );
  }
  if (schema.task === 'classification') {
    inputs.classes = join(dir, 'classes.json');
    writeFileSync(inputs.classes, JSON.stringify(schema.classes ?? []) + '\n');
  }
  writeFileSync(inputs.params, JSON.stringify(params, null, 2) + '\n');
  return inputs;
}
