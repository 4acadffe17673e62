// Augmentation of image projects aimed at what error analysis found: for a tag or a slice (the
// "kind" of image that fails), the transforms that make training images look like that kind are
// proposed from what the kind's images measure against the training images (darker → brightness
// below 1, flatter → contrast below 1, blurrier → blur) and from the tag's words ("rotated", "noisy",
// "cropped"…), plus mild flips, rotations and shifts. A seeded plan draws `count` source training
// images and each one's transform parameters; the planned images are rendered for a preview and,
// when the user accepts, written as PNG files in a new data version with their provenance (source
// image, transforms with parameters). The project's images are never written.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { mulberry32 } from '../data/prng';
import type { ImageShape, Rows, SplitDataset } from '../data/types';
import { imageProperties } from '../data/images/properties';
import { preprocessImage } from '../data/images/preprocess';
import { planarToInterleaved } from '../data/images/pixels';
import {
  applyTransforms,
  decodeForTransform,
  describeTransform,
  encodeRawPng,
  type ImageTransform,
  type RawImage,
  type TransformOp,
} from '../data/images/transforms';
import type { NewVersionImage } from '../data/dataVersions';
import { CancelledError } from '../runtime/cancel';
import type { AugmentSource } from './augment';
import { imageSliceView } from './imageSlices';
import { parseSliceKey, sliceRows } from './slices';
import type { TagStore } from './tags';

/** A transform the plan may apply, how often, with which parameter range, and why it was proposed. */
export interface TransformProposal {
  op: TransformOp;
  /** Chance (0-1) that a new image gets this transform. */
  probability: number;
  /**
   * Range the parameter is drawn from, uniformly: brightness/contrast factor, rotate ± degrees (max),
   * shift ± share of the side (max), crop kept share (min, max), blur σ in model pixels, noise σ (share of 0-255).
   */
  range?: [number, number];
  why: string;
}

/** Mean measured properties of a set of images (on their preprocessed pixels). */
export interface PropertyMeans {
  brightness: number;
  contrast: number;
  sharpness: number;
}

export interface PlannedImage {
  /** Row of the training split it is made from. */
  row: number;
  /** Source file, relative to the project folder. */
  file: string;
  id: string;
  label: string;
  transforms: ImageTransform[];
}

export interface ImageAugmentPlan {
  source: AugmentSource;
  count: number;
  seed: number;
  /** Examples (dev and training) of the tag or slice: what the new images should look like. */
  kindExamples: number;
  /** Training images the new ones are made from, and whether they are the kind's own or its classes'. */
  sources: number;
  sourcesAre: 'kind' | 'classes';
  kind: PropertyMeans;
  training: PropertyMeans;
  proposals: TransformProposal[];
  items: PlannedImage[];
}

/** Below this many training images of the kind itself, the kind's classes' training images are the sources. */
const MIN_KIND_SOURCES = 5;

function meansOf(rows: Rows, shape: ImageShape, which: readonly number[]): PropertyMeans {
  const size = shape.height * shape.width * shape.channels;
  const sum = { brightness: 0, contrast: 0, sharpness: 0 };
  for (const i of which) {
    const p = imageProperties(
      rows.images!.pixels.subarray(i * size, (i + 1) * size),
      shape.height,
      shape.width,
      shape.channels,
    );
    sum.brightness += p.brightness;
    sum.contrast += p.contrast;
    sum.sharpness += p.sharpness;
  }
  const n = Math.max(1, which.length);
  return { brightness: sum.brightness / n, contrast: sum.contrast / n, sharpness: sum.sharpness / n };
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
const f2 = (x: number) => x.toFixed(2);

/** Words in a tag that ask for a transform the measured properties cannot see (or confirm one). */
const WORDS: { re: RegExp; op: TransformOp; range?: [number, number]; probability: number }[] = [
  { re: /dark|dim|night|shadow|under-?expos/i, op: 'brightness', range: [0.4, 0.75], probability: 0.9 },
  { re: /bright|over-?expos|glare|washed/i, op: 'brightness', range: [1.3, 1.8], probability: 0.9 },
  { re: /blur|focus|motion|soft/i, op: 'blur', range: [0.6, 1.4], probability: 0.9 },
  { re: /contrast|fog|haz|faded|flat/i, op: 'contrast', range: [0.4, 0.75], probability: 0.9 },
  { re: /nois|grain|speck|jpeg|artefact|artifact/i, op: 'noise', range: [0.03, 0.08], probability: 0.9 },
  { re: /rotat|tilt|angle|skew/i, op: 'rotate', range: [0, 25], probability: 0.9 },
  { re: /flip|mirror/i, op: 'flip', probability: 0.5 },
  { re: /crop|partial|cut|zoom|close-?up/i, op: 'crop', range: [0.6, 0.85], probability: 0.9 },
  { re: /shift|off-?cent|corner|edge/i, op: 'shift', range: [0, 0.2], probability: 0.9 },
];

/**
 * The transforms for a kind of image (`kind`'s mean properties) against the training images it will
 * be made from (`training`), and the tag's words (`name`). Measured differences decide brightness,
 * contrast and blur; words add what cannot be measured; mild flips, rotations and shifts vary the rest.
 */
export function proposeTransforms(kind: PropertyMeans, training: PropertyMeans, name = ''): TransformProposal[] {
  const out = new Map<TransformOp, TransformProposal>();
  const ratio = (a: number, b: number) => (b > 1e-6 ? a / b : 1);
  // Brightness and contrast: factors around the measured ratio (±15 %), when it is off by more than that.
  for (const [op, lower, higher] of [
    ['brightness', 'darker', 'brighter'],
    ['contrast', 'flatter', 'harsher'],
  ] as const) {
    const r = ratio(kind[op], training[op]);
    if (r >= 0.87 && r <= 1.15) continue;
    out.set(op, {
      op,
      probability: 0.9,
      range: [clamp(r * 0.85, 0.05, 4), clamp(r * 1.15, 0.05, 4)],
      why: `${r < 1 ? lower : higher} images: mean ${op} ${f2(kind[op])} vs ${f2(training[op])} in training`,
    });
  }
  const s = ratio(kind.sharpness, training.sharpness);
  if (s < 0.75)
    out.set('blur', {
      op: 'blur',
      probability: 0.9,
      // The blurrier the kind, the wider the blur (in model pixels).
      range: s < 0.4 ? [1, 2] : [0.5, 1.2],
      why: `blurrier images: mean sharpness ${f2(kind.sharpness)} vs ${f2(training.sharpness)} in training`,
    });
  for (const w of WORDS) {
    if (!w.re.test(name) || out.has(w.op)) continue;
    out.set(w.op, {
      op: w.op,
      probability: w.probability,
      ...(w.range ? { range: w.range } : {}),
      why: `the tag's words ("${name}")`,
    });
  }
  const mild: TransformProposal[] = [
    { op: 'flip', probability: 0.5, why: 'variety: mirror images' },
    { op: 'rotate', probability: 0.5, range: [0, 10], why: 'variety: small rotations' },
    { op: 'shift', probability: 0.5, range: [0, 0.08], why: 'variety: small shifts' },
  ];
  for (const m of mild) if (!out.has(m.op)) out.set(m.op, m);
  return [...out.values()];
}

/** 32-bit seed of item k of a plan (noise per image). */
function itemSeed(seed: number, k: number): number {
  return (Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(k + 1, 0x85ebca6b)) >>> 0;
}

/** Draws one image's transforms from the proposals (at least one: the likeliest when the draw gave none). */
export function drawTransforms(
  proposals: readonly TransformProposal[],
  rand: () => number,
  seed: number,
): ImageTransform[] {
  const uniform = (r: [number, number] | undefined, lo: number, hi: number) => {
    const [a, b] = r ?? [lo, hi];
    return a + (b - a) * rand();
  };
  const draw = (p: TransformProposal): ImageTransform => {
    switch (p.op) {
      case 'flip':
        return { op: 'flip' };
      case 'rotate': {
        const max = p.range?.[1] ?? 10;
        const min = p.range?.[0] ?? 0;
        const deg = min + (max - min) * rand();
        return { op: 'rotate', degrees: Number((rand() < 0.5 ? -deg : deg).toFixed(2)) };
      }
      case 'shift': {
        const max = p.range?.[1] ?? 0.08;
        return {
          op: 'shift',
          dx: Number(((rand() * 2 - 1) * max).toFixed(3)),
          dy: Number(((rand() * 2 - 1) * max).toFixed(3)),
        };
      }
      case 'crop':
        return {
          op: 'crop',
          scale: Number(uniform(p.range, 0.8, 1).toFixed(3)),
          x: Number(rand().toFixed(3)),
          y: Number(rand().toFixed(3)),
        };
      case 'brightness':
        return { op: 'brightness', factor: Number(uniform(p.range, 0.7, 1.3).toFixed(3)) };
      case 'contrast':
        return { op: 'contrast', factor: Number(uniform(p.range, 0.7, 1.3).toFixed(3)) };
      case 'blur':
        return { op: 'blur', sigma: Number(uniform(p.range, 0.5, 1.2).toFixed(2)) };
      case 'noise':
        return { op: 'noise', sigma: Number(uniform(p.range, 0.02, 0.06).toFixed(3)), seed };
    }
  };
  const chosen = proposals.filter((p) => rand() < p.probability);
  if (!chosen.length && proposals.length)
    chosen.push(proposals.reduce((a, b) => (b.probability > a.probability ? b : a)));
  // Geometry first, then photometric changes, then noise (as a camera would add it last).
  const order: TransformOp[] = ['flip', 'rotate', 'shift', 'crop', 'blur', 'brightness', 'contrast', 'noise'];
  return chosen.sort((a, b) => order.indexOf(a.op) - order.indexOf(b.op)).map(draw);
}

/** Training and dev rows of the tag or slice. */
async function kindRows(
  dataset: SplitDataset,
  projectDir: string,
  source: AugmentSource,
  tags: TagStore,
): Promise<{ train: number[]; dev: number[] }> {
  if ('tag' in source) {
    const has = (id: string) => tags[id]?.includes(source.tag) ?? false;
    const pick = (rows: Rows) => rows.ids.flatMap((id, i) => (has(id) ? [i] : []));
    return { train: pick(dataset.train), dev: pick(dataset.dev) };
  }
  const conditions = parseSliceKey(source.slice);
  const inSplit = async (split: 'train' | 'dev') => {
    const view = await imageSliceView(dataset, projectDir, split);
    return sliceRows(view.schema, view.rows, conditions);
  };
  return { train: await inSplit('train'), dev: await inSplit('dev') };
}

const sourceName = (s: AugmentSource) => ('tag' in s ? `tag "${s.tag}"` : `slice ${s.slice}`);

/**
 * The plan of `count` new training images for a tag or slice: which training images they are made
 * from, with which transforms. Deterministic for the dataset, tags, source, count, seed and proposals.
 * `proposals`: the user's edit of the proposed transforms (default: proposeTransforms').
 */
export async function planImageAugmentation(opts: {
  dataset: SplitDataset;
  projectDir: string;
  source: AugmentSource;
  tags: TagStore;
  count: number;
  seed: number;
  proposals?: TransformProposal[];
}): Promise<ImageAugmentPlan> {
  const { dataset, source, count, seed } = opts;
  const shape = dataset.schema.image;
  if (!shape || !dataset.train.images)
    throw new Error('Image augmentation needs an image project (data.images or data.imageColumn)');
  if (!Number.isInteger(count) || count < 1 || count > 100_000)
    throw new Error(`The count must be a whole number from 1 to 100000, not ${count}`);
  const kind = await kindRows(dataset, opts.projectDir, source, opts.tags);
  const examples = kind.train.length + kind.dev.length;
  if (!examples) throw new Error(`No training or dev image is in the ${sourceName(source)}: nothing to aim at`);
  let sources = kind.train;
  let sourcesAre: ImageAugmentPlan['sourcesAre'] = 'kind';
  // The kind's classes, weighted by how often each appears in the kind.
  const classWeight = new Map<number, number>();
  for (const i of kind.train) classWeight.set(dataset.train.y[i], (classWeight.get(dataset.train.y[i]) ?? 0) + 1);
  for (const i of kind.dev) classWeight.set(dataset.dev.y[i], (classWeight.get(dataset.dev.y[i]) ?? 0) + 1);
  if (sources.length < MIN_KIND_SOURCES) {
    sourcesAre = 'classes';
    sources = [];
    for (let i = 0; i < dataset.train.features.n; i++) if (classWeight.has(dataset.train.y[i])) sources.push(i);
  }
  if (!sources.length)
    throw new Error(`No training image of the ${sourceName(source)}'s classes to make new images from`);
  const kindMeans = meansOf({ ...dataset.dev, images: dataset.dev.images! }, shape, kind.dev);
  if (kind.train.length) {
    // Both splits' kind images count, each by its number.
    const t = meansOf(dataset.train, shape, kind.train);
    const w = kind.train.length / examples;
    for (const k of ['brightness', 'contrast', 'sharpness'] as const)
      kindMeans[k] = kind.dev.length ? kindMeans[k] * (1 - w) + t[k] * w : t[k];
  }
  const training = meansOf(dataset.train, shape, sources);
  const proposals = opts.proposals ?? proposeTransforms(kindMeans, training, 'tag' in source ? source.tag : '');
  // Sources drawn per class in the kind's class proportions (kind sources: uniformly).
  const byClass = new Map<number, number[]>();
  for (const i of sources) byClass.set(dataset.train.y[i], [...(byClass.get(dataset.train.y[i]) ?? []), i]);
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  const weights = classes.map((c) => (sourcesAre === 'kind' ? byClass.get(c)!.length : (classWeight.get(c) ?? 0)));
  const total = weights.reduce((a, b) => a + b, 0);
  const rand = mulberry32(seed ^ 0x6a09e667);
  const classNames = dataset.schema.classes ?? [];
  const items: PlannedImage[] = [];
  for (let k = 0; k < count; k++) {
    let u = rand() * total;
    let ci = 0;
    while (ci < classes.length - 1 && u >= weights[ci]) u -= weights[ci++];
    const pool = byClass.get(classes[ci])!;
    const row = pool[Math.floor(rand() * pool.length)];
    items.push({
      row,
      file: dataset.train.images.files[row],
      id: dataset.train.ids[row],
      label: classNames[dataset.train.y[row]] ?? String(dataset.train.y[row]),
      transforms: drawTransforms(proposals, rand, itemSeed(seed, k)),
    });
  }
  return {
    source,
    count,
    seed,
    kindExamples: examples,
    sources: sources.length,
    sourcesAre,
    kind: kindMeans,
    training,
    proposals,
    items,
  };
}

/** Blur is planned in model pixels; the file may be larger: its σ is scaled to the file's size. */
function atFileScale(t: ImageTransform, img: RawImage, shape: ImageShape): ImageTransform {
  if (t.op !== 'blur') return t;
  return { op: 'blur', sigma: Number((t.sigma * Math.max(1, img.width / shape.width)).toFixed(2)) };
}

/** One planned image rendered from its source file: the pixels and the transforms as applied. */
export async function renderPlannedImage(
  projectDir: string,
  item: PlannedImage,
  shape: ImageShape,
): Promise<{ image: RawImage; applied: ImageTransform[] }> {
  const src = await decodeForTransform(await readFile(resolve(projectDir, item.file)), shape.channels);
  const applied = item.transforms.map((t) => atFileScale(t, src, shape));
  return { image: await applyTransforms(src, applied), applied };
}

export interface PreviewImage {
  label: string;
  /** Source file (relative to the project). */
  file: string;
  transforms: string;
  /** The source and the new image, preprocessed as the model sees them, channels last (HWC). */
  before: number[];
  after: number[];
}

/** The first `n` planned images, before and after, at the model's size (what the preview grid draws). */
export async function previewPlan(
  plan: ImageAugmentPlan,
  projectDir: string,
  dataset: SplitDataset,
  n = 16,
): Promise<PreviewImage[]> {
  const shape = dataset.schema.image!;
  const size = shape.height * shape.width * shape.channels;
  const out: PreviewImage[] = [];
  for (const item of plan.items.slice(0, n)) {
    const { image, applied } = await renderPlannedImage(projectDir, item, shape);
    const after = (await preprocessImage(await encodeRawPng(image), shape)).pixels;
    out.push({
      label: item.label,
      file: item.file,
      transforms: applied.map(describeTransform).join(', '),
      before: Array.from(
        planarToInterleaved(dataset.train.images!.pixels.subarray(item.row * size, (item.row + 1) * size), 0, shape),
      ),
      after: Array.from(planarToInterleaved(after, 0, shape)),
    });
  }
  return out;
}

/** Every planned image rendered as a PNG with its provenance, for writeDataVersion. */
export async function renderPlan(
  plan: ImageAugmentPlan,
  projectDir: string,
  shape: ImageShape,
  onProgress?: (done: number, total: number) => void,
  signal?: AbortSignal,
): Promise<NewVersionImage[]> {
  const out: NewVersionImage[] = [];
  for (const item of plan.items) {
    if (signal?.aborted) throw new CancelledError('The augmentation');
    const { image, applied } = await renderPlannedImage(projectDir, item, shape);
    out.push({
      bytes: await encodeRawPng(image),
      label: item.label,
      source: { file: item.file, id: item.id },
      transforms: applied.map((t) => ({ ...t })),
    });
    if (out.length % 25 === 0) onProgress?.(out.length, plan.items.length);
  }
  onProgress?.(out.length, plan.items.length);
  return out;
}
