// The data profile: what `ml-loop profile --json` prints and what the Data panel draws.
import type { ImageShape } from './types';

export interface NumericColumnStats {
  kind: 'numeric';
  min: number;
  max: number;
  mean: number;
  std: number;
  /** Equal-width histogram over [min, max]. */
  histogram: { edges: number[]; counts: number[] };
}

export interface CategoricalColumnStats {
  kind: 'categorical';
  /** Most frequent values first (at most 20). */
  topValues: { value: string; count: number }[];
}

export interface ColumnProfile {
  name: string;
  role: 'feature' | 'target' | 'split' | 'ignored';
  count: number;
  missing: number;
  distinct: number;
  /** True when the column has more distinct values than are counted exactly (`distinct` is then a lower bound). */
  distinctIsLowerBound?: boolean;
  /** Numeric columns: cells that are not numbers (an error unless the column is categorical). */
  invalid?: number;
  constant: boolean;
  stats: NumericColumnStats | CategoricalColumnStats;
}

export interface ProfileFinding {
  severity: 'error' | 'warning' | 'information';
  code:
    | 'duplicate-rows'
    | 'leakage-rows'
    | 'constant-column'
    | 'suspected-leakage-feature'
    | 'class-imbalance'
    | 'missing-values'
    | string;
  message: string;
  column?: string;
  /** Findings about a data-file line (e.g. a non-numeric value): that 1-based line. */
  line?: number;
}

export interface DataProfile {
  file: string;
  rows: number;
  columns: ColumnProfile[];
  /** Classification only: rows per class, over the whole file and per split. */
  classBalance?: { class: string; total: number; train: number; dev: number; test: number }[];
  split: { train: number; dev: number; test: number };
  duplicateRows: number;
  /** Rows whose content appears both in train and in dev or test. */
  leakageRows: number;
  findings: ProfileFinding[];
  /** Image-file projects (data.images / data.imageColumn): the audit. */
  images?: ImageAudit;
  /** For data.image projects: a few example rows per class (raw pixel values, row-major). */
  imageSamples?: { width: number; height: number; channels: number; byClass: { class: string; pixels: number[][] }[] };
  dataVersion: string;
  /** Rows left out of every split (missing target, or a split-column value that is not train/dev/test). */
  unsplitRows?: number;
  task?: 'classification' | 'regression';
  target?: string;
  durationMs: number;
}

// The image audit (src/core/data/images/audit.ts): an image project's profile carries it in `images`.

export type ImageIssue =
  | 'unreadable'
  | 'exact-duplicate'
  | 'near-duplicate'
  | 'dark'
  | 'light'
  | 'blurry'
  | 'low-information'
  | 'odd-size'
  | 'odd-aspect'
  | 'grayscale';

export interface Histogram {
  edges: number[];
  counts: number[];
}

export interface ImageClassStats {
  class: string;
  count: number;
  split: { train: number; dev: number; test: number };
  /** Example files (relative to the project), for the grid. */
  samples: string[];
  brightness: Histogram;
  /** log10 of the Laplacian variance. */
  sharpness: Histogram;
  /** Source sizes, most common first: "HxW". */
  sizes: { size: string; count: number }[];
}

export interface ImagePair {
  a: string;
  b: string;
  splitA: string;
  splitB: string;
  /** Perceptual-hash distance in bits (0 = same picture). */
  distance: number;
}

export interface ImageAuditFinding extends ProfileFinding {
  issue: ImageIssue;
  /** Every file it names (relative to the project), at most LISTED. */
  files: string[];
  /** Duplicate findings: the pairs, side by side. */
  pairs?: ImagePair[];
  /** How many images (or pairs) in all. */
  count: number;
}

export interface ImageAudit {
  settings: ImageShape;
  settingsFromData: { size: boolean; channels: boolean };
  images: number;
  unreadable: number;
  /** Source modes: grey, grey+alpha, rgb, rgba, palette, 16-bit, with EXIF rotation. */
  modes: Record<string, number>;
  /** Source sizes over the dataset, most common first. */
  sizes: { size: string; count: number }[];
  classes: ImageClassStats[];
  findings: ImageAuditFinding[];
  cacheHit: boolean;
  /** Small copies of the images the findings name (the first PREVIEWS of each), for the Data panel. */
  previews?: ImagePreviews;
}

/** Thumbnails: pixel values channels last (as data.image rows), all of one size. */
export interface ImagePreviews {
  width: number;
  height: number;
  channels: number;
  byFile: Record<string, number[]>;
}
