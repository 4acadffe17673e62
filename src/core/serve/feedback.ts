// Monitoring's side of the server: the columnar form of a logged request (src/core/requestLog/columnar)
// and `POST /v2/models/{name}/feedback`, which stores true labels for logged requests as JSON Lines
// `feedback-*.jsonl` records {time, id, label} beside the request logs (append-only).
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type * as ort from 'onnxruntime-node';
import type { ColumnarRequest, LogSchema } from '../requestLog/columnar';
import { jsonKind } from './datatypes';
import type { Outputs } from './engine';
import { BadRequest, HttpError } from './errors';
import { jsonlFiles, type FeedbackRecord } from '../requestLog/log';
import type { ServedVersion } from './model';
import { classified } from './infer';

export const FEEDBACK_FILE_PREFIX = 'feedback-';

/** The feedback files of a log folder, oldest first. */
export function feedbackFiles(dir: string): string[] {
  return jsonlFiles(dir, FEEDBACK_FILE_PREFIX);
}
/**
 * The true labels that feedback gives, by logged request. Feedback names a request by its id; for a
 * request of several rows it is either an array with one label per row, or one label for row k sent
 * to `<id>#<k>` (the id the review queue and Error Analysis show for that row). A row's own label
 * wins over the request's array. An id that is exactly a logged single-row request's id is that
 * request, even when it looks like `<id>#<k>`. The last label given for an id wins.
 */
export class FeedbackLabels {
  private readonly byId = new Map<string, unknown>();
  private readonly byRow = new Map<string, Map<number, unknown>>();
  /** Feedback ids whose request was seen in the log. */
  private readonly used = new Set<string>();

  set(id: string, label: unknown): void {
    this.byId.set(id, label);
    const m = /^(.*)#(\d+)$/.exec(id);
    if (!m) return;
    let rows = this.byRow.get(m[1]);
    if (!rows) this.byRow.set(m[1], (rows = new Map()));
    rows.set(Number(m[2]), label);
  }

  /** Distinct feedback ids. */
  get size(): number {
    return this.byId.size;
  }

  /** Whether any feedback names logged request `id` or one of its rows. */
  has(id: string): boolean {
    return this.byId.has(id) || this.byRow.has(id);
  }

  /** Marks the feedback for request `id` and its rows as met in the log (whether or not its labels are usable). */
  seen(id: string): void {
    if (this.byId.has(id)) this.used.add(id);
    for (const row of this.byRow.get(id)?.keys() ?? []) this.used.add(`${id}#${row}`);
  }

  /**
   * The label of row `row` of logged request `id`, which has `rows` rows: its own label, or the one
   * the request's feedback gives it, or why the request's feedback gives none; undefined without feedback.
   */
  rowLabel(id: string, row: number, rows: number): ReturnType<typeof labelOfRow> | undefined {
    if (rows > 1) {
      const own = this.byRow.get(id);
      if (own?.has(row)) return { label: own.get(row) };
    }
    if (!this.byId.has(id)) return undefined;
    return labelOfRow(this.byId.get(id), row, rows);
  }

  /** Feedback ids whose request has not been seen (see `seen`). */
  get unmatched(): number {
    let n = 0;
    for (const id of this.byId.keys()) if (!this.used.has(id)) n++;
    return n;
  }
}

/** The label of row `row` of a request of `rows` rows from its feedback label (a label, or an array with one per row). */
export function labelOfRow(
  label: unknown,
  row: number,
  rows: number,
): { label: unknown } | 'several instances' | 'labels do not match the rows' {
  if (Array.isArray(label)) return label.length === rows ? { label: label[row] } : 'labels do not match the rows';
  return rows === 1 ? { label } : 'several instances';
}

/** Feedback records one request may carry. */
export const MAX_FEEDBACK_RECORDS = 10_000;

const schemas = new WeakMap<ServedVersion, LogSchema | null>();

function schemaOf(v: ServedVersion): LogSchema | undefined {
  let s = schemas.get(v);
  if (s === undefined) {
    const c = v.contract;
    // Image models: no features, their classes and predictions are logged.
    const usable =
      c && v.inputs.every((i) => i.name === 'features' || i.name === 'categories' || i.name === v.image?.input);
    s = usable
      ? {
          model: v.model,
          version: v.version,
          runId: v.source.runId ?? '',
          task: c.task,
          features: c.features,
          categories: c.categories,
          classes: c.task === 'classification' ? (c.classes ?? []) : [],
        }
      : null;
    schemas.set(v, s);
  }
  return s ?? undefined;
}

/** A served request in tensor form for the columnar log; without inputs for models that lack ML Loop's contract. */
export function columnarRequest(
  v: ServedVersion,
  base: { time: number; id: string; status: number; latencyMs: number },
  feeds: Record<string, ort.Tensor> | undefined,
  outputs: Outputs | undefined,
  rows: number,
): ColumnarRequest {
  const schema = schemaOf(v);
  if (!schema || !feeds || !outputs || base.status !== 200) return { ...base, schema, rows: 0 };
  const numeric = feeds.features ? (feeds.features.data as Float32Array) : new Float32Array(0);
  const categories = feeds.categories ? (feeds.categories.data as string[]) : undefined;
  const out: ColumnarRequest = { ...base, schema, rows, numeric, categories };
  if (schema.classes.length) {
    const result = classified(v, outputs);
    if (result) {
      const { labels, probabilities } = result;
      const index = new Map(schema.classes.map((c, i) => [c, i]));
      out.probabilities = probabilities;
      out.classIndex = Int32Array.from({ length: rows }, (_, i) => index.get(String(labels[i])) ?? -1);
    }
  } else if (outputs.prediction?.data instanceof Float32Array) out.values = outputs.prediction.data as Float32Array;
  return out;
}

/** Validates a feedback body: {"id", "label"} or {"feedback": [{"id", "label"}, …]}. */
export function parseFeedback(body: unknown, v: ServedVersion | undefined): Array<{ id: string; label: unknown }> {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new BadRequest(
      `the body must be {"id": "<request id>", "label": <true label>} or {"feedback": [...]}, got ${jsonKind(body)}`,
    );
  const b = body as Record<string, unknown>;
  const items = b.feedback !== undefined ? b.feedback : [b];
  if (!Array.isArray(items) || items.length === 0)
    throw new BadRequest('"feedback" must be a non-empty array of {"id", "label"}');
  if (items.length > MAX_FEEDBACK_RECORDS)
    throw new BadRequest(`at most ${MAX_FEEDBACK_RECORDS} feedback records per request, got ${items.length}`);
  const classes = v?.contract?.task === 'classification' ? v.contract.classes : undefined;
  const regression = v?.contract?.task === 'regression';
  const checkLabel = (l: unknown, where: string) => {
    if (classes && !classes.includes(String(l)))
      throw new BadRequest(`${where}: label ${JSON.stringify(l)} is not a class of the model (${classes.join(', ')})`);
    if (regression && (typeof l !== 'number' || !Number.isFinite(l)))
      throw new BadRequest(`${where}: the label of a regression model must be a finite number, got ${jsonKind(l)}`);
    if (l === null || (typeof l !== 'string' && typeof l !== 'number' && typeof l !== 'boolean'))
      throw new BadRequest(
        `${where}: label must be a string, number or boolean (or an array of them for a request of several rows), got ${jsonKind(l)}`,
      );
  };
  return items.map((it, i) => {
    const where = b.feedback !== undefined ? `feedback[${i}]` : 'the body';
    if (it === null || typeof it !== 'object' || Array.isArray(it))
      throw new BadRequest(`${where} must be {"id": "<request id>", "label": <true label>}`);
    const r = it as Record<string, unknown>;
    if (typeof r.id !== 'string' || !r.id)
      throw new BadRequest(
        `${where}: "id" must be the request id (a non-empty string) the server returned or logged, got ${jsonKind(r.id)}`,
      );
    if (r.label === undefined) throw new BadRequest(`${where}: "label" is missing`);
    if (Array.isArray(r.label)) r.label.forEach((l, k) => checkLabel(l, `${where}.label[${k}]`));
    else checkLabel(r.label, where);
    return { id: r.id, label: r.label };
  });
}

/** Appends feedback records to `<dir>/feedback-<stamp>.jsonl` (one file per server start). */
export class FeedbackLog {
  readonly file: string;
  received = 0;

  constructor(readonly dir: string) {
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('.', '-');
    this.file = join(dir, `${FEEDBACK_FILE_PREFIX}${stamp}.jsonl`);
  }

  append(items: Array<{ id: string; label: unknown }>): number {
    const time = new Date().toISOString();
    const text =
      items.map((it) => JSON.stringify({ time, id: it.id, label: it.label } satisfies FeedbackRecord)).join('\n') +
      '\n';
    try {
      mkdirSync(this.dir, { recursive: true });
      appendFileSync(this.file, text);
    } catch (e) {
      throw new HttpError(500, `could not store the feedback: ${(e as Error).message}`);
    }
    this.received += items.length;
    return items.length;
  }
}
