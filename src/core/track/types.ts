// What the run store looks like to its readers (tree, panels, CLI): the run record as written by
// the training side (src/core/train/runStore.ts), its derived status, and the user's annotations.
import type { RunRecord, RunStatus } from '../train/runStore';

/** `interrupted`: run.json still says running but the process that trained it is gone. */
export type TrackedStatus = RunStatus | 'interrupted';

/** What the user adds to a run from the tree; kept in meta.json beside run.json (never in run.json, which the trainer rewrites). */
export interface RunAnnotations {
  name?: string;
  note?: string;
  starred?: boolean;
}

export interface TrackedRun {
  runId: string;
  /** Absolute path of the run folder. */
  dir: string;
  record: RunRecord;
  status: TrackedStatus;
  annotations: RunAnnotations;
}

/** A file of the store that could not be read; the run is skipped or read without that file. */
export interface StoreProblem {
  runId: string;
  file: string;
  message: string;
}

/** One line of metrics.jsonl written while training (a ProgressEvent with its time). */
export interface HistoryStep {
  step: number;
  t?: number;
  totalSteps?: number;
  trainLoss?: number;
  devLoss?: number;
  devMetric?: number;
  metricName?: string;
}

export interface RunHistory {
  steps: HistoryStep[];
  final?: RunRecord['metrics'];
  /** Lines that were not valid JSON (e.g. the last one, cut by a crash). */
  skippedLines: number;
}
