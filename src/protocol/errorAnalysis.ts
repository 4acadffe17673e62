// Messages of the Error Analysis panel (webview/errorAnalysis ⇄ src/extension/panels/errorAnalysisPanel.ts).
// The host sends the run's dev table as columns (cheap for 50,000+ rows); feature values (pixels)
// are asked for by the webview for the rows it shows, correlated by a request id.
import type { ErrorTable } from '../core/errors/errorTable';
import type { TagRow } from '../core/errors/tags';
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

export interface DataVersionView {
  id: string;
  kind: string;
  parent: string;
  rows: number;
  createdAt: string;
  summary: string;
}

/** The dev examples as columns: row r is (ids[r], truth[r], …). Class values are class indices. */
export interface DevColumns {
  ids: string[];
  truth: number[];
  predicted: number[];
  /** Probability of the predicted class (classification), null for regression. */
  confidence: (number | null)[];
  loss: number[];
  /** 1 = the model got it wrong. */
  wrong: number[];
}

/** Four significant digits: what the list shows, and a third of the JSON of a full double. */
function round4(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(4)) : x;
}

/** The error table as the columns the host sends (confidence and loss to four significant digits). */
export function devColumnsOf(table: ErrorTable): DevColumns {
  return {
    ids: table.ids,
    truth: Array.from(table.truth),
    predicted: Array.from(table.predicted),
    confidence: Array.from(table.confidence, (c) => (Number.isNaN(c) ? null : round4(c))),
    loss: Array.from(table.loss, round4),
    wrong: Array.from(table.wrong),
  };
}

export interface ErrorAnalysisView {
  runId: string;
  experiment: string;
  dataVersion: string;
  task: 'classification' | 'regression';
  classes?: string[];
  image?: { width: number; height: number; channels: number };
  featureNames: string[];
  dev: DevColumns;
  errorCount: number;
  /** Example id → tags (the project's whole store). */
  tags: Record<string, string[]>;
  tagTable: TagRow[];
  slices: SliceView[];
  labelErrors: LabelErrorsState;
  versions: DataVersionView[];
  /** Built-in experiments that can train on a version. */
  experiments: string[];
  openMs: number;
}

/** A filter the host asks for (e.g. a confusion-matrix cell clicked in the Diagnostics panel); `seq` changes per request. */
export interface RequestedFilter {
  seq: number;
  truth?: string;
  predicted?: string;
}

export type ErrorAnalysisState =
  | { status: 'loading'; runId: string }
  | { status: 'error'; runId: string; message: string }
  | { status: 'loaded'; view: ErrorAnalysisView; filter?: RequestedFilter; busy?: string };

export type ErrorAnalysisHostMessage =
  | { type: 'state'; state: ErrorAnalysisState }
  | { type: 'features'; requestId: number; ids: string[]; numeric: number[][]; categories: string[][] }
  | { type: 'sliceRows'; key: string; rows: number[] };

export type ErrorAnalysisWebviewMessage =
  | ReadyMessage
  | { type: 'features'; requestId: number; ids: string[] }
  | { type: 'tag'; ids: string[]; tag: string; remove?: boolean }
  | { type: 'sliceRows'; key: string }
  | { type: 'findLabelErrors' }
  | { type: 'fixLabels'; fixes: Record<string, string> }
  | { type: 'augment'; source: AugmentSourceRef; count: number; seed?: number }
  | { type: 'export'; source: AugmentSourceRef }
  | { type: 'addData' }
  | { type: 'train'; version: string; experiment: string }
  | { type: 'refresh' };

const isString = (v: unknown): v is string => typeof v === 'string';

function isSource(v: unknown): v is AugmentSourceRef {
  return isRecord(v) && ((isString(v.tag) && v.tag.length > 0) || (isString(v.slice) && v.slice.length > 0));
}

export function isErrorAnalysisWebviewMessage(v: unknown): v is ErrorAnalysisWebviewMessage {
  if (isReadyMessage(v)) return true;
  if (hasType(v, 'features')) return isFiniteNumber(v.requestId) && isArrayOf(v.ids, isString) && v.ids.length <= 5000;
  if (hasType(v, 'tag')) return isArrayOf(v.ids, isString) && v.ids.length > 0 && isString(v.tag) && v.tag.trim().length > 0 && (v.remove === undefined || typeof v.remove === 'boolean');
  if (hasType(v, 'sliceRows')) return isString(v.key);
  if (hasType(v, 'fixLabels')) return isRecord(v.fixes) && Object.values(v.fixes).every(isString) && Object.keys(v.fixes).length > 0;
  if (hasType(v, 'augment')) return isSource(v.source) && Number.isInteger(v.count) && (v.count as number) >= 1 && (v.count as number) <= 1_000_000 && (v.seed === undefined || Number.isInteger(v.seed));
  if (hasType(v, 'export')) return isSource(v.source);
  if (hasType(v, 'train')) return isString(v.version) && isString(v.experiment);
  return ['findLabelErrors', 'addData', 'refresh'].some((t) => hasType(v, t));
}

function isDevColumns(v: unknown): v is DevColumns {
  if (!isRecord(v) || !isArrayOf(v.ids, isString)) return false;
  const n = v.ids.length;
  return (['truth', 'predicted', 'loss', 'wrong'] as const).every((k) => Array.isArray(v[k]) && (v[k] as unknown[]).length === n) && Array.isArray(v.confidence) && v.confidence.length === n;
}

function isView(v: unknown): v is ErrorAnalysisView {
  return (
    isRecord(v) &&
    isString(v.runId) &&
    isString(v.experiment) &&
    isString(v.dataVersion) &&
    (v.task === 'classification' || v.task === 'regression') &&
    isArrayOf(v.featureNames, isString) &&
    isDevColumns(v.dev) &&
    isFiniteNumber(v.errorCount) &&
    isRecord(v.tags) &&
    isArrayOf(v.tagTable, (t): t is TagRow => isRecord(t) && isString(t.tag) && isFiniteNumber(t.errors)) &&
    isArrayOf(v.slices, (s): s is SliceView => isRecord(s) && isString(s.key) && isString(s.label)) &&
    isRecord(v.labelErrors) &&
    isArrayOf(v.versions, (x): x is DataVersionView => isRecord(x) && isString(x.id)) &&
    isArrayOf(v.experiments, isString)
  );
}

export function isErrorAnalysisHostMessage(v: unknown): v is ErrorAnalysisHostMessage {
  if (hasType(v, 'features')) return isFiniteNumber(v.requestId) && isArrayOf(v.ids, isString) && Array.isArray(v.numeric) && Array.isArray(v.categories);
  if (hasType(v, 'sliceRows')) return isString(v.key) && isArrayOf(v.rows, isFiniteNumber);
  if (!hasType(v, 'state') || !isRecord(v.state)) return false;
  const st = v.state;
  if (st.status === 'loading') return isString(st.runId);
  if (st.status === 'error') return isString(st.runId) && isString(st.message);
  return st.status === 'loaded' && isView(st.view);
}
