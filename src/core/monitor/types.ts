// Public types of the monitoring core (src/core/monitor): the reference stored with a run (defined
// by src/core/train/reference.ts, which writes it), the thresholds, and the MonitoringReport that the
// CLI (`ml-loop drift`), the Monitoring panel and the alerts read. Plain data (JSON-serializable) so a
// report can cross a worker/child-process boundary.

/** The statistical tests, with Evidently's names and defaults (see DEFAULT_THRESHOLDS). */
export type DriftTest = 'ks' | 'wasserstein' | 'psi' | 'chisquare' | 'jensenshannon';

export interface DriftThresholds {
  /** Kolmogorov–Smirnov: drift when the p-value is below this (Evidently: 0.05). */
  ksPValue: number;
  /** Wasserstein distance normalized by the reference's standard deviation: drift above this (0.1). */
  wasserstein: number;
  /** Population stability index: drift above this (0.2). */
  psi: number;
  /** Chi-squared goodness of fit of the window's categories against the reference's: drift when p < this (0.05). */
  chiSquarePValue: number;
  /** Jensen–Shannon distance (natural log, as Evidently and SciPy's default; in [0, √ln 2]): drift above this (0.1). */
  jensenShannon: number;
  /** The dataset drifts when at least this share of its features drift (Evidently: 0.5). */
  datasetShare: number;
  /**
   * Numeric features: windows with at most this many values are judged by KS, larger ones by the
   * normalized Wasserstein distance (KS flags negligible shifts on large samples). Evidently: 1000.
   * Categorical features: chi-squared up to this size, Jensen–Shannon above.
   */
  largeWindow: number;
  /** Image models with an `embedding` output: drift when the domain classifier's ROC AUC is above this (Evidently: 0.55). */
  embeddingRocAuc: number;
}

// Reference: what monitoring compares against, written by training beside run.json
// (src/core/train/reference.ts, which owns these types).
import type {
  CategoricalReference,
  FeatureReference,
  MonitoringReference,
  NumericReference,
  PredictionReference,
} from '../train/reference';
export type { CategoricalReference, FeatureReference, MonitoringReference, NumericReference, PredictionReference };
export type { EmbeddingReference, ImageReference } from '../train/reference';
import type { EmbeddingDrift } from './embeddingDrift';
export type { EmbeddingDrift };

// ---------------------------------------------------------------------------------------------
// Report.

/** Counts over the window of one feature, binned for the overlaid histograms. */
export interface FeatureHistogram {
  /** Numeric: bin edges (length bins + 1). Categorical: absent. */
  edges?: number[];
  /** Categorical: the category of each bin (unseen ones last). */
  categories?: string[];
  /** Shares (sum 1 over non-missing values) per bin. */
  reference: number[];
  current: number[];
}

export interface FeatureDrift {
  name: string;
  kind: 'numeric' | 'categorical';
  /** The test that decides drift for this feature (KS or Wasserstein; chi-squared or JS), by window size. */
  test: DriftTest;
  /** That test's statistic (KS: D; Wasserstein: normalized distance; chi-squared: χ²; JS: distance). */
  statistic: number;
  /** KS and chi-squared: the p-value. */
  pValue?: number;
  /** The threshold the statistic (or p-value) is compared with. */
  threshold: number;
  drifted: boolean;
  /** A 0–1 "how bad" score for sorting worst first, comparable across tests (statistic ÷ threshold, p-values mapped). */
  score: number;
  /** Every statistic computed, whichever decides. */
  stats: Partial<Record<DriftTest, number>> & { ksPValue?: number; chiSquarePValue?: number };
  /** Whether PSI also crosses its threshold (reported, not deciding). */
  psiDrifted?: boolean;
  /** Values in the window (not missing). */
  count: number;
  missingRate: number;
  referenceMissingRate: number;
  /** Numeric: share of values below the training minimum or above the training maximum. */
  outOfRangeRate?: number;
  /** Categorical: categories never seen in training, with their counts in the window. */
  unseenCategories?: Record<string, number>;
  histogram: FeatureHistogram;
}

export interface PredictionDrift {
  kind: 'classes' | 'values';
  test: DriftTest;
  statistic: number;
  pValue?: number;
  threshold: number;
  drifted: boolean;
  /** Classification: class → share of predictions in the window and on dev. */
  current?: Record<string, number>;
  reference?: Record<string, number>;
  histogram?: FeatureHistogram;
  count: number;
}

export interface TimePoint {
  /** Start of the bucket, ISO time. */
  time: string;
  value: number;
  /** Rows (or labelled rows) behind the value. */
  n: number;
}

export interface LiveAccuracy {
  metric: 'accuracy' | 'rmse';
  /** Over the labelled rows of the window. */
  value: number;
  /** Logged rows of the window that have a feedback label. */
  labelled: number;
  /** The model's dev score (same metric), when the reference has it. */
  dev?: number;
  /** value − dev for accuracy (negative = worse), dev − value for rmse (negative = worse). */
  change?: number;
  series: TimePoint[];
}

/** Confidence-based performance estimation (NannyML's CBPE): expected accuracy = mean top-class probability. An estimate, not a measurement. */
export interface EstimatedAccuracy {
  estimate: true;
  method: 'cbpe';
  metric: 'accuracy';
  value: number;
  rows: number;
  dev?: number;
  series: TimePoint[];
}

export interface OperationalPoint {
  /** Start of the bucket, ISO time. */
  time: string;
  requests: number;
  rps: number;
  errorRate: number;
  p50: number;
  p90: number;
  p99: number;
}

export interface Operational {
  requests: number;
  errors: number;
  errorRate: number;
  /** Latency (ms) percentiles over the window. */
  p50: number;
  p90: number;
  p99: number;
  rps: number;
  bucketSeconds: number;
  series: OperationalPoint[];
}

export type MonitoringIssueKind =
  | 'corrupt-line' // a log line that is not a JSON record (e.g. truncated by a crash mid-write)
  | 'other-version' // records of another model version/run (other inputs) than the one monitored
  | 'bad-inputs' // a record whose inputs do not fit the model's features
  | 'unknown-feedback' // feedback for a request id not in the log
  | 'bad-feedback' // a feedback line that is not a {time, id, label} record, or a label the model does not know
  | 'empty-window' // no rows to compare
  | 'no-reference' // no reference.json with the run: computed from the project's data (or unavailable)
  | 'failed-requests' // non-200 records, skipped for drift (they count for the error rate)
  | 'missing-images'; // logged images whose file is gone (deleted by the log's cap) or unreadable

export interface MonitoringIssue {
  kind: MonitoringIssueKind;
  message: string;
  count: number;
  /** Where (file:line) for the first few. */
  examples?: string[];
}

/** One logged image of the window (a row of an image request). */
export interface MonitoredImage {
  /** The stored file, relative to the log folder (`images/<sha256>.<ext>`, src/core/requestLog/images.ts). */
  file: string;
  /** The request id and the row in it. */
  id: string;
  row: number;
  time: string;
  /** The predicted class and its probability, when logged. */
  label?: string;
  confidence?: number;
  /** The feedback label, when given. */
  truth?: string;
}

/** Image deployments: what the window's pictures were, beside the training ones. */
export interface ImageWindow {
  /** Logged images of the window, and those whose file was gone or unreadable (left out of the drift). */
  images: number;
  missing: number;
  /** The newest images of the window. */
  samples: MonitoredImage[];
  /** Worst first: wrong on feedback, then least confident. */
  worst: MonitoredImage[];
  /** Training images to show beside them, relative to the project folder. */
  reference: string[];
}

export interface MonitoringReport {
  /** The deployment (its log folder's name), when read from one. */
  deployment?: string;
  model?: string;
  /** The model version monitored (records of others are skipped and reported). */
  version?: string;
  runId?: string;
  window: {
    /** 'requests': the last N requests; 'time': since a time; 'all': the whole log. */
    kind: 'requests' | 'time' | 'all';
    size?: number;
    since?: string;
    requests: number;
    rows: number;
    from?: string;
    to?: string;
  };
  reference: { source: MonitoringReference['source'] | 'csv'; rows: number; dataVersion?: string };
  thresholds: DriftThresholds;
  /** Worst first. */
  features: FeatureDrift[];
  dataset: { drifted: number; total: number; share: number; threshold: number; drift: boolean };
  prediction?: PredictionDrift;
  /** Image deployments whose model has an `embedding` output: the domain classifier's verdict. */
  embedding?: EmbeddingDrift;
  /** Image deployments. */
  images?: ImageWindow;
  live?: LiveAccuracy;
  estimated?: EstimatedAccuracy;
  operational: Operational;
  /** True when the dataset signal, the prediction drift or the embedding drift crosses its threshold (`ml-loop drift` exits 3). */
  drift: boolean;
  issues: MonitoringIssue[];
  /** Which reader served the window: the columnar sidecar (fast) or the JSON Lines. */
  reader: 'columnar' | 'jsonl';
  computedAt: string;
  elapsedMs: number;
}

// One feedback record: stored beside the request logs, so the request-log module owns its type.
export type { FeedbackRecord } from '../requestLog/log';
