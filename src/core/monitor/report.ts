// Monitoring a deployment: reads the window of its request log newest first (the columnar files when
// present, else the JSON Lines), one file at a time, streaming every row into fixed-size accumulators
// (./accumulate.ts), joins feedback labels by request id, and assembles the MonitoringReport.
// Memory: one log file (bounded by the log's rotation size) plus the accumulators and the feedback ids.

import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { FeedbackLabels, feedbackFiles } from '../serve/feedback';
import { logFiles } from '../requestLog/log';
import { loggedImagesOf, type LoggedImage } from '../requestLog/images';
import { imageWindowDrift, type WindowImage } from './imageWindow';
import { MONITORED_CHANNELS } from '../data/images/properties';
import { CategoricalAccumulator, NumericAccumulator, categoricalDrift, numericDrift } from './accumulate';
import {
  COLS_EXT,
  decodeRequest,
  emptyView,
  scanColumnar,
  sharedViews,
  type LogRecordView,
  type LogSchema,
} from '../requestLog/columnar';
import type {
  CategoricalReference,
  DriftThresholds,
  FeedbackRecord,
  MonitoringIssue,
  MonitoringIssueKind,
  MonitoringReference,
  MonitoringReport,
  OperationalPoint,
  PredictionDrift,
  TimePoint,
} from './types';

// ---------------------------------------------------------------------------------------------
// Feedback.

/** Every feedback record of a log folder (later ones win for the same id), bad lines counted. */
export function readFeedback(logDir: string): { records: FeedbackRecord[]; bad: number } {
  const records: FeedbackRecord[] = [];
  let bad = 0;
  for (const f of feedbackFiles(logDir)) {
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        const r = JSON.parse(line) as FeedbackRecord;
        if (r && typeof r.id === 'string' && r.label !== undefined && r.label !== null) records.push(r);
        else bad++;
      } catch {
        bad++;
      }
    }
  }
  return { records, bad };
}

// ---------------------------------------------------------------------------------------------
// Time buckets that widen (by doubling) so their number stays bounded whatever the window's span.

const LAT_BINS = 160;
const LAT_MIN = 1e-3; // ms
const LAT_RATIO = 1.12;
const LOG_RATIO = Math.log(LAT_RATIO);
const MAX_BUCKETS = 2048;

interface Bucket {
  requests: number;
  errors: number;
  lat: Uint32Array;
  rows: number;
  labelled: number;
  correct: number;
  sqErr: number;
  confSum: number;
  confRows: number;
}

function latBin(ms: number): number {
  if (!(ms > LAT_MIN)) return 0;
  return Math.min(LAT_BINS - 1, 1 + Math.floor(Math.log(ms / LAT_MIN) / LOG_RATIO));
}

function newBucket(): Bucket {
  return {
    requests: 0,
    errors: 0,
    lat: new Uint32Array(LAT_BINS),
    rows: 0,
    labelled: 0,
    correct: 0,
    sqErr: 0,
    confSum: 0,
    confRows: 0,
  };
}

function mergeInto(a: Bucket, b: Bucket): void {
  a.requests += b.requests;
  a.errors += b.errors;
  for (let i = 0; i < LAT_BINS; i++) a.lat[i] += b.lat[i];
  a.rows += b.rows;
  a.labelled += b.labelled;
  a.correct += b.correct;
  a.sqErr += b.sqErr;
  a.confSum += b.confSum;
  a.confRows += b.confRows;
}

class Buckets {
  widthMs: number;
  readonly map = new Map<number, Bucket>();
  constructor(
    widthMs: number,
    private readonly fixed: boolean,
  ) {
    this.widthMs = widthMs;
  }
  at(time: number): Bucket {
    const k = Math.floor(time / this.widthMs);
    let b = this.map.get(k);
    if (!b) {
      if (!this.fixed && this.map.size >= MAX_BUCKETS) {
        this.widen();
        return this.at(time);
      }
      this.map.set(k, (b = newBucket()));
    }
    return b;
  }
  /** Bumped by widen (buckets merged: references to them are stale). */
  generation = 0;
  widen(factor = 2): void {
    this.generation++;
    const old = [...this.map.entries()];
    this.map.clear();
    this.widthMs *= factor;
    for (const [k, b] of old) {
      const nk = Math.floor(k / factor);
      const t = this.map.get(nk);
      if (t) mergeInto(t, b);
      else this.map.set(nk, b);
    }
  }
  sorted(): Array<[number, Bucket]> {
    return [...this.map.entries()].sort((a, b) => a[0] - b[0]);
  }
}

function percentile(lat: Uint32Array, total: number, q: number): number {
  if (!total) return NaN;
  const target = q * total;
  let c = 0;
  for (let i = 0; i < LAT_BINS; i++) {
    c += lat[i];
    if (c >= target) return i === 0 ? LAT_MIN : LAT_MIN * Math.pow(LAT_RATIO, i - 0.5);
  }
  return LAT_MIN * Math.pow(LAT_RATIO, LAT_BINS);
}

// ---------------------------------------------------------------------------------------------
// The scan.

export interface ScanOptions {
  logDir: string;
  /** Request log files (JSON Lines) oldest first; default those of logDir. */
  files?: string[];
  window?: number;
  since?: number;
  model?: string;
  version?: string;
  thresholds: DriftThresholds;
  bucketSeconds?: number;
  signal?: AbortSignal;
  /** Resolves the reference once the monitored version (and its run) is known. */
  reference: (target: { model?: string; version?: string; runId?: string }) => Promise<
    | {
        reference: MonitoringReference;
        source: MonitoringReport['reference']['source'];
        issue?: string;
        /** The run's model.onnx, for the embeddings of image deployments. */
        modelPath?: string;
      }
    | undefined
  >;
}

/** A record view of an image request: its rows' logged images. */
type ScanView = LogRecordView & { images?: Array<LoggedImage | undefined> };

class Issues {
  private readonly map = new Map<MonitoringIssueKind, MonitoringIssue>();
  add(kind: MonitoringIssueKind, message: string, count = 1, where?: string): void {
    let i = this.map.get(kind);
    if (!i) this.map.set(kind, (i = { kind, message, count: 0, examples: [] }));
    i.count += count;
    if (where && i.examples!.length < 5) i.examples!.push(where);
  }
  list(): MonitoringIssue[] {
    return [...this.map.values()].map((i) =>
      i.examples?.length ? i : { kind: i.kind, message: i.message, count: i.count },
    );
  }
}

interface ReadCache {
  file?: string;
  buf?: Buffer;
  scan?: ReturnType<typeof scanColumnar>;
  /** One read buffer for every file of a scan (grown to the largest), so memory stays flat. */
  storage?: Buffer;
}

/** Reads a whole file into the cache's reusable, 4-byte aligned buffer. */
function readInto(file: string, cache: ReadCache): Buffer {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    if (!cache.storage || cache.storage.length < size) cache.storage = Buffer.allocUnsafeSlow(Math.max(size, 1 << 20));
    let got = 0;
    while (got < size) {
      const n = readSync(fd, cache.storage, got, size - got, got);
      if (n <= 0) break;
      got += n;
    }
    return cache.storage.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/**
 * Visits a log file's records newest first, as views: the columnar file when it is there, else the
 * JSON Lines. `visit` returns false to stop; so does forEachRecord then.
 */
function forEachRecord(
  jsonl: string,
  refSchema: () => LogSchema | undefined,
  issues: Issues,
  wantId: boolean,
  visit: (v: ScanView) => boolean,
  cache: ReadCache = {},
  /** Image deployments: the JSON Lines name each row's logged image, the columnar file does not. */
  jsonlOnly = false,
): boolean {
  const cols = jsonl.slice(0, -'.jsonl'.length) + COLS_EXT;
  if (!jsonlOnly && existsSync(cols)) {
    // The newest file is read twice (to find the monitored version, then for the window): once from disk.
    if (cache.file !== cols) {
      const b = readInto(cols, cache);
      Object.assign(cache, { file: cols, buf: b, scan: scanColumnar(b) });
    }
    const buf = cache.buf!;
    const scan = cache.scan!;
    if (scan.corrupt) issues.add('corrupt-line', 'corrupt records in the log (skipped)', scan.corrupt, basename(cols));
    if (scan.truncated)
      issues.add(
        'corrupt-line',
        'a log file ends in a truncated record (a crash mid-write; skipped)',
        1,
        basename(cols),
      );
    const view = emptyView();
    const shared = sharedViews(buf);
    const at = (i: number) => scan.schemas.get(i);
    for (let r = scan.requests.length - 1; r >= 0; r--) {
      if (!decodeRequest(buf, scan.requests[r], at, view, shared, wantId)) {
        issues.add('corrupt-line', 'corrupt records in the log (skipped)', 1, `${basename(cols)}@${scan.requests[r]}`);
        continue;
      }
      if (!visit(view)) return false;
    }
    return true;
  }
  let text: string;
  try {
    text = readFileSync(jsonl, 'utf8');
  } catch {
    return true;
  }
  const lines = text.split('\n');
  for (let l = lines.length - 1; l >= 0; l--) {
    const line = lines[l];
    if (!line.trim()) continue;
    const v = jsonlView(line, refSchema());
    if (!v) {
      issues.add(
        'corrupt-line',
        'log lines that are not JSON records (e.g. truncated by a crash mid-write; skipped)',
        1,
        `${basename(jsonl)}:${l + 1}`,
      );
      continue;
    }
    if (!visit(v)) return false;
  }
  return true;
}

/** A JSON Lines request record as a view, its inputs laid out in the reference's feature order. */
export function jsonlView(line: string, schema: LogSchema | undefined): ScanView | undefined {
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (!r || typeof r !== 'object' || typeof r.time !== 'string') return undefined;
  const time = Date.parse(r.time);
  if (!Number.isFinite(time)) return undefined;
  const view: ScanView = {
    ...emptyView(),
    time,
    id: String(r.id ?? ''),
    status: Number(r.status) || 0,
    latencyMs: Number(r.latency_ms) || 0,
  };
  const s = schema
    ? { ...schema, model: String(r.model ?? ''), version: String(r.version ?? ''), runId: String(r.run ?? '') }
    : undefined;
  view.schema = s;
  if (!s || view.status !== 200) return view;
  const F = s.features.length;
  const K = s.categories.length;
  const inputs = r.inputs;
  const images = !F && !K ? loggedImagesOf(r) : [];
  let n = 0;
  if (images.length) {
    // An image request: one logged image per row (src/core/requestLog/images.ts), no feature values.
    n = images.length;
    view.images = images;
  } else if (Array.isArray(inputs)) {
    // /predict: records by feature name.
    n = inputs.length;
    const numeric = new Float32Array(n * F);
    const cats = new Array<string>(n * K);
    for (let i = 0; i < n; i++) {
      const rec = (inputs[i] ?? {}) as Record<string, unknown>;
      for (let j = 0; j < F; j++) {
        const v = rec[s.features[j]];
        numeric[i * F + j] = typeof v === 'number' ? v : v === null || v === undefined ? NaN : Number.NaN;
        if (v === undefined) view.status = -1; // does not fit the reference's features
      }
      for (let j = 0; j < K; j++) {
        const v = rec[s.categories[j]];
        cats[i * K + j] = typeof v === 'string' ? v : '';
        if (v === undefined) view.status = -1;
      }
    }
    view.numeric = numeric;
    view.categories = cats;
  } else if (inputs && typeof inputs === 'object') {
    // /infer: tensors by name, flat or nested data.
    const t = inputs as Record<string, unknown>;
    const f = t.features === undefined ? [] : (t.features as unknown[]).flat(Infinity);
    const c = t.categories === undefined ? [] : (t.categories as unknown[]).flat(Infinity);
    n = F ? f.length / F : K ? c.length / K : 0;
    if (!Number.isInteger(n) || (K && c.length !== n * K)) view.status = -1;
    else {
      view.numeric = Float32Array.from(f as number[], (v) => (typeof v === 'number' ? v : NaN));
      view.categories = (c as unknown[]).map((v) => (typeof v === 'string' ? v : ''));
    }
  } else view.status = -1;
  view.rows = view.status === -1 ? 0 : n;
  // Outputs: /predict's predictions, or /infer's tensors by name.
  const out = r.outputs;
  if (view.rows && out) {
    if (Array.isArray(out)) {
      if (s.classes.length) {
        view.labels = out.map((p) => String((p as Record<string, unknown>)?.label ?? ''));
        const probs = new Float32Array(n * s.classes.length);
        out.forEach((p, i) => {
          const pr = (p as Record<string, unknown>)?.probabilities as Record<string, number> | undefined;
          s.classes.forEach((c, k) => (probs[i * s.classes.length + k] = Number(pr?.[c] ?? NaN)));
        });
        view.probabilities = probs;
      } else view.values = Float32Array.from(out, (p) => Number((p as Record<string, unknown>)?.prediction));
    } else if (typeof out === 'object') {
      const o = out as Record<string, unknown[]>;
      if (Array.isArray(o.label)) view.labels = o.label.flat(Infinity).map(String);
      if (Array.isArray(o.probabilities))
        view.probabilities = Float32Array.from(o.probabilities.flat(Infinity) as number[]);
      if (Array.isArray(o.prediction)) view.values = Float32Array.from(o.prediction.flat(Infinity) as number[]);
    }
  }
  return view;
}

export async function scanLog(opts: ScanOptions): Promise<MonitoringReport> {
  const t0 = performance.now();
  const issues = new Issues();
  const th = opts.thresholds;
  const files = [...(opts.files ?? logFiles(opts.logDir))].reverse();
  const limit = opts.since !== undefined ? Infinity : opts.window && opts.window > 0 ? opts.window : Infinity;

  // Feedback labels by request id.
  const fb = opts.files ? { records: [], bad: 0 } : readFeedback(opts.logDir);
  if (fb.bad) issues.add('bad-feedback', 'feedback lines that are not {time, id, label} records (skipped)', fb.bad);
  const labels = new FeedbackLabels();
  for (const r of fb.records) labels.set(r.id, r.label);

  const cache: ReadCache = {};
  // The monitored target: given, or the newest request's model and version.
  let target: { model?: string; version?: string; runId?: string } | undefined =
    opts.model || opts.version ? { model: opts.model, version: opts.version } : undefined;
  let refInfo: Awaited<ReturnType<ScanOptions['reference']>>;
  let reference: MonitoringReference | undefined;
  let refSchema: LogSchema | undefined;
  let numeric: NumericAccumulator[] = [];
  let categorical: CategoricalAccumulator[] = [];
  let predClasses: CategoricalAccumulator | undefined;
  let predValues: NumericAccumulator | undefined;
  const mapping = new WeakMap<LogSchema, { num: Int32Array; cat: Int32Array; cls: Int32Array } | null>();

  const setReference = async (t: { model?: string; version?: string; runId?: string }) => {
    refInfo = await opts.reference(t);
    if (refInfo?.issue) issues.add('no-reference', refInfo.issue);
    reference = refInfo?.reference;
    if (!reference) return;
    const numRefs = reference.features.filter((f) => f.kind === 'numeric');
    const catRefs = reference.features.filter((f): f is CategoricalReference => f.kind === 'categorical');
    numeric = numRefs.map((f) => new NumericAccumulator(f));
    categorical = catRefs.map((f) => new CategoricalAccumulator(f));
    // Image deployments: the model's input is the image; the features are properties computed from it.
    refSchema = {
      model: t.model ?? '',
      version: t.version ?? '',
      runId: t.runId ?? '',
      task: reference.task,
      features: reference.image ? [] : numRefs.map((f) => f.name),
      categories: reference.image ? [] : catRefs.map((f) => f.name),
      classes: reference.classes ?? [],
    };
    const p = reference.predictions;
    if (p?.kind === 'classes' && p.classes)
      predClasses = new CategoricalAccumulator({
        kind: 'categorical',
        name: 'prediction',
        count: Object.values(p.classes).reduce((a, b) => a + b, 0),
        missing: 0,
        counts: p.classes,
      });
    if (p?.kind === 'values' && p.values) predValues = new NumericAccumulator(p.values);
  };

  // Peek: find the target from the newest record with a model, then load its reference.
  if (!target || !target.model || !target.version) {
    for (const f of files) {
      const more = forEachRecord(
        f,
        () => undefined,
        new Issues(),
        false,
        (v) => {
          const m = v.schema?.model;
          if (
            m === undefined ||
            (target?.model && target.model !== m) ||
            (target?.version && target.version !== v.schema!.version)
          )
            return true;
          target = { model: m, version: v.schema!.version, runId: v.schema!.runId || undefined };
          return false;
        },
        cache,
      );
      if (!more) break;
    }
    // JSON Lines without a reference schema have no model in the view: read the newest line's.
    if (!target?.model) {
      outer2: for (const f of files) {
        if (existsSync(f.slice(0, -'.jsonl'.length) + COLS_EXT)) continue;
        const lines = readFileSync(f, 'utf8').split('\n');
        for (let l = lines.length - 1; l >= 0; l--) {
          try {
            const r = JSON.parse(lines[l]) as Record<string, unknown>;
            if (typeof r.model === 'string' && (!opts.version || String(r.version) === opts.version)) {
              target = {
                model: r.model,
                version: String(r.version),
                runId: typeof r.run === 'string' ? r.run : undefined,
              };
              break outer2;
            }
          } catch {
            // a corrupt line: reported by the scan
          }
        }
      }
    }
  }
  await setReference(target ?? {});

  const totals = newBucket();
  const buckets = new Buckets((opts.bucketSeconds ?? 1) * 1000, opts.bucketSeconds !== undefined);
  // Counters in one object: doubles in object fields are updated in place (closure variables would box each write).
  const st = { requests: 0, rows: 0, first: Infinity, last: -Infinity, lastKey: NaN, lastGeneration: 0, blockRows: 0 };
  const C = reference?.classes?.length ?? 0;
  const regression = reference?.task === 'regression';

  const imageDeployment = !!reference?.image;
  const windowImages: WindowImage[] = [];
  const wantId = labels.size > 0 || imageDeployment;
  let lastSchema: LogSchema | undefined;
  let lastMap: { num: Int32Array; cat: Int32Array; cls: Int32Array } | null | undefined;
  const BLOCK_ROWS = 4096;
  const block = new Float32Array(BLOCK_ROWS * Math.max(1, numeric.length));
  const flushBlock = () => {
    for (let j = 0; j < numeric.length; j++) numeric[j].addStrided(block, j, numeric.length, st.blockRows);
    st.blockRows = 0;
  };
  // Predicted classes counted by index (names only for labels read from JSON Lines).
  const predIndex = new Float64Array(C);
  let b = totals;
  const visit = (v: ScanView): boolean => {
    if (st.requests >= limit) return false;
    if (opts.since !== undefined && v.time < opts.since) return true;
    const s = v.schema;
    if (target?.model && s && (s.model !== target.model || s.version !== target.version)) {
      issues.add(
        'other-version',
        `records of another model version than ${target.model} v${target.version} (other inputs; skipped)`,
        1,
      );
      return true;
    }
    st.requests++;
    if (v.time < st.first) st.first = v.time;
    if (v.time > st.last) st.last = v.time;
    const key = Math.floor(v.time / buckets.widthMs);
    if (key !== st.lastKey || buckets.generation !== st.lastGeneration) {
      b = buckets.at(v.time);
      st.lastKey = Math.floor(v.time / buckets.widthMs); // the buckets may have widened
      st.lastGeneration = buckets.generation;
    }
    const lb = latBin(v.latencyMs);
    b.requests++;
    b.lat[lb]++;
    totals.requests++;
    totals.lat[lb]++;
    if (v.status !== 200) {
      if (v.status === -1)
        issues.add('bad-inputs', "records whose inputs do not fit the model's features (skipped)", 1);
      else {
        b.errors++;
        totals.errors++;
        issues.add('failed-requests', 'failed requests (counted in the error rate, not in drift)', 1);
      }
      return true;
    }
    if (!reference || !s || v.rows === 0 || (imageDeployment ? !v.images : !v.numeric)) {
      if (reference && s && imageDeployment && !v.images)
        issues.add('bad-inputs', 'records of the image model without logged images (skipped)', 1);
      return true;
    }
    let map = s === lastSchema ? lastMap : mapping.get(s);
    if (map === undefined) {
      const num = imageDeployment ? new Int32Array(0) : Int32Array.from(numeric, (a) => s.features.indexOf(a.ref.name));
      const cat = imageDeployment
        ? new Int32Array(0)
        : Int32Array.from(categorical, (a) => s.categories.indexOf(a.ref.name));
      const cls = Int32Array.from(s.classes, (c) => (refSchema ? refSchema.classes.indexOf(c) : -1));
      map = num.includes(-1) || cat.includes(-1) ? null : { num, cat, cls };
      mapping.set(s, map);
    }
    lastSchema = s;
    lastMap = map;
    if (!map) {
      issues.add('bad-inputs', "records whose inputs do not fit the reference's features (skipped)", 1);
      return true;
    }
    const n = v.rows;
    const F = s.features.length;
    const K = s.categories.length;
    const x = v.numeric;
    const x0 = v.numericAt;
    // Rows are gathered into a block in the reference's feature order, then added column by column
    // (one call per feature and block: per-value calls cost several times more).
    // Image deployments: the properties are added once the window's images are decoded (after the scan).
    const NF = imageDeployment ? 0 : numeric.length;
    for (let i = 0; i < n && x; i++) {
      if (st.blockRows === BLOCK_ROWS) flushBlock();
      const o = st.blockRows * NF;
      const r0 = x0 + i * F;
      for (let j = 0; j < NF; j++) block[o + j] = x[r0 + map.num[j]];
      st.blockRows++;
    }
    if (v.categories && !imageDeployment)
      for (let j = 0; j < categorical.length; j++)
        for (let i = 0; i < n; i++) categorical[j].add(v.categories[i * K + map.cat[j]]);
    st.rows += n;
    b.rows += n;
    totals.rows += n;
    const labelled = wantId && labels.has(v.id);
    if (labelled) labels.seen(v.id);
    for (let i = 0; i < n; i++) {
      const given = labelled ? labels.rowLabel(v.id, i, n) : undefined;
      const truth = given !== undefined && typeof given !== 'string' ? given.label : undefined;
      let predicted: string | undefined;
      if (C) {
        const ci = v.classIndex ? v.classIndex[v.classIndexAt + i] : -1;
        const rc = ci >= 0 && ci < map.cls.length ? map.cls[ci] : -1;
        if (rc >= 0) predIndex[rc]++;
        else {
          predicted = ci >= 0 ? s.classes[ci] : v.labels?.[i];
          if (predicted !== undefined) predClasses?.add(predicted);
        }
        if (truth !== undefined && predicted === undefined && ci >= 0) predicted = s.classes[ci];
        let m = NaN;
        if (v.probabilities) {
          m = 0;
          const p0 = v.probabilitiesAt + i * C;
          for (let k = 0; k < C; k++) if (v.probabilities[p0 + k] > m) m = v.probabilities[p0 + k];
          if (m === m) {
            b.confSum += m;
            b.confRows++;
            totals.confSum += m;
            totals.confRows++;
          }
        }
        const image = v.images?.[i];
        if (image)
          windowImages.push({
            image,
            file: image.file,
            id: v.id,
            row: i,
            time: new Date(v.time).toISOString(),
            ...((predicted ?? v.labels?.[i] ?? (ci >= 0 ? s.classes[ci] : undefined)) !== undefined
              ? { label: predicted ?? v.labels?.[i] ?? s.classes[ci] }
              : {}),
            ...(m === m ? { confidence: m } : {}),
            ...(truth !== undefined ? { truth: String(truth) } : {}),
          });
        else if (v.images) issues.add('bad-inputs', 'logged image entries that are malformed (skipped)', 1);
      } else if (v.values) predValues?.add(v.values[v.valuesAt + i]);
      if (truth === undefined) continue;
      b.labelled++;
      totals.labelled++;
      if (regression) {
        const d = (v.values ? v.values[v.valuesAt + i] : NaN) - Number(truth);
        b.sqErr += d * d;
        totals.sqErr += d * d;
      } else if (predicted !== undefined && String(truth) === predicted) {
        b.correct++;
        totals.correct++;
      }
    }
    return true;
  };
  for (const f of files) {
    if (opts.signal?.aborted) throw new Error('monitoring was cancelled');
    if (!forEachRecord(f, () => refSchema, issues, wantId, visit, cache, imageDeployment)) break;
    cache.file = undefined;
  }
  flushBlock();
  let imageDrift: Awaited<ReturnType<typeof imageWindowDrift>> | undefined;
  if (imageDeployment && reference) {
    imageDrift = await imageWindowDrift({
      logDir: opts.logDir,
      rows: windowImages,
      reference,
      properties: numeric,
      channels: categorical.find((a) => a.ref.name === MONITORED_CHANNELS),
      modelPath: refInfo?.modelPath,
      aucThreshold: th.embeddingRocAuc,
      signal: opts.signal,
    });
    if (imageDrift.window.missing)
      issues.add(
        'missing-images',
        "logged images whose file is gone (deleted by the log's cap) or unreadable (left out of the drift)",
        imageDrift.window.missing,
      );
    if (imageDrift.embeddingIssue) issues.add('no-reference', imageDrift.embeddingIssue);
  }
  if (predClasses)
    predIndex.forEach(
      (k, ci) =>
        k &&
        predClasses!.counts.set(refSchema!.classes[ci], (predClasses!.counts.get(refSchema!.classes[ci]) ?? 0) + k),
    );
  const unmatched = labels.unmatched;
  if (unmatched > 0)
    issues.add(
      'unknown-feedback',
      `feedback for request ids not in the window (unknown ids, or requests older than the window; skipped)`,
      unmatched,
    );
  if (st.rows === 0)
    issues.add(
      'empty-window',
      st.requests
        ? 'no usable rows in the window (no drift computed)'
        : 'no logged requests in the window (no drift computed)',
    );

  const features = [
    ...numeric.map((a) => numericDrift(a, th)),
    ...categorical.map((a) => categoricalDrift(a, th)),
  ].sort((a, b) => b.score - a.score);
  const drifted = features.filter((f) => f.drifted).length;
  const share = features.length ? drifted / features.length : 0;
  const datasetDrift = st.rows > 0 && features.length > 0 && share >= th.datasetShare;
  const embedding = imageDrift?.embedding;

  let prediction: PredictionDrift | undefined;
  if (predClasses && predClasses.count) {
    const d = categoricalDrift(predClasses, th);
    const tab = predClasses.table();
    const ct = tab.current.reduce((a, b) => a + b, 0);
    const rt = tab.reference.reduce((a, b) => a + b, 0);
    prediction = {
      kind: 'classes',
      test: d.test,
      statistic: d.statistic,
      ...(d.pValue !== undefined ? { pValue: d.pValue } : {}),
      threshold: d.threshold,
      drifted: d.drifted,
      current: Object.fromEntries(tab.categories.map((c, i) => [c, ct ? tab.current[i] / ct : 0])),
      reference: Object.fromEntries(tab.categories.map((c, i) => [c, rt ? tab.reference[i] / rt : 0])),
      histogram: d.histogram,
      count: d.count,
    };
  } else if (predValues && predValues.count) {
    const d = numericDrift(predValues, th);
    prediction = {
      kind: 'values',
      test: d.test,
      statistic: d.statistic,
      ...(d.pValue !== undefined ? { pValue: d.pValue } : {}),
      threshold: d.threshold,
      drifted: d.drifted,
      histogram: d.histogram,
      count: d.count,
    };
  }

  // Series: about 60 buckets over the window.
  const span = Number.isFinite(st.first) ? st.last - st.first : 0;
  if (opts.bucketSeconds === undefined) {
    const target = Math.max(1000, span / 60);
    const factor = Math.max(1, Math.floor(target / buckets.widthMs));
    if (factor > 1) buckets.widen(factor);
  }
  const sorted = buckets.sorted();
  const width = buckets.widthMs;
  const iso = (k: number) => new Date(k * width).toISOString();
  const operationalSeries: OperationalPoint[] = sorted.map(([k, b]) => ({
    time: iso(k),
    requests: b.requests,
    rps: b.requests / (width / 1000),
    errorRate: b.requests ? b.errors / b.requests : 0,
    p50: percentile(b.lat, b.requests, 0.5),
    p90: percentile(b.lat, b.requests, 0.9),
    p99: percentile(b.lat, b.requests, 0.99),
  }));
  const series = (value: (b: Bucket) => number, n: (b: Bucket) => number): TimePoint[] =>
    sorted.filter(([, b]) => n(b) > 0).map(([k, b]) => ({ time: iso(k), value: value(b), n: n(b) }));
  const devScore = reference?.devScore;
  const live =
    totals.labelled > 0
      ? regression
        ? {
            metric: 'rmse' as const,
            value: Math.sqrt(totals.sqErr / totals.labelled),
            labelled: totals.labelled,
            series: series(
              (b) => Math.sqrt(b.sqErr / b.labelled),
              (b) => b.labelled,
            ),
          }
        : {
            metric: 'accuracy' as const,
            value: totals.correct / totals.labelled,
            labelled: totals.labelled,
            series: series(
              (b) => b.correct / b.labelled,
              (b) => b.labelled,
            ),
          }
      : undefined;
  if (live && devScore && devScore.metric === live.metric)
    Object.assign(live, {
      dev: devScore.value,
      change: live.metric === 'accuracy' ? live.value - devScore.value : devScore.value - live.value,
    });
  const estimated =
    C && totals.confRows > 0
      ? {
          estimate: true as const,
          method: 'cbpe' as const,
          metric: 'accuracy' as const,
          value: totals.confSum / totals.confRows,
          rows: totals.confRows,
          ...(devScore?.metric === 'accuracy' ? { dev: devScore.value } : {}),
          series: series(
            (b) => b.confSum / b.confRows,
            (b) => b.confRows,
          ),
        }
      : undefined;
  const seconds = Math.max(span / 1000, 1e-3);
  return {
    deployment: opts.files ? undefined : basename(opts.logDir),
    model: target?.model,
    version: target?.version,
    runId: target?.runId,
    window: {
      kind: opts.since !== undefined ? 'time' : Number.isFinite(limit) ? 'requests' : 'all',
      ...(Number.isFinite(limit) ? { size: limit } : {}),
      ...(opts.since !== undefined ? { since: new Date(opts.since).toISOString() } : {}),
      requests: st.requests,
      rows: st.rows,
      ...(Number.isFinite(st.first)
        ? { from: new Date(st.first).toISOString(), to: new Date(st.last).toISOString() }
        : {}),
    },
    reference: {
      source: refInfo?.source ?? 'training',
      rows: reference?.rows ?? 0,
      ...(reference?.dataVersion ? { dataVersion: reference.dataVersion } : {}),
    },
    thresholds: th,
    features,
    dataset: { drifted, total: features.length, share, threshold: th.datasetShare, drift: datasetDrift },
    ...(prediction ? { prediction } : {}),
    ...(embedding ? { embedding } : {}),
    ...(imageDrift ? { images: imageDrift.window } : {}),
    ...(live ? { live } : {}),
    ...(estimated ? { estimated } : {}),
    operational: {
      requests: totals.requests,
      errors: totals.errors,
      errorRate: totals.requests ? totals.errors / totals.requests : 0,
      p50: percentile(totals.lat, totals.requests, 0.5),
      p90: percentile(totals.lat, totals.requests, 0.9),
      p99: percentile(totals.lat, totals.requests, 0.99),
      rps: st.requests > 1 ? totals.requests / seconds : 0,
      bucketSeconds: width / 1000,
      series: operationalSeries,
    },
    drift: datasetDrift || !!prediction?.drifted || !!embedding?.drifted,
    issues: issues.list(),
    reader: files.some((f) => existsSync(f.slice(0, -'.jsonl'.length) + COLS_EXT)) ? 'columnar' : 'jsonl',
    computedAt: new Date().toISOString(),
    elapsedMs: performance.now() - t0,
  };
}

/** The project folder of a deployment log folder `<project>/.mlloop/deployments/<name>`. */
export function projectOfLogDir(logDir: string): string {
  return dirname(dirname(dirname(logDir)));
}
