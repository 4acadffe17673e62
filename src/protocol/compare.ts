// Messages of the Compare panel (webview/compare ⇄ src/extension/panels/comparePanel.ts).
import type { CompareTable, RunCurves } from '../core/track/compare';
import { hasType, isArrayOf, isRecord, isReadyMessage, type ReadyMessage } from './common';
import { isRunCurves } from './training';

export type ComparePanelState =
  | { status: 'loading' }
  | { status: 'error'; message: string }
  | { status: 'loaded'; table: CompareTable; curves: RunCurves[]; projectMetric?: string };

export type CompareHostMessage = { type: 'state'; state: ComparePanelState };

export type CompareWebviewMessage = ReadyMessage | { type: 'exportCsv' };

export function isCompareWebviewMessage(value: unknown): value is CompareWebviewMessage {
  return isReadyMessage(value) || hasType(value, 'exportCsv');
}

function isTable(value: unknown): value is CompareTable {
  if (!isRecord(value) || !Array.isArray(value.columns) || !Array.isArray(value.rows)) return false;
  const n = value.columns.length;
  return value.rows.every((r) => isRecord(r) && typeof r.key === 'string' && Array.isArray(r.display) && r.display.length === n && Array.isArray(r.best) && typeof r.differs === 'boolean');
}

export function isCompareHostMessage(value: unknown): value is CompareHostMessage {
  if (!hasType(value, 'state') || !isRecord(value.state)) return false;
  const st = value.state;
  if (st.status === 'loading') return true;
  if (st.status === 'error') return typeof st.message === 'string';
  return st.status === 'loaded' && isTable(st.table) && isArrayOf(st.curves, isRunCurves);
}
