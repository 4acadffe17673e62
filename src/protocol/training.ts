// Messages of the Training panel (webview/training ⇄ src/extension/training/trainingPanel.ts).
// The host sends the whole state (run summary + every curve point so far) each time, throttled.
import type { RunCurves } from '../core/track/compare';
import { hasType, isArrayOf, isRecord, isReadyMessage, type ReadyMessage } from './common';

export interface TrainingRunView {
  runId: string;
  label: string;
  experiment: string;
  model: string;
  status: string;
  startedAt: string;
  endedAt?: string;
  params: Record<string, unknown>;
  metrics?: Record<string, Record<string, number> | undefined>;
  error?: string;
  /** The project's metric, for the headline (e.g. accuracy). */
  projectMetric?: string;
  /** This window trains the run, so it can be cancelled from here. */
  cancellable: boolean;
}

export type TrainingPanelState =
  | { status: 'loading'; runId: string }
  | { status: 'error'; runId: string; message: string }
  | { status: 'loaded'; run: TrainingRunView; curves: RunCurves };

export type TrainingHostMessage = { type: 'state'; state: TrainingPanelState; seq: number };

export type TrainingWebviewMessage = ReadyMessage | { type: 'cancel' } | { type: 'revealModel' };

export function isTrainingWebviewMessage(value: unknown): value is TrainingWebviewMessage {
  return isReadyMessage(value) || hasType(value, 'cancel') || hasType(value, 'revealModel');
}

const isNumOrNull = (v: unknown): v is number | null => v === null || typeof v === 'number';

export function isRunCurves(value: unknown): value is RunCurves {
  if (!isRecord(value) || typeof value.runId !== 'string' || typeof value.label !== 'string') return false;
  if (!isArrayOf(value.steps, (s): s is number => typeof s === 'number')) return false;
  const n = value.steps.length;
  return (['trainLoss', 'devLoss', 'devMetric'] as const).every(
    (k) => isArrayOf(value[k], isNumOrNull) && (value[k] as unknown[]).length === n,
  );
}

function isRunView(value: unknown): value is TrainingRunView {
  return (
    isRecord(value) &&
    typeof value.runId === 'string' &&
    typeof value.experiment === 'string' &&
    typeof value.status === 'string' &&
    typeof value.startedAt === 'string' &&
    isRecord(value.params) &&
    typeof value.cancellable === 'boolean'
  );
}

export function isTrainingHostMessage(value: unknown): value is TrainingHostMessage {
  if (!hasType(value, 'state') || typeof value.seq !== 'number' || !isRecord(value.state)) return false;
  const st = value.state;
  switch (st.status) {
    case 'loading':
      return typeof st.runId === 'string';
    case 'error':
      return typeof st.runId === 'string' && typeof st.message === 'string';
    case 'loaded':
      return isRunView(st.run) && isRunCurves(st.curves);
    default:
      return false;
  }
}
