// The monitoring core's public API (issue 10): drift of a deployment's logged requests against the
// reference stored with the run, prediction drift, live accuracy from feedback, CBPE, operational
// series. Pure Node (no vscode). The work is CPU-bound: callers on the extension host run it in a
// worker or through `ml-loop drift --json` in a child process, never on the host thread.
//
// Files it reads, in a deployment's log folder `.mlloop/deployments/<name>/` (src/core/serve):
//   requests-*.jsonl   the server's request log (JSON Lines, the source of truth)
//   requests-*.cols    the same records in a columnar binary form written beside it (fast path, ./columnar.ts)
//   feedback-*.jsonl   `POST /v2/models/{name}/feedback` records {time, id, label}
// and, in a run folder, `reference.json` (MonitoringReference), written when the run finished.

import type { DriftThresholds, FeedbackRecord, MonitoringReference, MonitoringReport } from './types';

export type * from './types';

/** Evidently's defaults. */
export const DEFAULT_THRESHOLDS: DriftThresholds = {
  ksPValue: 0.05,
  wasserstein: 0.1,
  psi: 0.2,
  chiSquarePValue: 0.05,
  jensenShannon: 0.1,
  datasetShare: 0.5,
  largeWindow: 1000,
};

/** Requests in the default window (`ml-loop drift --window`). */
export const DEFAULT_WINDOW = 1000;

/** The file name of the reference in a run folder. */
export const REFERENCE_FILE = 'reference.json';

export interface MonitorOptions {
  /** The deployment's log folder (`.mlloop/deployments/<name>`). */
  logDir: string;
  /** The project folder, to find the run of the monitored version and its reference.json (default: three levels above logDir). */
  projectDir?: string;
  /** The last N requests (default DEFAULT_WINDOW); 0 or Infinity: the whole log. Ignored when `since` is given. */
  window?: number;
  /** Only requests logged at or after this time. */
  since?: string | Date;
  /** The model and version to monitor (default: those of the newest logged request). */
  model?: string;
  version?: string;
  /** Compare against this reference instead of the run's. */
  reference?: MonitoringReference;
  thresholds?: Partial<DriftThresholds>;
  /** Width of the buckets of the time series (default: chosen for about 60 buckets over the window). */
  bucketSeconds?: number;
  signal?: AbortSignal;
}

/** Drift, live accuracy and operational figures of a deployment over a window of its request log. */
export async function monitorDeployment(opts: MonitorOptions): Promise<MonitoringReport> {
  void opts;
  throw new Error('monitorDeployment: not implemented yet');
}

/** `ml-loop drift --reference CSV --current LOG.jsonl`: a reference computed from a CSV (the training data) against logged requests. */
export async function driftFromFiles(opts: {
  referenceCsv: string;
  /** Request log files (JSON Lines, as the server writes them), oldest first. */
  current: string[];
  /** The target column of the CSV (excluded from the features); default: the project's, or none. */
  target?: string;
  window?: number;
  thresholds?: Partial<DriftThresholds>;
  signal?: AbortSignal;
}): Promise<MonitoringReport> {
  void opts;
  throw new Error('driftFromFiles: not implemented yet');
}

/** The reference stored with a run (`<runDir>/reference.json`), or undefined when the run has none or it is unreadable. */
export function readReference(runDir: string): MonitoringReference | undefined {
  void runDir;
  throw new Error('readReference: not implemented yet');
}

/**
 * The reference of a run: its reference.json, else computed once from the project's data (the run's
 * data version, training split) and the run's model on dev, written to reference.json with source 'recomputed'.
 */
export async function runReference(projectDir: string, runId: string): Promise<{ reference: MonitoringReference; computed: boolean }> {
  void projectDir;
  void runId;
  throw new Error('runReference: not implemented yet');
}

/** Feedback records of a log folder (all feedback-*.jsonl), bad lines skipped and counted. */
export function readFeedback(logDir: string): { records: FeedbackRecord[]; bad: number } {
  void logDir;
  throw new Error('readFeedback: not implemented yet');
}
