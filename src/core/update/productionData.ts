// Labelled production examples: the request log of a deployment (`requests-*.jsonl`, written only
// when the user consented to logging, src/core/requestLog/log.ts) joined by request id to the
// feedback labels (`feedback-*.jsonl`, records {time, id, label}) in `.mlloop/deployments/<name>/`.
// Each usable pair becomes example rows in the project's schema; rows with the same content and
// label (the same example id) are kept once. Anything unusable is counted by reason, never thrown:
// a corrupt line, a failed request, labels that do not match the request's rows, inputs of another
// model version's shape, redacted inputs, a label that is not a class, feedback for an unknown request.
//
// Requests of several rows: the feedback for request `<id>` is then an array of labels, one per row
// in request order (the feedback endpoint's documented form; monitoring's live accuracy joins it the
// same way), or one label sent to `<id>#<k>` for row k (0-based), the id that row has in `requestIds`
// and in the review queue (FeedbackLabels). Every row with a usable label becomes an example.
// A single-row request keeps its plain id and may
// be labelled with a label or a one-element array. One label for several rows is skipped ('several
// instances'), as is an array whose length differs from the rows ('labels do not match the rows').
// Image deployments: each row is a logged picture (src/core/requestLog/images.ts), read and
// preprocessed as the model takes it (its file deleted by the log's cap: 'image file gone').
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { relative } from 'node:path';
import { preprocessImage } from '../data/images/preprocess';
import { loggedImagePath, loggedImagesOf, readLoggedImage } from '../requestLog/images';
import { projectOfLogDir } from '../monitor/report';
import { productionImageId } from './productionImages';
import { REDACTED, logFiles } from '../requestLog/log';
import { exampleId } from '../data/rows';
import type { FeatureSchema, Rows } from '../data/types';
import type { TagStore } from '../analysis/tags';

import { FEEDBACK_FILE_PREFIX, FeedbackLabels, feedbackFiles } from '../serve/feedback';

export { FEEDBACK_FILE_PREFIX, feedbackFiles };

export type SkipReason =
  | 'corrupt line'
  | 'failed request'
  | 'no inputs'
  | 'several instances'
  | 'labels do not match the rows'
  | 'inputs of another shape'
  | 'redacted inputs'
  | 'label not a class'
  | 'feedback for unknown request'
  | 'image file gone'
  | 'unreadable image';

export interface ProductionExamples {
  /** One row per distinct labelled example (content + label), in log order. */
  rows: Rows;
  /** The request of each row (the first that carried it): its id, or `<id>#<row>` for a row of a request of several rows. */
  requestIds: string[];
  /** Each row's example id without its label (the id a review-queue item had before its feedback came). */
  unlabelledIds: string[];
  /** Labelled rows found (before deduplication). */
  labelled: number;
  /** Requests read from the log. */
  requests: number;
  /** Feedback records read. */
  feedback: number;
  duplicates: number;
  skipped: Partial<Record<SkipReason, number>>;
}

async function* jsonLines(files: string[], onCorrupt: () => void): AsyncGenerator<Record<string, unknown>> {
  for (const file of files) {
    const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
    for await (const line of lines) {
      if (!line.trim()) continue;
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch {
        onCorrupt();
        continue;
      }
      if (v && typeof v === 'object' && !Array.isArray(v)) yield v as Record<string, unknown>;
      else onCorrupt();
    }
  }
}

export type Instance = { numeric: number[]; categories: string[] };

/** The row reference of row `row` of a request of `rows` rows: its id alone for a single-row request, else `<id>#<row>`. */
export function rowRef(requestId: string, row: number, rows: number): string {
  return rows === 1 ? requestId : `${requestId}#${row}`;
}

function recordInstance(schema: FeatureSchema, rec: Record<string, unknown>): Instance | SkipReason {
  const numeric: number[] = [];
  for (const f of schema.numeric) {
    const v = rec[f];
    if (v === REDACTED) return 'redacted inputs';
    if (v === null) numeric.push(NaN);
    else if (typeof v === 'number' && Number.isFinite(v)) numeric.push(v);
    else return 'inputs of another shape';
  }
  const categories: string[] = [];
  for (const f of schema.categorical) {
    const v = rec[f];
    if (v === REDACTED) return 'redacted inputs';
    if (v === null || v === undefined) categories.push('');
    else if (typeof v === 'string') categories.push(v);
    else return 'inputs of another shape';
  }
  if (Object.keys(rec).length !== schema.numeric.length + schema.categorical.length) return 'inputs of another shape';
  return { numeric, categories };
}

/** The rows of a logged request in the schema's order (one for a single-row request), or why it cannot be used. */
export function instancesOf(schema: FeatureSchema, inputs: unknown): Instance[] | SkipReason {
  if (inputs === undefined || inputs === null) return 'no inputs';
  if (inputs === REDACTED) return 'redacted inputs';
  const F = schema.numeric.length;
  const K = schema.categorical.length;
  // /predict: the `instances` array of records by feature name.
  if (Array.isArray(inputs)) {
    if (inputs.length === 0) return 'no inputs';
    const out: Instance[] = [];
    for (const rec of inputs) {
      if (!rec || typeof rec !== 'object' || Array.isArray(rec)) return 'inputs of another shape';
      const inst = recordInstance(schema, rec as Record<string, unknown>);
      if (typeof inst === 'string') return inst;
      out.push(inst);
    }
    return out;
  }
  // /infer: tensors by name, flat or nested `data` of `features` [N, F] and `categories` [N, K].
  if (typeof inputs === 'object') {
    const t = inputs as Record<string, unknown>;
    if (t.features === REDACTED || t.categories === REDACTED) return 'redacted inputs';
    const feat = F === 0 ? [] : Array.isArray(t.features) ? (t.features.flat(3) as unknown[]) : undefined;
    const cats = K === 0 ? [] : Array.isArray(t.categories) ? (t.categories.flat(3) as unknown[]) : undefined;
    if (!feat || !cats) return 'inputs of another shape';
    const n = F ? feat.length / F : K ? cats.length / K : 0;
    if (!Number.isInteger(n) || n === 0 || cats.length !== n * K)
      return n === 0 ? 'no inputs' : 'inputs of another shape';
    if (!feat.every((v) => v === null || (typeof v === 'number' && Number.isFinite(v))))
      return 'inputs of another shape';
    return Array.from({ length: n }, (_, i) => ({
      numeric: feat.slice(i * F, (i + 1) * F).map((v) => (v === null ? NaN : (v as number))),
      categories: cats.slice(i * K, (i + 1) * K).map((v) => (typeof v === 'string' ? v : '')),
    }));
  }
  return 'inputs of another shape';
}

/** The example id of a production row: its feature values and its label ('' without one). */
export function productionExampleId(inst: Instance, label: string | undefined): string {
  return exampleId([...inst.numeric.map((v) => (Number.isNaN(v) ? '' : String(v))), ...inst.categories, label ?? '']);
}

/** The class index (classification) or value (regression) of a feedback label; undefined when unusable. */
export function labelValue(schema: FeatureSchema, label: unknown): number | undefined {
  if (schema.classes) {
    if (typeof label !== 'string' && typeof label !== 'number') return undefined;
    const c = schema.classes.indexOf(String(label));
    return c < 0 ? undefined : c;
  }
  const v = typeof label === 'string' && label.trim() !== '' ? Number(label) : label;
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/**
 * Reads the deployment's request log and feedback from `dir` (streamed: memory grows with the
 * labelled requests, not the log) and returns the labelled examples in the project's schema.
 */
export async function readProductionExamples(dir: string, schema: FeatureSchema): Promise<ProductionExamples> {
  const skipped: Partial<Record<SkipReason, number>> = {};
  const skip = (r: SkipReason) => (skipped[r] = (skipped[r] ?? 0) + 1);
  // Feedback first (small): the last label given for a request id wins.
  const labels = new FeedbackLabels();
  let feedback = 0;
  for await (const rec of jsonLines(feedbackFiles(dir), () => skip('corrupt line'))) {
    if (typeof rec.id !== 'string' || rec.label === undefined) {
      skip('corrupt line');
      continue;
    }
    feedback++;
    labels.set(rec.id, rec.label);
  }
  const numeric: number[] = [];
  const categories: string[] = [];
  const y: number[] = [];
  const ids: string[] = [];
  const requestIds: string[] = [];
  const unlabelledIds: string[] = [];
  const seenIds = new Set<string>();
  // Image deployments: each row is a logged picture, preprocessed as the model takes it.
  const shape = schema.image;
  const projectDir = projectOfLogDir(dir);
  const pixels: Uint8Array[] = [];
  const files: string[] = [];
  let requests = 0;
  let labelled = 0;
  let duplicates = 0;
  for await (const rec of jsonLines(logFiles(dir), () => skip('corrupt line'))) {
    requests++;
    const id = typeof rec.id === 'string' ? rec.id : undefined;
    if (id === undefined || !labels.has(id)) continue;
    labels.seen(id);
    if (rec.status !== undefined && rec.status !== 200) {
      skip('failed request');
      continue;
    }
    const images = shape ? loggedImagesOf(rec) : [];
    const insts = shape ? (images.length ? images : 'no inputs') : instancesOf(schema, rec.inputs);
    if (typeof insts === 'string') {
      skip(insts);
      continue;
    }
    let unusable = false;
    for (const [row, inst] of insts.entries()) {
      const given = labels.rowLabel(id, row, insts.length);
      if (given === undefined) continue;
      if (typeof given === 'string') {
        // The whole request's labels are unusable: counted once, not per row.
        if (!unusable) skip(given);
        unusable = true;
        continue;
      }
      const label = labelValue(schema, given.label);
      if (label === undefined) {
        skip('label not a class');
        continue;
      }
      const name = schema.classes ? schema.classes[label] : String(label);
      if (shape) {
        const image = inst as (typeof images)[number];
        if (!image) {
          skip('inputs of another shape');
          continue;
        }
        labelled++;
        const exId = productionImageId(image.sha256, name);
        if (seenIds.has(exId)) {
          duplicates++;
          continue;
        }
        const bytes = readLoggedImage(dir, image);
        if (!bytes) {
          skip('image file gone');
          continue;
        }
        try {
          pixels.push((await preprocessImage(bytes, shape)).pixels);
        } catch {
          skip('unreadable image');
          continue;
        }
        seenIds.add(exId);
        files.push(relative(projectDir, loggedImagePath(dir, image)));
        y.push(label);
        ids.push(exId);
        unlabelledIds.push(productionImageId(image.sha256, undefined));
        requestIds.push(rowRef(id, row, insts.length));
        continue;
      }
      const features = inst as Instance;
      labelled++;
      const exId = productionExampleId(features, name);
      if (seenIds.has(exId)) {
        duplicates++;
        continue;
      }
      seenIds.add(exId);
      numeric.push(...features.numeric);
      categories.push(...features.categories);
      y.push(label);
      ids.push(exId);
      unlabelledIds.push(productionExampleId(features, undefined));
      requestIds.push(rowRef(id, row, insts.length));
    }
  }
  for (let k = labels.unmatched; k > 0; k--) skip('feedback for unknown request');
  return {
    rows: {
      features: { n: y.length, numeric: Float32Array.from(numeric), categories },
      y: Float64Array.from(y),
      ids,
      rowIndex: new Uint32Array(y.length).fill(0xffffffff),
      ...(shape ? { images: { pixels: concatPixels(pixels), files } } : {}),
    },
    requestIds,
    unlabelledIds,
    labelled,
    requests,
    feedback,
    duplicates,
    skipped,
  };
}

function concatPixels(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The tag store with the tags of each row's unlabelled id added to its labelled id: a production
 * request tagged in the review queue before its feedback label came keeps its tags as a labelled example.
 */
export function withUnlabelledTags(tags: TagStore, ids: readonly string[], unlabelledIds: readonly string[]): TagStore {
  const out: TagStore = { ...tags };
  ids.forEach((id, i) => {
    const carried = tags[unlabelledIds[i]];
    if (carried?.length && id !== unlabelledIds[i]) out[id] = [...new Set([...(out[id] ?? []), ...carried])].sort();
  });
  return out;
}
