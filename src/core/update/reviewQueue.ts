// Production requests worth a human look, queued for tagging so that production problems become
// tags (src/core/errors/tags) and then data: the requests of the last window that are
//   - low-confidence: the top class probability below a threshold, or
//   - drifted: a value of a drifted feature outside the training range, an unseen category, or in a
//     histogram bin the window over-represents (at least twice its training share).
// The queue is `.mlloop/review-queue.json` in the project, deduplicated by example id. An item's id
// is the content hash of its feature values and its feedback label ('' without one), as the
// production rows of Retrain with Production Data are (productionData.ts), so a tag given here
// follows the example into the promotion gate's per-tag comparison once it is labelled the same.
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { FeatureSchema } from '../data/types';
import type { FeatureDrift } from '../monitor/types';
import { logFiles } from '../serve/requestLog';
import { exampleId, feedbackFiles, instanceOf } from './productionData';

export const REVIEW_QUEUE_FILE = join('.mlloop', 'review-queue.json');

export type ReviewReason = 'low-confidence' | 'drift';

export interface ReviewItem {
  id: string;
  requestId: string;
  deployment: string;
  time: string;
  reasons: ReviewReason[];
  /** Which drifted features put it in the queue, and why. */
  drift?: string[];
  features: Record<string, number | string | null>;
  predicted?: string | number;
  confidence?: number;
  /** The feedback label, when one came. */
  label?: string;
}

/** What `ml-loop review --json` prints. */
export interface ReviewResult {
  deployment: string;
  /** Requests of the window that need review. */
  selected: number;
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
  /** Most items returned, lowest confidence first (default 200). */
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

/** Predicted label and top probability of a logged single-row response (/predict or /infer outputs). */
export function predictionOf(outputs: unknown): { predicted?: string | number; confidence?: number } {
  const first = Array.isArray(outputs) ? (outputs[0] as Record<string, unknown> | undefined) : undefined;
  if (first && typeof first === 'object') {
    const probs = first.probabilities && typeof first.probabilities === 'object' ? Object.values(first.probabilities as Record<string, unknown>).filter((v): v is number => typeof v === 'number') : [];
    const predicted = typeof first.label === 'string' ? first.label : typeof first.prediction === 'number' ? first.prediction : undefined;
    return { predicted, ...(probs.length ? { confidence: Math.max(...probs) } : {}) };
  }
  if (outputs && typeof outputs === 'object') {
    const o = outputs as Record<string, unknown>;
    const probs = Array.isArray(o.probabilities) ? (o.probabilities.flat(2) as unknown[]).filter((v): v is number => typeof v === 'number') : [];
    const label = Array.isArray(o.label) ? (o.label.flat(2) as unknown[])[0] : undefined;
    return { ...(typeof label === 'string' ? { predicted: label } : {}), ...(probs.length ? { confidence: Math.max(...probs) } : {}) };
  }
  return {};
}

/** Why a value of a drifted feature is suspicious, or undefined. */
export function driftReason(f: FeatureDrift, value: number | string): string | undefined {
  const h = f.histogram;
  if (typeof value === 'string') {
    if (f.unseenCategories && value in f.unseenCategories) return `${f.name} = ${value} never seen in training`;
    const k = h.categories?.indexOf(value) ?? -1;
    if (k >= 0 && h.current[k] >= 2 * h.reference[k] && h.current[k] > 0) return `${f.name} = ${value} over-represented`;
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
  if (h.current[bin] >= 2 * h.reference[bin] && h.current[bin] > 0) return `${f.name} = ${value} in an over-represented range`;
  return undefined;
}

/** The window's requests that need review, lowest confidence first. */
export async function selectForReview(o: ReviewOptions): Promise<ReviewItem[]> {
  const window = o.window ?? 1000;
  const threshold = o.lowConfidence ?? 0.6;
  const labels = new Map<string, unknown>();
  for await (const r of records(feedbackFiles(o.logDir))) if (typeof r.id === 'string') labels.set(r.id, r.label);
  const recent: Record<string, unknown>[] = [];
  for await (const r of records(logFiles(o.logDir))) {
    recent.push(r);
    if (recent.length > window) recent.shift();
  }
  const drifted = (o.features ?? []).filter((f) => f.drifted);
  const names = [...o.schema.numeric, ...o.schema.categorical];
  const items = new Map<string, ReviewItem>();
  for (const r of recent) {
    if (typeof r.id !== 'string' || (r.status !== undefined && r.status !== 200)) continue;
    const inst = instanceOf(o.schema, r.inputs);
    if (typeof inst === 'string') continue;
    const values: (number | string)[] = [...inst.numeric, ...inst.categories];
    const reasons: ReviewReason[] = [];
    const { predicted, confidence } = predictionOf(r.outputs);
    if (confidence !== undefined && confidence < threshold) reasons.push('low-confidence');
    const drift = drifted.flatMap((f) => {
      const i = names.indexOf(f.name);
      const why = i < 0 ? undefined : driftReason(f, values[i]);
      return why ? [why] : [];
    });
    if (drift.length) reasons.push('drift');
    if (!reasons.length) continue;
    const label = labels.has(r.id) ? String(labels.get(r.id)) : undefined;
    const id = exampleId([...inst.numeric.map((v) => (Number.isNaN(v) ? '' : String(v))), ...inst.categories, label ?? '']);
    items.set(id, {
      id,
      requestId: r.id,
      deployment: o.deployment,
      time: typeof r.time === 'string' ? r.time : '',
      reasons,
      ...(drift.length ? { drift } : {}),
      features: Object.fromEntries(names.map((n, i) => [n, typeof values[i] === 'number' && Number.isNaN(values[i]) ? null : values[i]])),
      ...(predicted !== undefined ? { predicted } : {}),
      ...(confidence !== undefined ? { confidence } : {}),
      ...(label !== undefined ? { label } : {}),
    });
  }
  return [...items.values()].sort((a, b) => (a.confidence ?? 1) - (b.confidence ?? 1)).slice(0, o.limit ?? 200);
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
export async function enqueueForReview(projectDir: string, items: ReviewItem[]): Promise<{ queue: ReviewItem[]; added: number }> {
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
