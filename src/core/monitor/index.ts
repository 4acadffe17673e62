// The monitoring core's public API: drift of a deployment's logged requests against the
// reference stored with the run, prediction drift, live accuracy from feedback, CBPE, operational
// series. Pure Node (no vscode). The work is CPU-bound: callers on the extension host run it in a
// worker or through `ml-loop drift --json` in a child process, never on the host thread.
//
// Files it reads, in a deployment's log folder `.mlloop/deployments/<name>/` (src/core/requestLog):
//   requests-*.jsonl   the server's request log (JSON Lines, the source of truth)
//   requests-*.cols    the same records in a columnar binary form written beside it (fast path, src/core/requestLog/columnar.ts)
//   feedback-*.jsonl   `POST /v2/models/{name}/feedback` records {time, id, label}
// and, in a run folder, `reference.json` (MonitoringReference), written when the run finished.
// The Monitoring panel's charts (./charts.ts) and alert rules (./alerts.ts) are built from its report.

import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadDataVersion } from '../data/dataVersions';
import { ScriptModel } from '../scripts/scriptModel';
import { readRun } from '../train/runStore';
import { readTable } from '../data/reader';
import {
  buildReference,
  categoricalReference,
  numericReference,
  readReference,
  writeReference,
} from '../train/reference';
import { projectOfLogDir, readFeedback, scanLog } from './report';
import type { DriftThresholds, FeatureReference, MonitoringReference, MonitoringReport } from './types';
import { runsDir } from '../spec/layout';
import { imageReference } from '../train/imageReference';
import { EMBEDDING_AUC_THRESHOLD } from './embeddingDrift';

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
  embeddingRocAuc: EMBEDDING_AUC_THRESHOLD,
};

/** Requests in the default window (`ml-loop drift --window`). */
export const DEFAULT_WINDOW = 1000;

export { REFERENCE_FILE, buildReference, readReference, writeReference } from '../train/reference';
export { readFeedback } from './report';
export { ks2samp, wasserstein, normalizedWasserstein, psi, chiSquare, jensenShannon } from './stats';

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
  const logDir = resolve(opts.logDir);
  const projectDir = opts.projectDir ?? projectOfLogDir(logDir);
  return scanLog({
    logDir,
    window: opts.window ?? DEFAULT_WINDOW,
    since: opts.since === undefined ? undefined : new Date(opts.since).getTime(),
    model: opts.model,
    version: opts.version,
    thresholds: { ...DEFAULT_THRESHOLDS, ...opts.thresholds },
    bucketSeconds: opts.bucketSeconds,
    signal: opts.signal,
    reference: async (t) => {
      if (opts.reference) return { reference: opts.reference, source: opts.reference.source };
      if (!t.runId)
        return t.model
          ? {
              reference: undefined as never,
              source: 'training',
              issue: `the log does not name the run of ${t.model} v${t.version}: no reference to compare with`,
            }
          : undefined;
      try {
        const r = await runReference(projectDir, t.runId);
        const modelPath = join(runsDir(projectDir), t.runId, 'model.onnx');
        return {
          reference: r.reference,
          source: r.reference.source,
          ...(r.reference.image && existsSync(modelPath) ? { modelPath } : {}),
          ...(r.computed
            ? { issue: `run ${t.runId} had no reference.json: computed it once from the project's data and stored it` }
            : {}),
        };
      } catch (e) {
        return {
          reference: undefined as never,
          source: 'training',
          issue: `no reference for run ${t.runId}: ${(e as Error).message}`,
        };
      }
    },
  });
}

/** `ml-loop drift --reference CSV --current LOG.jsonl`: a reference computed from a CSV (the training data) against logged requests. */
export async function driftFromFiles(opts: {
  referenceCsv: string;
  /** Request log files (JSON Lines, as the server writes them), oldest first. */
  current: string[];
  /** The target column of the CSV (excluded from the features). */
  target?: string;
  window?: number;
  thresholds?: Partial<DriftThresholds>;
  signal?: AbortSignal;
}): Promise<MonitoringReport> {
  const reference = await csvReference(opts.referenceCsv, opts.target);
  if (!opts.target) {
    // Without --target: the features are the CSV's columns the newest logged request has (the target is not an input).
    const inputs = newestInputNames(opts.current);
    if (inputs) reference.features = reference.features.filter((f) => inputs.has(f.name));
  }
  const report = await scanLog({
    logDir: '.',
    files: opts.current,
    window: opts.window ?? 0,
    thresholds: { ...DEFAULT_THRESHOLDS, ...opts.thresholds },
    signal: opts.signal,
    reference: async () => ({ reference, source: 'csv' }),
  });
  return report;
}

function newestInputNames(files: string[]): Set<string> | undefined {
  for (const f of [...files].reverse()) {
    let lines: string[];
    try {
      lines = readFileSync(f, 'utf8').split('\n');
    } catch {
      continue;
    }
    for (let l = lines.length - 1; l >= 0; l--) {
      try {
        const r = JSON.parse(lines[l]) as { inputs?: unknown };
        if (Array.isArray(r.inputs) && r.inputs[0] && typeof r.inputs[0] === 'object')
          return new Set(Object.keys(r.inputs[0] as object));
      } catch {
        // corrupt line: the scan reports it
      }
    }
  }
  return undefined;
}

/** A reference from a CSV file: columns whose non-empty values all parse as numbers are numeric, the others categorical. */
export async function csvReference(file: string, target?: string): Promise<MonitoringReference> {
  let names: string[] = [];
  const cols: string[][] = [];
  await readTable(file, {
    header: (c) => {
      names = c;
      for (let j = 0; j < c.length; j++) cols.push([]);
    },
    record: (fields) => {
      for (let j = 0; j < names.length; j++) cols[j].push(fields[j] ?? '');
    },
  });
  const features: FeatureReference[] = [];
  const numeric: FeatureReference[] = [];
  for (const [j, name] of names.entries()) {
    if (name === target) continue;
    const values = cols[j];
    const isNum = values.every((v) => v.trim() === '' || Number.isFinite(Number(v)));
    if (isNum)
      numeric.push(
        numericReference(
          name,
          values.map((v) => (v.trim() === '' ? NaN : Number(v))),
        ),
      );
    else features.push(categoricalReference(name, values));
  }
  return {
    format: 'mlloop-reference/1',
    task: 'classification',
    target: target ?? '',
    features: [...numeric, ...features],
    rows: cols[0]?.length ?? 0,
    source: 'recomputed',
    createdAt: new Date().toISOString(),
  };
}

/**
 * The reference of a run: its reference.json, else computed once from the project's data (the run's
 * data version, training split) and the run's model on dev, written to reference.json with source 'recomputed'.
 */
export async function runReference(
  projectDir: string,
  runId: string,
): Promise<{ reference: MonitoringReference; computed: boolean }> {
  const dir = join(runsDir(projectDir), runId);
  const stored = readReference(dir);
  if (stored) return { reference: stored, computed: false };
  if (!existsSync(join(dir, 'run.json'))) throw new Error(`no run ${runId} under ${runsDir(projectDir)}`);
  const record = readRun(projectDir, runId);
  const dataset = await loadDataVersion(projectDir, record.dataVersion?.id);
  let dev: Parameters<typeof buildReference>[2];
  const modelPath = join(dir, 'model.onnx');
  if (dataset.dev.features.n > 0 && existsSync(modelPath)) {
    const model = await ScriptModel.load(modelPath, dataset.schema);
    try {
      dev = {
        prediction: await model.predictRows(dataset.dev),
        rows: dataset.dev.features.n,
        metrics: record.metrics?.dev,
      };
    } finally {
      await model.release();
    }
  }
  const reference = buildReference(dataset.schema, dataset.train, dev, {
    dataVersion: dataset.version.id,
    source: 'recomputed',
  });
  if (dataset.schema.image)
    Object.assign(
      reference,
      await imageReference(
        dataset.schema.image,
        dataset.train,
        projectDir,
        existsSync(modelPath) ? modelPath : undefined,
      ),
    );
  writeReference(dir, reference);
  return { reference, computed: true };
}
