// Labelled production examples: the request log of a deployment (`requests-*.jsonl`, written only
// when the user consented to logging, src/core/serve/requestLog) joined by request id to the
// feedback labels (`feedback-*.jsonl`, records {time, id, label}) in `.mlloop/deployments/<name>/`.
// Each usable pair becomes one example row in the project's schema; rows with the same content and
// label (the same example id) are kept once. Anything unusable is counted by reason, never thrown:
// a corrupt line, a failed request, a request with several instances, inputs of another model
// version's shape, redacted inputs, a label that is not a class, feedback for an unknown request.
import { createReadStream, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createHash } from 'node:crypto';
import { REDACTED, logFiles } from '../serve/requestLog';
import type { FeatureSchema, Rows } from '../data/types';

import { FEEDBACK_FILE_PREFIX } from '../serve/feedback';

export { FEEDBACK_FILE_PREFIX };

export type SkipReason =
  | 'corrupt line'
  | 'failed request'
  | 'no inputs'
  | 'several instances'
  | 'inputs of another shape'
  | 'redacted inputs'
  | 'label not a class'
  | 'feedback for unknown request';

export interface ProductionExamples {
  /** One row per distinct labelled example (content + label), in log order. */
  rows: Rows;
  /** Request ids of each row (the first request that carried it). */
  requestIds: string[];
  /** Labelled requests found (before deduplication). */
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

export function feedbackFiles(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.startsWith(FEEDBACK_FILE_PREFIX) && f.endsWith('.jsonl'))
      .sort()
      .map((f) => join(dir, f));
  } catch {
    return [];
  }
}

/** The example id of a row: a content hash of its cells (features then label), as derived data versions do. */
export function exampleId(cells: string[]): string {
  return 'x' + createHash('sha256').update(cells.join('\u001f')).digest('hex').slice(0, 15);
}

type Instance = { numeric: number[]; categories: string[] };

/** The single instance of a logged request in the schema's order, or why it cannot be used. */
export function instanceOf(schema: FeatureSchema, inputs: unknown): Instance | SkipReason {
  if (inputs === undefined || inputs === null) return 'no inputs';
  if (inputs === REDACTED) return 'redacted inputs';
  const F = schema.numeric.length;
  const K = schema.categorical.length;
  // /predict: the `instances` array of records by feature name.
  if (Array.isArray(inputs)) {
    if (inputs.length !== 1) return inputs.length === 0 ? 'no inputs' : 'several instances';
    const rec = inputs[0] as Record<string, unknown>;
    if (!rec || typeof rec !== 'object') return 'inputs of another shape';
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
    if (Object.keys(rec).length !== F + K) return 'inputs of another shape';
    return { numeric, categories };
  }
  // /infer: tensors by name, flat or nested `data` of `features` [1, F] and `categories` [1, K].
  if (typeof inputs === 'object') {
    const t = inputs as Record<string, unknown>;
    if (t.features === REDACTED || t.categories === REDACTED) return 'redacted inputs';
    const feat = Array.isArray(t.features) ? (t.features.flat(3) as unknown[]) : undefined;
    const cats = K === 0 ? [] : Array.isArray(t.categories) ? (t.categories.flat(3) as unknown[]) : undefined;
    if (!feat || !cats) return 'inputs of another shape';
    if (feat.length !== F || cats.length !== K) return feat.length > F && feat.length % F === 0 ? 'several instances' : 'inputs of another shape';
    if (!feat.every((v) => v === null || (typeof v === 'number' && Number.isFinite(v)))) return 'inputs of another shape';
    return { numeric: feat.map((v) => (v === null ? NaN : (v as number))), categories: cats.map((v) => (typeof v === 'string' ? v : '')) };
  }
  return 'inputs of another shape';
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
  const labels = new Map<string, unknown>();
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
  const seenIds = new Set<string>();
  const matched = new Set<string>();
  let requests = 0;
  let labelled = 0;
  let duplicates = 0;
  for await (const rec of jsonLines(logFiles(dir), () => skip('corrupt line'))) {
    requests++;
    const id = typeof rec.id === 'string' ? rec.id : undefined;
    if (id === undefined || !labels.has(id)) continue;
    matched.add(id);
    if (rec.status !== undefined && rec.status !== 200) {
      skip('failed request');
      continue;
    }
    const inst = instanceOf(schema, rec.inputs);
    if (typeof inst === 'string') {
      skip(inst);
      continue;
    }
    const label = labelValue(schema, labels.get(id));
    if (label === undefined) {
      skip('label not a class');
      continue;
    }
    labelled++;
    const target = schema.classes ? schema.classes[label] : String(label);
    const exId = exampleId([...inst.numeric.map((v) => (Number.isNaN(v) ? '' : String(v))), ...inst.categories, target]);
    if (seenIds.has(exId)) {
      duplicates++;
      continue;
    }
    seenIds.add(exId);
    numeric.push(...inst.numeric);
    categories.push(...inst.categories);
    y.push(label);
    ids.push(exId);
    requestIds.push(id);
  }
  for (const id of labels.keys()) if (!matched.has(id)) skip('feedback for unknown request');
  return {
    rows: { features: { n: y.length, numeric: Float32Array.from(numeric), categories }, y: Float64Array.from(y), ids, rowIndex: new Uint32Array(y.length).fill(0xffffffff) },
    requestIds,
    labelled,
    requests,
    feedback,
    duplicates,
    skipped,
  };
}
