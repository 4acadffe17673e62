// Messages of the Diagnostics panel (webview/diagnostics ⇄ src/extension/diagnose/diagnosticsPanel.ts)
// and of the compact Run Diagnostics view (webview/runDiagnostics ⇄ src/extension/diagnose/runDiagnosticsView.ts).
import type { RunDiagnosis } from '../core/diagnose/diagnoseRun';
import type { Verdict } from '../core/diagnose/biasVariance';
import type { LearningCurve, ValidationCurve } from '../core/diagnose/learningCurveTypes';
import { hasType, isArrayOf, isFiniteNumber, isReadyMessage, isRecord, type ReadyMessage } from './common';

/** Progress of a background computation (learning or validation curve). */
export type JobState = { status: 'idle' } | { status: 'running'; done: number; total: number } | { status: 'failed'; message: string } | { status: 'cancelled' };

/** The panel's whole state; the host always sends all of it. */
export type DiagnosticsPanelState =
  | { status: 'loading'; runId: string }
  | { status: 'error'; runId: string; message: string }
  | {
      status: 'loaded';
      diagnosis: RunDiagnosis;
      learningCurve: JobState;
      validationCurve: JobState;
      validation?: ValidationCurve;
      /** Parameters a validation curve can sweep for this model. */
      sweepable: string[];
    };

export type DiagnosticsHostMessage = { type: 'state'; state: DiagnosticsPanelState };

export type DiagnosticsWebviewMessage =
  | ReadyMessage
  | { type: 'computeLearningCurve' }
  | { type: 'cancelLearningCurve' }
  | { type: 'computeValidationCurve'; param: string }
  | { type: 'cancelValidationCurve' }
  /** Reveal the experiment in mlloop.json. */
  | { type: 'openExperiment' }
  /** A confusion-matrix cell was clicked: open Error Analysis filtered to it (class names). */
  | { type: 'openErrors'; truth: string; predicted: string }
  | { type: 'refresh' };

export function isDiagnosticsWebviewMessage(value: unknown): value is DiagnosticsWebviewMessage {
  if (isReadyMessage(value)) return true;
  if (hasType(value, 'computeValidationCurve')) return typeof value.param === 'string' && value.param.length > 0;
  if (hasType(value, 'openErrors')) return typeof value.truth === 'string' && typeof value.predicted === 'string';
  return ['computeLearningCurve', 'cancelLearningCurve', 'cancelValidationCurve', 'openExperiment', 'refresh'].some((t) => hasType(value, t));
}

function isJobState(v: unknown): v is JobState {
  if (!isRecord(v)) return false;
  switch (v.status) {
    case 'idle':
    case 'cancelled':
      return true;
    case 'running':
      return isFiniteNumber(v.done) && isFiniteNumber(v.total);
    case 'failed':
      return typeof v.message === 'string';
    default:
      return false;
  }
}

export function isVerdict(v: unknown): v is Verdict {
  return (
    isRecord(v) &&
    typeof v.summary === 'string' &&
    typeof v.dominant === 'string' &&
    isFiniteNumber(v.trainError) &&
    isFiniteNumber(v.devError) &&
    isFiniteNumber(v.baseline) &&
    isArrayOf(v.recommendations, (r): r is unknown => isRecord(r) && typeof r.text === 'string') &&
    isArrayOf(v.notes, (n): n is string => typeof n === 'string')
  );
}

function isLearningCurve(v: unknown): v is LearningCurve {
  return isRecord(v) && isArrayOf(v.points, (p): p is unknown => isRecord(p) && isFiniteNumber(p.trainSize) && isFiniteNumber(p.trainError) && isFiniteNumber(p.devError));
}

/** Checks the parts of a RunDiagnosis the panel reads. */
export function isRunDiagnosis(v: unknown): v is RunDiagnosis {
  if (!isRecord(v) || typeof v.runId !== 'string' || typeof v.experiment !== 'string' || !isVerdict(v.verdict)) return false;
  if (!isRecord(v.splits) || !isRecord(v.splits.train) || !isRecord(v.project)) return false;
  // The CLI's JSON writes null for what was not computed.
  if (v.learningCurve != null && !isLearningCurve(v.learningCurve)) return false;
  return true;
}

export function isDiagnosticsHostMessage(value: unknown): value is DiagnosticsHostMessage {
  if (!hasType(value, 'state') || !isRecord(value.state)) return false;
  const st = value.state;
  switch (st.status) {
    case 'loading':
      return typeof st.runId === 'string';
    case 'error':
      return typeof st.runId === 'string' && typeof st.message === 'string';
    case 'loaded':
      return isRunDiagnosis(st.diagnosis) && isJobState(st.learningCurve) && isJobState(st.validationCurve) && isArrayOf(st.sweepable, (s): s is string => typeof s === 'string');
    default:
      return false;
  }
}

/** The compact view: the selected run's verdict, or why there is none. */
export type RunDiagnosticsViewState =
  | { status: 'empty'; message: string }
  | { status: 'verdict'; runId: string; /** Absolute path of the run's mlloop.json. */ projectFile: string; experiment: string; label: string; verdict: Verdict };

export type RunDiagnosticsHostMessage = { type: 'state'; state: RunDiagnosticsViewState };

export type RunDiagnosticsWebviewMessage = ReadyMessage | { type: 'openPanel' };

export function isRunDiagnosticsWebviewMessage(value: unknown): value is RunDiagnosticsWebviewMessage {
  return isReadyMessage(value) || hasType(value, 'openPanel');
}

export function isRunDiagnosticsHostMessage(value: unknown): value is RunDiagnosticsHostMessage {
  if (!hasType(value, 'state') || !isRecord(value.state)) return false;
  const st = value.state;
  if (st.status === 'empty') return typeof st.message === 'string';
  return st.status === 'verdict' && typeof st.runId === 'string' && typeof st.projectFile === 'string' && typeof st.experiment === 'string' && typeof st.label === 'string' && isVerdict(st.verdict);
}
