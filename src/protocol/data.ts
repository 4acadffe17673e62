// Messages of the Data panel (webview/data ⇄ src/extension/data/dataPanel.ts).
import type { ColumnProfile, DataProfile, ProfileFinding } from '../core/data/profileTypes';
import {
  hasType,
  isArrayOf,
  isFiniteNumber,
  isNumberArray,
  isReadyMessage,
  isRecord,
  type ReadyMessage,
} from './common';

/** The panel's whole state; the host always sends all of it. */
export type DataPanelState =
  | { status: 'loading'; projectFile: string }
  | { status: 'error'; projectFile: string; message: string }
  | { status: 'loaded'; projectFile: string; profile: DataProfile };

export type DataHostMessage = { type: 'state'; state: DataPanelState };

export type DataWebviewMessage =
  | ReadyMessage
  /** Profile the data again (the file may have changed). */
  | { type: 'refresh' }
  /** Open the data file in an editor. */
  | { type: 'openDataFile' };

export function isDataWebviewMessage(value: unknown): value is DataWebviewMessage {
  return isReadyMessage(value) || hasType(value, 'refresh') || hasType(value, 'openDataFile');
}

function isColumnProfile(value: unknown): value is ColumnProfile {
  if (!isRecord(value) || typeof value.name !== 'string' || !isFiniteNumber(value.count)) return false;
  if (!isFiniteNumber(value.missing) || !isFiniteNumber(value.distinct) || !isRecord(value.stats)) return false;
  const s = value.stats;
  if (s.kind === 'numeric') {
    return isRecord(s.histogram) && isNumberArray(s.histogram.edges) && isNumberArray(s.histogram.counts);
  }
  if (s.kind === 'categorical') {
    return isArrayOf(
      s.topValues,
      (t): t is { value: string; count: number } =>
        isRecord(t) && typeof t.value === 'string' && isFiniteNumber(t.count),
    );
  }
  return false;
}

function isFinding(value: unknown): value is ProfileFinding {
  return (
    isRecord(value) &&
    typeof value.severity === 'string' &&
    typeof value.message === 'string' &&
    typeof value.code === 'string'
  );
}

/** Checks the parts of a DataProfile the panel reads (it arrives from another process as JSON). */
export function isDataProfile(value: unknown): value is DataProfile {
  if (!isRecord(value) || typeof value.file !== 'string' || !isFiniteNumber(value.rows)) return false;
  if (!isArrayOf(value.columns, isColumnProfile) || !isArrayOf(value.findings, isFinding)) return false;
  if (!isRecord(value.split) || !isFiniteNumber(value.split.train)) return false;
  if (
    value.classBalance !== undefined &&
    !isArrayOf(
      value.classBalance,
      (c): c is unknown => isRecord(c) && typeof c.class === 'string' && isFiniteNumber(c.total),
    )
  ) {
    return false;
  }
  if (value.imageSamples !== undefined) {
    const im = value.imageSamples;
    if (!isRecord(im) || !isFiniteNumber(im.width) || !isFiniteNumber(im.height) || !Array.isArray(im.byClass))
      return false;
  }
  return true;
}

export function isDataHostMessage(value: unknown): value is DataHostMessage {
  if (!hasType(value, 'state') || !isRecord(value.state)) return false;
  const st = value.state;
  if (typeof st.projectFile !== 'string') return false;
  switch (st.status) {
    case 'loading':
      return true;
    case 'error':
      return typeof st.message === 'string';
    case 'loaded':
      return isDataProfile(st.profile);
    default:
      return false;
  }
}
