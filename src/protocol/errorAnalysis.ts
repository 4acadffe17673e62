// Messages of the Error Analysis panel (webview/errorAnalysis ⇄ src/extension/errorAnalysis/errorAnalysisPanel.ts).
// The host sends the run's dev table as columns (cheap for 50,000+ rows); feature values (pixels)
// are asked for by the webview for the rows it shows, correlated by a request id. Beside dev, the
// Production source: the review queue's drifted or low-confidence production requests of the same
// model (src/core/update/reviewQueue), listed, asked for and tagged like dev examples.
import type { ErrorTable } from '../core/analysis/errorTable';
import type { TagRow } from '../core/analysis/tags';
import type { ProductionQueue } from '../core/update/reviewQueue';
import { hasType, isArrayOf, isFiniteNumber, isReadyMessage, isRecord, type ReadyMessage } from './common';

export type AugmentSourceRef = { tag: string } | { slice: string };

export interface SliceView {
  key: string;
  label: string;
  support: number;
  errors: number;
  errorRate: number;
  shareOfErrors: number;
  lift: number;
}

export interface LabelIssueView {
  id: string;
  /** 0-based row of the data file (as the examples' rowIndex); null for an added row. */
  rowIndex: number | null;
  /** Image files: the example's file, relative to the project folder. */
  file?: string;
  split: 'train' | 'dev';
  given: string;
  suggested: string;
  score: number;
}

export type LabelErrorsState =
  | { status: 'idle' }
  | { status: 'running'; done: number; total: number }
  | { status: 'done'; folds: number; issues: LabelIssueView[] }
  | { status: 'failed'; message: string };

/** A training image near the example in the detail view. */
export interface NeighbourImage {
  id: string;
  /** Relative to the project folder. */
  file: string;
  distance: number;
  /** Preprocessed pixels, channels last (as `features` sends images). */
  pixels: number[];
}

/** The detail of one dev image: its file and the closest training images of each class. */
export interface NeighboursView {
  id: string;
  file?: string;
  /** What the distances are over: the model's embedding (cosine) or the pixels (L2). */
  kind?: 'embedding' | 'pixels';
  metric?: 'cosine' | 'l2';
  /** Per class (index into the view's classes), nearest first; empty with `message`. */
  byClass: NeighbourImage[][];
  /** Why there are no neighbours (not a dev image, not an image project, the search failed). */
  message?: string;
}

/** A transform an image augmentation proposes (src/core/analysis/imageAugment.ts' TransformProposal). */
export interface TransformProposalView {
  op: 'flip' | 'rotate' | 'shift' | 'crop' | 'brightness' | 'contrast' | 'blur' | 'noise';
  probability: number;
  range?: [number, number];
  why: string;
}

/** The preview of an image augmentation: the plan in words and its first images before and after. */
export type AugmentPreviewView =
  | {
      source: AugmentSourceRef;
      count: number;
      seed: number;
      proposals: TransformProposalView[];
      /** Training images drawn from: the kind's own, or its classes' (too few of its own). */
      sources: number;
      sourcesAre: 'kind' | 'classes';
      kindExamples: number;
      kind: { brightness: number; contrast: number; sharpness: number };
      training: { brightness: number; contrast: number; sharpness: number };
      images: { label: string; file: string; transforms: string; before: number[]; after: number[] }[];
    }
  | { source: AugmentSourceRef; message: string };

/** Where similar images are searched from: example ids (an error), a tag or a slice. */
export type SimilarSourceRef = { ids: string[] } | AugmentSourceRef;

export interface SimilarImageView {
  /** Example id (train, dev) or the file (unlabelled). */
  id: string;
  file: string;
  /** Class name (train, dev). */
  label?: string;
  distance: number;
  pixels: number[];
}

export type SimilarView =
  | {
      source: SimilarSourceRef;
      train: SimilarImageView[];
      dev: SimilarImageView[];
      unlabelled: SimilarImageView[];
      /** The project names an unlabelled folder (data.unlabelled). */
      hasUnlabelled: boolean;
      skipped: string[];
    }
  | { source: SimilarSourceRef; message: string };

/** The embedding map of the dev images (x, y per dev row, in the order of the view's dev columns). */
export type EmbeddingMapView =
  | {
      ids: string[];
      x: number[];
      y: number[];
      truth: number[];
      predicted: number[];
      wrong: number[];
      classes: string[];
    }
  | { message: string };

export interface DataVersionView {
  id: string;
  kind: string;
  parent: string;
  rows: number;
  createdAt: string;
  summary: string;
}

/**
 * The dev examples as columns: row r is (ids[r], truth[r], …). Class values are class indices.
 * Typed arrays: VS Code carries them to the webview as binary (no JSON for 50,000+ rows), and the
 * host sends them once per load; later changes come as ErrorAnalysisUpdate deltas without them.
 */
export interface DevColumns {
  ids: string[];
  truth: Float64Array;
  predicted: Float64Array;
  /** Probability of the predicted class (classification), NaN for regression. */
  confidence: Float32Array;
  loss: Float32Array;
  /** 1 = the model got it wrong. */
  wrong: Uint8Array;
}

/** The first n values on their own exact-size buffer (VS Code sends a view's whole buffer): `a` itself when it is that already. */
function exact<T extends Float64Array | Float32Array | Uint8Array>(a: T, n: number): T {
  return a.length === n && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength ? a : (a.slice(0, n) as T);
}

/** The error table as the columns the host sends. */
export function devColumnsOf(table: ErrorTable): DevColumns {
  const n = table.n;
  return {
    ids: table.ids,
    truth: exact(table.truth, n),
    predicted: exact(table.predicted, n),
    confidence: exact(table.confidence, n),
    loss: exact(table.loss, n),
    wrong: exact(table.wrong, n),
  };
}

/** The queued production examples as columns: row r is (ids[r], refs[r], …). Class values are class indices. */
export interface ProductionColumns {
  ids: string[];
  /** The request: its id, or `<id>#<row>` for a row of a request of several rows. */
  refs: string[];
  deployments: string[];
  times: string[];
  /** What the served model predicted (class index or value); null when not logged or not a class of this run. */
  predicted: (number | null)[];
  /** Its top class probability as served; null without probabilities. */
  confidence: (number | null)[];
  /** The feedback label (class index or value); null without one. */
  truth: (number | null)[];
  /** Why it was queued: "low confidence" and the drifted values. */
  reasons: string[];
  /** Queued examples of another model's features, not listed. */
  hidden: number;
}

/** Four significant digits: what the list shows (production columns travel as JSON). */
function round4(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(4)) : x;
}

/** The review queue's examples of the run's model as the columns the host sends. */
export function productionColumnsOf(q: ProductionQueue, classes?: string[]): ProductionColumns {
  const value = (v: string | number | undefined): number | null => {
    if (v === undefined) return null;
    if (classes) {
      const c = classes.indexOf(String(v));
      return c < 0 ? null : c;
    }
    const x = typeof v === 'number' ? v : Number(v);
    return Number.isFinite(x) ? x : null;
  };
  return {
    ids: q.items.map((i) => i.id),
    refs: q.refs,
    deployments: q.items.map((i) => i.deployment),
    times: q.items.map((i) => i.time),
    predicted: q.items.map((i) => value(i.predicted)),
    confidence: q.items.map((i) => (i.confidence === undefined ? null : round4(i.confidence))),
    truth: Array.from(q.rows.y, (y) => (Number.isNaN(y) ? null : y)),
    reasons: q.items.map((i) =>
      [
        ...(i.reasons.includes('low-confidence') ? ['low confidence'] : []),
        ...(i.drift ?? (i.reasons.includes('drift') ? ['drift'] : [])),
      ].join('; '),
    ),
    hidden: q.hidden,
  };
}

export interface ErrorAnalysisView {
  runId: string;
  /** Which load of the panel this view is (updates name it: one for an older load is ignored). */
  load: number;
  experiment: string;
  dataVersion: string;
  task: 'classification' | 'regression';
  classes?: string[];
  /** Drawn as images; `files`: an image project (data.images / imageColumn), whose images augmentation
   *  writes as files and similar-image search finds by embedding. A table's pixel columns (data.image) are
   *  drawn too, but augmented as rows and have no embedding search. */
  image?: { width: number; height: number; channels: number; files: boolean };
  featureNames: string[];
  dev: DevColumns;
  /** The Production source: queued drifted or low-confidence production requests of this model. */
  production: ProductionColumns;
  errorCount: number;
  /** Example id → tags (the project's whole store). */
  tags: Record<string, string[]>;
  tagTable: TagRow[];
  slices: SliceView[];
  /** The slices are still being found (the examples are drawn first); an update brings them. */
  slicesPending?: boolean;
  labelErrors: LabelErrorsState;
  /** Where likely label errors come from: cross-validating the experiment (built-in), or the
   *  run's own dev predictions ('dev': a script model, which never trained on dev). */
  labelErrorSource: 'cross-validation' | 'dev';
  versions: DataVersionView[];
  /** Built-in experiments that can train on a version. */
  experiments: string[];
  openMs: number;
}

export type ExampleSource = 'dev' | 'production';

/** A filter the host asks for (e.g. a confusion-matrix cell clicked in the Diagnostics panel, or the Production source when the Monitoring panel sent requests); `seq` changes per request. */
export interface RequestedFilter {
  seq: number;
  /** The examples listed (dev when absent). */
  source?: ExampleSource;
  truth?: string;
  predicted?: string;
}

export type ErrorAnalysisState =
  | { status: 'loading'; runId: string }
  | { status: 'error'; runId: string; message: string }
  | { status: 'loaded'; view: ErrorAnalysisView; filter?: RequestedFilter; busy?: string };

/**
 * What changed in a loaded view since the state message of the same `load` (tagging, label-error
 * progress, data versions, busy, a requested filter). Never the dev columns: those come once per load.
 */
export interface ErrorAnalysisUpdate {
  /** The tags of these example ids now (an empty list: no tag left). */
  tags?: Record<string, string[]>;
  tagTable?: TagRow[];
  /** The slices (found after the state was sent: slicesPending is over). */
  slices?: SliceView[];
  labelErrors?: LabelErrorsState;
  versions?: DataVersionView[];
  /** What the host is doing ('' = nothing). */
  busy?: string;
  filter?: RequestedFilter;
}

export type ErrorAnalysisHostMessage =
  | { type: 'state'; state: ErrorAnalysisState }
  | { type: 'update'; runId: string; load: number; update: ErrorAnalysisUpdate }
  | { type: 'features'; requestId: number; ids: string[]; numeric: number[][]; categories: string[][] }
  | { type: 'sliceRows'; key: string; rows: number[] }
  | { type: 'neighbours'; result: NeighboursView }
  | { type: 'augmentPreview'; result: AugmentPreviewView }
  | { type: 'similar'; result: SimilarView }
  | { type: 'embeddingMap'; result: EmbeddingMapView };

export type ErrorAnalysisWebviewMessage =
  | ReadyMessage
  | { type: 'features'; requestId: number; ids: string[] }
  | { type: 'tag'; ids: string[]; tag: string; remove?: boolean }
  | { type: 'sliceRows'; key: string }
  | { type: 'neighbours'; id: string }
  | { type: 'findLabelErrors' }
  | { type: 'fixLabels'; fixes: Record<string, string> }
  | { type: 'augment'; source: AugmentSourceRef; count: number; seed?: number; proposals?: TransformProposalView[] }
  | {
      type: 'augmentPreview';
      source: AugmentSourceRef;
      count: number;
      seed?: number;
      proposals?: TransformProposalView[];
    }
  | { type: 'similar'; source: SimilarSourceRef; k?: number }
  | { type: 'addImages'; picks: { file: string; label: string }[] }
  | { type: 'embeddingMap' }
  | { type: 'export'; source: AugmentSourceRef }
  | { type: 'addData' }
  | { type: 'train'; version: string; experiment: string }
  | { type: 'refresh' };

const isString = (v: unknown): v is string => typeof v === 'string';

const OPS = new Set(['flip', 'rotate', 'shift', 'crop', 'brightness', 'contrast', 'blur', 'noise']);
function isProposal(v: unknown): v is TransformProposalView {
  return (
    isRecord(v) &&
    isString(v.op) &&
    OPS.has(v.op) &&
    isFiniteNumber(v.probability) &&
    v.probability >= 0 &&
    v.probability <= 1 &&
    (v.range === undefined || (isArrayOf(v.range, isFiniteNumber) && v.range.length === 2)) &&
    isString(v.why)
  );
}

function isSource(v: unknown): v is AugmentSourceRef {
  return isRecord(v) && ((isString(v.tag) && v.tag.length > 0) || (isString(v.slice) && v.slice.length > 0));
}

export function isErrorAnalysisWebviewMessage(v: unknown): v is ErrorAnalysisWebviewMessage {
  if (isReadyMessage(v)) return true;
  if (hasType(v, 'features')) return isFiniteNumber(v.requestId) && isArrayOf(v.ids, isString) && v.ids.length <= 5000;
  if (hasType(v, 'tag'))
    return (
      isArrayOf(v.ids, isString) &&
      v.ids.length > 0 &&
      isString(v.tag) &&
      v.tag.trim().length > 0 &&
      (v.remove === undefined || typeof v.remove === 'boolean')
    );
  if (hasType(v, 'sliceRows')) return isString(v.key);
  if (hasType(v, 'neighbours')) return isString(v.id);
  if (hasType(v, 'fixLabels'))
    return isRecord(v.fixes) && Object.values(v.fixes).every(isString) && Object.keys(v.fixes).length > 0;
  if (hasType(v, 'augment') || hasType(v, 'augmentPreview'))
    return (
      isSource(v.source) &&
      Number.isInteger(v.count) &&
      (v.count as number) >= 1 &&
      (v.count as number) <= 1_000_000 &&
      (v.seed === undefined || Number.isInteger(v.seed)) &&
      (v.proposals === undefined || isArrayOf(v.proposals, isProposal))
    );
  if (hasType(v, 'similar'))
    return (
      (isSource(v.source) ||
        (isRecord(v.source) &&
          isArrayOf(v.source.ids, isString) &&
          v.source.ids.length > 0 &&
          v.source.ids.length <= 5000)) &&
      (v.k === undefined || (Number.isInteger(v.k) && (v.k as number) >= 1 && (v.k as number) <= 200))
    );
  if (hasType(v, 'addImages'))
    return (
      isArrayOf(
        v.picks,
        (x): x is { file: string; label: string } => isRecord(x) && isString(x.file) && isString(x.label),
      ) && v.picks.length > 0
    );
  if (hasType(v, 'export')) return isSource(v.source);
  if (hasType(v, 'train')) return isString(v.version) && isString(v.experiment);
  return ['findLabelErrors', 'addData', 'refresh', 'embeddingMap'].some((t) => hasType(v, t));
}

/** A typed array of the given kind (by its tag: the webview's realm has its own constructors). */
function isTyped(v: unknown, kind: 'Float64Array' | 'Float32Array' | 'Uint8Array', n: number): boolean {
  return (
    ArrayBuffer.isView(v) &&
    Object.prototype.toString.call(v) === `[object ${kind}]` &&
    (v as Float64Array).length === n
  );
}

function isDevColumns(v: unknown): v is DevColumns {
  if (!isRecord(v) || !isArrayOf(v.ids, isString)) return false;
  const n = v.ids.length;
  return (
    isTyped(v.truth, 'Float64Array', n) &&
    isTyped(v.predicted, 'Float64Array', n) &&
    isTyped(v.confidence, 'Float32Array', n) &&
    isTyped(v.loss, 'Float32Array', n) &&
    isTyped(v.wrong, 'Uint8Array', n)
  );
}

const isTagRow = (t: unknown): t is TagRow => isRecord(t) && isString(t.tag) && isFiniteNumber(t.errors);
const isSliceView = (s: unknown): s is SliceView => isRecord(s) && isString(s.key) && isString(s.label);
const isVersionView = (x: unknown): x is DataVersionView => isRecord(x) && isString(x.id);
const isTagLists = (v: unknown): v is Record<string, string[]> =>
  isRecord(v) && Object.values(v).every((t) => isArrayOf(t, isString));

function isUpdate(v: unknown): v is ErrorAnalysisUpdate {
  return (
    isRecord(v) &&
    (v.tags === undefined || isTagLists(v.tags)) &&
    (v.tagTable === undefined || isArrayOf(v.tagTable, isTagRow)) &&
    (v.slices === undefined || isArrayOf(v.slices, isSliceView)) &&
    (v.labelErrors === undefined || (isRecord(v.labelErrors) && isString(v.labelErrors.status))) &&
    (v.versions === undefined || isArrayOf(v.versions, isVersionView)) &&
    (v.busy === undefined || isString(v.busy)) &&
    (v.filter === undefined || (isRecord(v.filter) && isFiniteNumber(v.filter.seq))) &&
    !('dev' in v)
  );
}

function isProductionColumns(v: unknown): v is ProductionColumns {
  if (!isRecord(v) || !isArrayOf(v.ids, isString) || !isFiniteNumber(v.hidden)) return false;
  const n = v.ids.length;
  const nullableNumbers = (x: unknown) =>
    Array.isArray(x) && x.length === n && x.every((y) => y === null || isFiniteNumber(y));
  return (
    (['refs', 'deployments', 'times', 'reasons'] as const).every(
      (k) => isArrayOf(v[k], isString) && (v[k] as string[]).length === n,
    ) &&
    nullableNumbers(v.predicted) &&
    nullableNumbers(v.confidence) &&
    nullableNumbers(v.truth)
  );
}

function isView(v: unknown): v is ErrorAnalysisView {
  return (
    isRecord(v) &&
    isString(v.runId) &&
    isFiniteNumber(v.load) &&
    isString(v.experiment) &&
    isString(v.dataVersion) &&
    (v.task === 'classification' || v.task === 'regression') &&
    isArrayOf(v.featureNames, isString) &&
    (v.image === undefined || (isRecord(v.image) && typeof v.image.files === 'boolean')) &&
    isDevColumns(v.dev) &&
    isProductionColumns(v.production) &&
    isFiniteNumber(v.errorCount) &&
    isTagLists(v.tags) &&
    isArrayOf(v.tagTable, isTagRow) &&
    isArrayOf(v.slices, isSliceView) &&
    isRecord(v.labelErrors) &&
    isArrayOf(v.versions, isVersionView) &&
    isArrayOf(v.experiments, isString)
  );
}

export function isErrorAnalysisHostMessage(v: unknown): v is ErrorAnalysisHostMessage {
  if (hasType(v, 'features'))
    return (
      isFiniteNumber(v.requestId) &&
      isArrayOf(v.ids, isString) &&
      Array.isArray(v.numeric) &&
      Array.isArray(v.categories)
    );
  if (hasType(v, 'sliceRows')) return isString(v.key) && isArrayOf(v.rows, isFiniteNumber);
  if (hasType(v, 'neighbours'))
    return (
      isRecord(v.result) &&
      isString(v.result.id) &&
      isArrayOf(v.result.byClass, (list): list is NeighbourImage[] =>
        isArrayOf(
          list,
          (x): x is NeighbourImage => isRecord(x) && isString(x.id) && isString(x.file) && Array.isArray(x.pixels),
        ),
      )
    );
  if (hasType(v, 'augmentPreview'))
    return (
      isRecord(v.result) &&
      isSource(v.result.source) &&
      (isString(v.result.message) || isArrayOf(v.result.images, isRecord))
    );
  if (hasType(v, 'similar'))
    return (
      isRecord(v.result) &&
      isRecord(v.result.source) &&
      (isString(v.result.message) || isArrayOf(v.result.train, isRecord))
    );
  if (hasType(v, 'embeddingMap'))
    return (
      isRecord(v.result) &&
      (isString(v.result.message) ||
        (isArrayOf(v.result.ids, isString) &&
          isArrayOf(v.result.x, isFiniteNumber) &&
          isArrayOf(v.result.y, isFiniteNumber) &&
          v.result.x.length === v.result.ids.length))
    );
  if (hasType(v, 'update')) return isString(v.runId) && isFiniteNumber(v.load) && isUpdate(v.update);
  if (!hasType(v, 'state') || !isRecord(v.state)) return false;
  const st = v.state;
  if (st.status === 'loading') return isString(st.runId);
  if (st.status === 'error') return isString(st.runId) && isString(st.message);
  return (
    st.status === 'loaded' &&
    isView(st.view) &&
    (st.filter === undefined ||
      (isRecord(st.filter) &&
        isFiniteNumber(st.filter.seq) &&
        (st.filter.source === undefined || st.filter.source === 'dev' || st.filter.source === 'production')))
  );
}
