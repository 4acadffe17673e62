// Error Analysis slices for image projects: not raw pixel thresholds but what each dev image has —
// brightness, contrast, sharpness, information (entropy), colourfulness for RGB, the file's size and
// aspect ratio, its folder, and a manifest's metadata columns — as the columns findSlices bins.
import { dirname, resolve } from 'node:path';
import { readFile } from 'node:fs/promises';
import { imageProperties } from '../data/images/properties';
import { readImageInfo, uprightSize } from '../data/images/preprocess';
import type { FeatureSchema, Rows, SplitDataset } from '../data/types';

export interface SliceView {
  schema: FeatureSchema;
  rows: Rows;
}

const PIXEL_PROPERTIES = ['brightness', 'contrast', 'sharpness', 'entropy'] as const;

/** The dev rows (or another split's) of an image dataset as slice-able columns (other projects: the dataset's own). */
export async function imageSliceView(
  dataset: SplitDataset,
  projectDir: string,
  split: 'train' | 'dev' = 'dev',
): Promise<SliceView> {
  const { schema } = dataset;
  const dev = dataset[split];
  const img = schema.image;
  if (!img || !dev.images) return { schema, rows: dev };
  const n = dev.features.n;
  const size = img.height * img.width * img.channels;
  const numericNames = [
    ...PIXEL_PROPERTIES,
    ...(img.channels === 3 ? ['colourfulness'] : []),
    'width',
    'height',
    'aspect',
  ];
  const F = numericNames.length;
  const numeric = new Float32Array(n * F).fill(NaN);
  // Categorical: the folder, then a manifest's metadata columns (a name taken already gets " (manifest)").
  const metadata = dev.images.metadata;
  const M = metadata?.columns.length ?? 0;
  const taken = new Set([...numericNames, 'folder']);
  const categoricalNames = ['folder', ...(metadata?.columns ?? []).map((c) => (taken.has(c) ? `${c} (manifest)` : c))];
  const categories: string[] = [];
  for (let i = 0; i < n; i++) {
    const p = imageProperties(
      dev.images.pixels.subarray(i * size, (i + 1) * size),
      img.height,
      img.width,
      img.channels,
    );
    PIXEL_PROPERTIES.forEach((name, k) => (numeric[i * F + k] = p[name]));
    if (img.channels === 3) numeric[i * F + 4] = p.colourfulness;
    categories.push(dirname(dev.images.files[i]));
    for (let k = 0; k < M; k++) categories.push(metadata!.values[i * M + k]);
  }
  // The files' own sizes (before resizing): their headers only.
  await Promise.all(
    dev.images.files.map(async (file, i) => {
      try {
        const u = uprightSize(await readImageInfo(await readFile(resolve(projectDir, file))));
        numeric[i * F + F - 3] = u.width;
        numeric[i * F + F - 2] = u.height;
        numeric[i * F + F - 1] = u.width / u.height;
      } catch {
        // A file changed or removed since the run: its size is missing (NaN), like a missing value.
      }
    }),
  );
  return {
    schema: {
      task: schema.task,
      target: schema.target,
      numeric: numericNames,
      categorical: categoricalNames,
      ...(schema.classes ? { classes: schema.classes } : {}),
    },
    rows: { features: { n, numeric, categories }, y: dev.y, ids: dev.ids, rowIndex: dev.rowIndex },
  };
}
