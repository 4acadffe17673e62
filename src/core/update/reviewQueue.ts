// Production requests worth a human look, queued for tagging so that production problems become
// tags (src/core/analysis/tags) and then data: the requests of the last window that are
//   - low-confidence: the top class probability below a threshold, or
//   - drifted: a value of a drifted feature outside the training range, an unseen category, or in a
//     histogram bin the window over-represents (at least twice its training share).
// Every row of a request of several rows is judged on its own (item `row`, shown as `<id>#<row>`).
// The queue is `.mlloop/review-queue.json` in the project, deduplicated by example id. An item's id
// is the content hash of its feature values and its feedback label ('' without one), as the
// production rows of Retrain with Production Data are (productionData.ts), so a tag given here
// follows the example into the promotion gate's per-tag comparison once it is labelled the same
// (and a tag given before the label came is carried over: productionData's `unlabelledIds`).
// The Error Analysis panel lists the queue as its Production source (productionQueueOf below).
// Image deployments: one item per logged picture, judged on its properties (./productionImages.ts).
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { FeatureSchema, Rows } from '../data/types';
import type { FeatureDrift } from '../monitor/types';
import { logFiles } from '../requestLog/log';
import { FeedbackLabels } from '../serve/feedback';
import { feedbackFiles, instancesOf, labelValue, productionExampleId, rowRef } from './productionData';
import { REVIEW_QUEUE_FILE } from '../spec/layout';
import { productionImageId, reviewImagePath, reviewImagePixels, type ReviewImage } from './productionImages';
import { preprocessImage } from '../data/images/preprocess';
import { MONITORED_CHANNELS, MONITORED_PROPERTIES, monitoredProperties } from '../data/images/properties';
import type { ImageShape } from '../data/types';
import { loggedImagesOf, readLoggedImage } from '../requestLog/images';

export type ReviewReason = 'low-confidence' | 'drift';

export interface ReviewItem {
  id: string;
  requestId: string;
  /** The row of a request of several rows (0-based); absent for a single-row request. */
  row?: number;
  deployment: string;
  /** The run that served the request, when the log names it. */
  run?: string;
  time: string;
  reasons: ReviewReason[];
  /** Which drifted features put it in the queue, and why. */
  drift?: string[];
  /** Image requests: the picture's properties (brightness, …). */
  features: Record<string, number | string | null>;
  /** Image requests: the picture. */
  image?: ReviewImage;
  predicted?: string | number;
  confidence?: number;
  /** The feedback label, when one came. */
  label?: string;
  /** How unusual the row is (ranking; higher first): 1 − confidence, plus for each drifted feature 1 + how far outside
   *  the training range it is (in training ranges), 1 for an unseen category, 0.25 in an over-represented range. */
  unusual?: number;
}

/** What `ml-loop review --json` prints. */
export interface ReviewResult {
  deployment: string;
  /** Requests of the window that need review. */
  selected: number;
  /** Of those, left out of the queue by the limit (the least unusual). */
  leftOut?: number;
  /** Of those, not queued before. */
  added: number;
  /** Items in the queue now. */
  queued: number;
  items: ReviewItem[];
  file: string;
}

export interface ReviewOptions {
  logDir: string;
  deployment: string;
  schema: FeatureSchema;
  /** Features of the latest report (their histograms tell which values are over-represented). */
  features?: FeatureDrift[];
  /** Top class probability below this is low-confidence (default 0.6). */
  lowConfidence?: number;
  /** The last N logged requests (default 1000). */
  window?: number;
  /** Most items returned, most unusual first (default: all). */
  limit?: number;
}

async function* records(files: string[]): AsyncGenerator<Record<string, unknown>> {
  for (const f of files) {
    for await (const line of createInterface({ input: createReadStream(f, 'utf8'), crlfDelay: Infinity })) {
      try {
        const v = JSON.parse(line) as unknown;
        if (v && typeof v === 'object' && !Array.isArray(v)) yield v as Record<string, unknown>;
      } catch {
        // a truncated line (crash mid-write): skipped
      }
    }
  }
}

type RowPrediction = { predicted?: string | number; confidence?: number };

/** Predicted label (or value) and top probability of each of the `rows` rows of a logged response (/predict or /infer outputs). */
export function predictionsOf(outputs: unknown, rows: number): RowPrediction[] {
  const out: RowPrediction[] = Array.from({ length: rows }, () => ({}));
  if (Array.isArray(outputs)) {
    outputs.slice(0, rows).forEach((p, i) => {
      if (!p || typeof p !== 'object') return;
      const r = p as Record<string, unknown>;
      const probs =
        r.probabilities && typeof r.probabilities === 'object'
          ? Object.values(r.probabilities as Record<string, unknown>).filter((v): v is number => typeof v === 'number')
          : [];
      const predicted =
        typeof r.label === 'string' ? r.label : typeof r.prediction === 'number' ? r.prediction : undefined;
      out[i] = {
        ...(predicted !== undefined ? { predicted } : {}),
        ...(probs.length ? { confidence: Math.max(...probs) } : {}),
      };
    });
  } else if (outputs && typeof outputs === 'object') {
    const o = outputs as Record<string, unknown>;
    const flat = (v: unknown) => (Array.isArray(v) ? (v.flat(3) as unknown[]) : []);
    const labels = flat(o.label);
    const values = flat(o.prediction);
    const probs = flat(o.probabilities);
    const C = probs.length / rows;
    for (let i = 0; i < rows; i++) {
      const label = labels.length === rows ? labels[i] : undefined;
      const value = values.length === rows ? values[i] : undefined;
      const p =
        Number.isInteger(C) && C > 0
          ? probs.slice(i * C, (i + 1) * C).filter((v): v is number => typeof v === 'number')
          : [];
      out[i] = {
        ...(typeof label === 'string' ? { predicted: label } : typeof value === 'number' ? { predicted: value } : {}),
        ...(p.length ? { confidence: Math.max(...p) } : {}),
      };
    }
  }
  return out;
}

/** Predicted label and top probability of a logged single-row response. */
export function predictionOf(outputs: unknown): RowPrediction {
  return predictionsOf(outputs, 1)[0];
}

/** Why a value of a drifted feature is suspicious, or undefined. */
export function driftReason(f: FeatureDrift, value: number | string): string | undefined {
  const h = f.histogram;
  if (typeof value === 'string') {
    if (f.unseenCategories && value in f.unseenCategories) return `${f.name} = ${value} never seen in training`;
    const k = h.categories?.indexOf(value) ?? -1;
    if (k >= 0 && h.current[k] >= 2 * h.reference[k] && h.current[k] > 0)
      return `${f.name} = ${value} over-represented`;
    return undefined;
  }
  const e = h.edges;
  if (!e || e.length < 2 || Number.isNaN(value)) return undefined;
  if (value < e[0] || value > e[e.length - 1]) return `${f.name} = ${value} outside the training range`;
  let bin = e.length - 2;
  for (let i = 1; i < e.length; i++) {
    if (value <= e[i]) {
      bin = i - 1;
      break;
    }
  }
  if (h.current[bin] >= 2 * h.reference[bin] && h.current[bin] > 0)
    return `${f.name} = ${value} in an over-represented range`;
  return undefined;
}

/** How much a value of a drifted feature adds to a row's unusualness (see ReviewItem.unusual). */
export function driftWeight(f: FeatureDrift, value: number | string, why: string): number {
  const e = f.histogram.edges;
  if (typeof value === 'number' && e && e.length >= 2 && (value < e[0] || value > e[e.length - 1])) {
    const width = e[e.length - 1] - e[0] || 1;
    return 1 + Math.min(10, (value < e[0] ? e[0] - value : value - e[e.length - 1]) / width);
  }
  return /never seen/.test(why) ? 1 : 0.25;
}

/** The window's requests that need review, most unusual first (lowest confidence, furthest outside the training range). */
export async function selectForReview(o: ReviewOptions): Promise<ReviewItem[]> {
  const window = o.window ?? 1000;
  const threshold = o.lowConfidence ?? 0.6;
  const labels = new FeedbackLabels();
  for await (const r of records(feedbackFiles(o.logDir))) if (typeof r.id === 'string') labels.set(r.id, r.label);
  const recent: Record<string, unknown>[] = [];
  for await (const r of records(logFiles(o.logDir))) {
    recent.push(r);
    if (recent.length > window) recent.shift();
  }
  const drifted = (o.features ?? []).filter((f) => f.drifted);
  const byUnusual = (items: ReviewItem[]) =>
    items.sort((a, b) => (b.unusual ?? 0) - (a.unusual ?? 0)).slice(0, o.limit ?? Infinity);
  const image = o.schema.image;
  if (image)
    return byUnusual(
      await selectImagesForReview({
        logDir: o.logDir,
        deployment: o.deployment,
        schema: { ...o.schema, image },
        records: recent,
        labels,
        drifted,
        lowConfidence: threshold,
      }),
    );
  const names = [...o.schema.numeric, ...o.schema.categorical];
  const items = new Map<string, ReviewItem>();
  for (const r of recent) {
    if (typeof r.id !== 'string' || (r.status !== undefined && r.status !== 200)) continue;
    const insts = instancesOf(o.schema, r.inputs);
    if (typeof insts === 'string') continue;
    const predictions = predictionsOf(r.outputs, insts.length);
    for (const [row, inst] of insts.entries()) {
      const values: (number | string)[] = [...inst.numeric, ...inst.categories];
      const reasons: ReviewReason[] = [];
      const { predicted, confidence } = predictions[row];
      if (confidence !== undefined && confidence < threshold) reasons.push('low-confidence');
      let unusual = confidence !== undefined ? 1 - confidence : 0;
      const drift = drifted.flatMap((f) => {
        const i = names.indexOf(f.name);
        const why = i < 0 ? undefined : driftReason(f, values[i]);
        if (why) unusual += driftWeight(f, values[i], why);
        return why ? [why] : [];
      });
      if (drift.length) reasons.push('drift');
      if (!reasons.length) continue;
      const given = labels.rowLabel(r.id, row, insts.length);
      const label = given && typeof given !== 'string' ? String(given.label) : undefined;
      const id = productionExampleId(inst, label);
      items.set(id, {
        id,
        requestId: r.id,
        ...(insts.length > 1 ? { row } : {}),
        deployment: o.deployment,
        ...(typeof r.run === 'string' ? { run: r.run } : {}),
        time: typeof r.time === 'string' ? r.time : '',
        reasons,
        ...(drift.length ? { drift } : {}),
        features: Object.fromEntries(
          names.map((n, i) => [n, typeof values[i] === 'number' && Number.isNaN(values[i]) ? null : values[i]]),
        ),
        ...(predicted !== undefined ? { predicted } : {}),
        ...(confidence !== undefined ? { confidence } : {}),
        ...(label !== undefined ? { label } : {}),
        unusual,
      });
    }
  }
  return byUnusual([...items.values()]);
}

/**
 * The window's image requests that need review, one item per logged picture: low-confidence, or with a
 * property in the range of a drifted property (the rule of tabular features, on the picture's
 * brightness, contrast, …, decoded and preprocessed as the model takes it).
 */
async function selectImagesForReview(o: {
  logDir: string;
  deployment: string;
  schema: FeatureSchema & { image: ImageShape };
  records: Record<string, unknown>[];
  labels: FeedbackLabels;
  drifted: FeatureDrift[];
  lowConfidence: number;
}): Promise<ReviewItem[]> {
  const shape = o.schema.image;
  const items = new Map<string, ReviewItem>();
  for (const r of o.records) {
    if (typeof r.id !== 'string' || (r.status !== undefined && r.status !== 200)) continue;
    const images = loggedImagesOf(r);
    if (!images.length) continue;
    const predictions = predictionsOf(r.outputs, images.length);
    for (const [row, image] of images.entries()) {
      if (!image) continue;
      const bytes = readLoggedImage(o.logDir, image);
      if (!bytes) continue; // deleted by the log's cap
      let pixels: Uint8Array;
      try {
        pixels = (await preprocessImage(bytes, shape)).pixels;
      } catch {
        continue; // unreadable: monitoring reports it
      }
      const values = monitoredProperties(pixels, shape, { width: image.width, height: image.height });
      const properties: Record<string, number | string> = Object.fromEntries(
        MONITORED_PROPERTIES.map((name, j) => [name, values[j]]),
      );
      properties[MONITORED_CHANNELS] = String(image.channels);
      const reasons: ReviewReason[] = [];
      const { predicted, confidence } = predictions[row];
      if (confidence !== undefined && confidence < o.lowConfidence) reasons.push('low-confidence');
      let unusual = confidence !== undefined ? 1 - confidence : 0;
      const drift = o.drifted.flatMap((f) => {
        const value = properties[f.name];
        const why = value === undefined ? undefined : driftReason(f, value);
        if (why) unusual += driftWeight(f, value, why);
        return why ? [why] : [];
      });
      if (drift.length) reasons.push('drift');
      if (!reasons.length) continue;
      const given = o.labels.rowLabel(r.id, row, images.length);
      const label = given && typeof given !== 'string' ? String(given.label) : undefined;
      const id = productionImageId(image.sha256, label);
      items.set(id, {
        id,
        requestId: r.id,
        ...(images.length > 1 ? { row } : {}),
        deployment: o.deployment,
        ...(typeof r.run === 'string' ? { run: r.run } : {}),
        time: typeof r.time === 'string' ? r.time : '',
        reasons,
        ...(drift.length ? { drift } : {}),
        features: properties,
        image: { file: image.file, sha256: image.sha256, pixels: Buffer.from(pixels).toString('base64') },
        ...(predicted !== undefined ? { predicted } : {}),
        ...(confidence !== undefined ? { confidence } : {}),
        ...(label !== undefined ? { label } : {}),
        unusual,
      });
    }
  }
  return [...items.values()];
}

export async function readReviewQueue(projectDir: string): Promise<ReviewItem[]> {
  try {
    const v = JSON.parse(await readFile(join(projectDir, REVIEW_QUEUE_FILE), 'utf8')) as { items?: ReviewItem[] };
    return Array.isArray(v.items) ? v.items : [];
  } catch {
    return [];
  }
}

/** Adds items to the project's queue (an item already queued keeps its place); returns the queue and how many were new. */
export async function enqueueForReview(
  projectDir: string,
  items: ReviewItem[],
): Promise<{ queue: ReviewItem[]; added: number }> {
  const queue = await readReviewQueue(projectDir);
  const have = new Set(queue.map((i) => i.id));
  const fresh = items.filter((i) => !have.has(i.id));
  const next = [...queue, ...fresh];
  const file = join(projectDir, REVIEW_QUEUE_FILE);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(`${file}.tmp`, JSON.stringify({ items: next }, null, 1) + '\n');
  await rename(`${file}.tmp`, file);
  return { queue: next, added: fresh.length };
}

/** The queued production examples of one model's schema, as the Error Analysis panel's Production source lists them. */
export interface ProductionQueue {
  /** Queued items whose features are the schema's, in queue order. */
  items: ReviewItem[];
  /** Their feature values (schema order); y is the feedback label (class index or value), NaN without a usable one. */
  rows: Rows;
  /** Row references: the request id, or `<id>#<row>` for a row of a request of several rows. */
  refs: string[];
  /** Queued items of another schema (another model's requests), left out. */
  hidden: number;
}

/** The items of `queue` that fit `schema` (the same feature names, numbers and strings where it expects them). */
export function productionQueueOf(queue: readonly ReviewItem[], schema: FeatureSchema): ProductionQueue {
  if (schema.image) return productionImageQueueOf(queue, { ...schema, image: schema.image });
  const names = [...schema.numeric, ...schema.categorical];
  const items: ReviewItem[] = [];
  const numeric: number[] = [];
  const categories: string[] = [];
  const y: number[] = [];
  for (const item of queue) {
    const f = item.features;
    if (!f || typeof f !== 'object' || Object.keys(f).length !== names.length) continue;
    const num = schema.numeric.map((n) => f[n]);
    const cat = schema.categorical.map((n) => f[n]);
    if (
      !num.every((v) => v === null || typeof v === 'number') ||
      !cat.every((v) => v === null || typeof v === 'string')
    )
      continue;
    items.push(item);
    numeric.push(...num.map((v) => (v === null ? NaN : (v as number))));
    categories.push(...cat.map((v) => (v === null ? '' : (v as string))));
    y.push(item.label === undefined ? NaN : (labelValue(schema, item.label) ?? NaN));
  }
  return {
    items,
    rows: {
      features: { n: items.length, numeric: Float32Array.from(numeric), categories },
      y: Float64Array.from(y),
      ids: items.map((i) => i.id),
      rowIndex: new Uint32Array(items.length).fill(0xffffffff),
    },
    refs: items.map((i) => (i.row === undefined ? i.requestId : rowRef(i.requestId, i.row, 2))),
    hidden: queue.length - items.length,
  };
}

/** The queued production images that fit an image model's input (their pixels at its size). */
function productionImageQueueOf(
  queue: readonly ReviewItem[],
  schema: FeatureSchema & { image: NonNullable<FeatureSchema['image']> },
): ProductionQueue {
  const items: ReviewItem[] = [];
  const pixels: Uint8Array[] = [];
  for (const item of queue) {
    const px = item.image ? reviewImagePixels(item.image, schema.image) : undefined;
    if (!px) continue;
    items.push(item);
    pixels.push(px);
  }
  const all = new Uint8Array(pixels.reduce((a, p) => a + p.length, 0));
  pixels.forEach((p, i) => all.set(p, i * p.length));
  return {
    items,
    rows: {
      features: { n: items.length, numeric: new Float32Array(0), categories: [] },
      y: Float64Array.from(items, (i) => (i.label === undefined ? NaN : (labelValue(schema, i.label) ?? NaN))),
      ids: items.map((i) => i.id),
      rowIndex: new Uint32Array(items.length).fill(0xffffffff),
      images: { pixels: all, files: items.map((i) => reviewImagePath({ deployment: i.deployment, image: i.image! })) },
    },
    refs: items.map((i) => (i.row === undefined ? i.requestId : rowRef(i.requestId, i.row, 2))),
    hidden: queue.length - items.length,
  };
}
