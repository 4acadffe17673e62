// Messages of the Compare panel (webview/compare ⇄ src/extension/experiments/comparePanel.ts).
import type { ErrorChanges } from '../core/analysis/compareErrors';
import type { CompareTable, RunCurves } from '../core/track/compare';
import { hasType, isArrayOf, isRecord, isReadyMessage, type ReadyMessage } from './common';
import { isRunCurves } from './training';

export type ComparePanelState =
  | { status: 'loading' }
  | { status: 'error'; message: string }
  | { status: 'loaded'; table: CompareTable; curves: RunCurves[]; projectMetric?: string; errors?: ErrorChangesState };

/** The runs' dev errors per tag and per slice (computed in a worker after the table shows). */
export type ErrorChangesState =
  { status: 'loading' } | { status: 'loaded'; changes: ErrorChanges } | { status: 'unavailable'; message: string };

export type CompareHostMessage = { type: 'state'; state: ComparePanelState };

export type CompareWebviewMessage = ReadyMessage | { type: 'exportCsv' };

export function isCompareWebviewMessage(value: unknown): value is CompareWebviewMessage {
  return isReadyMessage(value) || hasType(value, 'exportCsv');
}

function isTable(value: unknown): value is CompareTable {
  if (!isRecord(value) || !Array.isArray(value.columns) || !Array.isArray(value.rows)) return false;
  const n = value.columns.length;
  return value.rows.every(
    (r) =>
      isRecord(r) &&
      typeof r.key === 'string' &&
      Array.isArray(r.display) &&
      r.display.length === n &&
      Array.isArray(r.best) &&
      typeof r.differs === 'boolean',
  );
}

export function isCompareHostMessage(value: unknown): value is CompareHostMessage {
  if (!hasType(value, 'state') || !isRecord(value.state)) return false;
  const st = value.state;
  if (st.status === 'loading') return true;
  if (st.status === 'error') return typeof st.message === 'string';
  return (
    st.status === 'loaded' &&
    isTable(st.table) &&
    isArrayOf(st.curves, isRunCurves) &&
    (st.errors === undefined || isErrorChangesState(st.errors))
  );
}

const isCounts = (v: unknown): v is number[] =>
  isArrayOf(v, (x): x is number => typeof x === 'number' && Number.isFinite(x));

function isErrorChangesState(v: unknown): v is ErrorChangesState {
  if (!isRecord(v)) return false;
  if (v.status === 'loading') return true;
  if (v.status === 'unavailable') return typeof v.message === 'string';
  if (v.status !== 'loaded' || !isRecord(v.changes)) return false;
  const c = v.changes;
  const n = Array.isArray(c.runIds) ? c.runIds.length : -1;
  const counts = (x: unknown) => isCounts(x) && x.length === n;
  return (
    isArrayOf(c.runIds, (x): x is string => typeof x === 'string') &&
    counts(c.errors) &&
    isArrayOf(
      c.tags,
      (t): t is ErrorChanges['tags'][number] => isRecord(t) && typeof t.tag === 'string' && counts(t.errors),
    ) &&
    isArrayOf(
      c.slices,
      (s): s is ErrorChanges['slices'][number] =>
        isRecord(s) && typeof s.key === 'string' && typeof s.label === 'string' && counts(s.errors),
    )
  );
}
