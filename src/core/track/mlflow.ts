// MLflow's `mlruns` file-store layout, both ways:
//   mlruns/<experimentId>/meta.yaml                       the experiment (name, id, artifact location)
//   mlruns/<experimentId>/<runUuid>/meta.yaml             the run (status, times, name)
//   .../params/<key>                                      one value per file
//   .../metrics/<key>                                     lines "<timestamp ms> <value> <step>"
//   .../tags/<key>                                        one value per file
//   .../artifacts/                                        model.onnx, log.txt, mlloop.json, metrics.jsonl
// Per-epoch curves go to train_loss, dev_loss and dev_<metric> (step = epoch); final metrics to
// final_<split>_<metric>. ML Loop's own fields ride in mlloop.* tags so an import restores the run exactly.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import yaml from 'js-yaml';
import { writeFileAtomic, type RunRecord } from '../train/runStore';
import { ANNOTATIONS_FILE, HISTORY_FILE, readHistory, RUN_FILE, validateRecord } from './store';
import type { HistoryStep, StoreProblem, TrackedRun } from './types';
import { runsDir } from '../spec/layout';

/** MLflow's RunStatus enum as the file store writes it. */
const MLFLOW_STATUS = { RUNNING: 1, SCHEDULED: 2, FINISHED: 3, FAILED: 4, KILLED: 5 } as const;
const TO_MLFLOW: Record<string, number> = { running: 1, completed: 3, failed: 4, cancelled: 5, interrupted: 5 };
/** Artifacts copied from the run folder when present. */
const ARTIFACTS = ['model.onnx', 'log.txt', 'mlloop.json', HISTORY_FILE];

const TAG = {
  runId: 'mlloop.runId',
  record: 'mlloop.record',
  status: 'mlloop.status',
  starred: 'mlloop.starred',
  name: 'mlflow.runName',
  note: 'mlflow.note.content',
  gitCommit: 'mlflow.source.git.commit',
  source: 'mlflow.source.name',
} as const;

interface ExperimentMeta {
  experiment_id: string;
  name: string;
  artifact_location: string;
  lifecycle_stage: string;
  creation_time?: number;
  last_update_time?: number;
}

function readYaml(path: string): Record<string, unknown> {
  const v = yaml.load(readFileSync(path, 'utf8'));
  if (typeof v !== 'object' || v === null) throw new Error(`${path} is not a YAML mapping`);
  return v as Record<string, unknown>;
}

function listDirs(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
    .map((d) => d.name)
    .sort();
}

/** Experiments already in an mlruns folder, by name. */
function existingExperiments(mlruns: string): Map<string, ExperimentMeta> {
  const out = new Map<string, ExperimentMeta>();
  for (const id of listDirs(mlruns)) {
    const file = join(mlruns, id, 'meta.yaml');
    if (!existsSync(file)) continue;
    try {
      const meta = readYaml(file) as unknown as ExperimentMeta;
      if (typeof meta.name === 'string') out.set(meta.name, { ...meta, experiment_id: String(meta.experiment_id) });
    } catch {
      // not an experiment folder
    }
  }
  return out;
}

function safeKey(key: string): string {
  // MLflow keys allow alphanumerics, _ - . space and /; the file store would nest on /.
  return key.replace(/[^\w\-. ]/g, '_');
}

export interface ExportResult {
  exported: { runId: string; experimentId: string; mlflowRunId: string }[];
  skipped: { runId: string; reason: string }[];
}

/**
 * Writes runs into `mlrunsDir` (created if needed; experiments of the same name are reused).
 * A run exported before (same mlloop.runId tag) is skipped, so exporting twice adds nothing.
 */
export function exportMlflow(runs: TrackedRun[], mlrunsDir: string, now = Date.now()): ExportResult {
  mkdirSync(mlrunsDir, { recursive: true });
  const experiments = existingExperiments(mlrunsDir);
  const already = new Set(
    scanMlflowRuns(mlrunsDir)
      .runs.map((r) => r.tags[TAG.runId])
      .filter(Boolean),
  );
  // MLflow expects the Default experiment 0 to exist.
  if (!existsSync(join(mlrunsDir, '0', 'meta.yaml')))
    writeExperiment(mlrunsDir, {
      experiment_id: '0',
      name: 'Default',
      artifact_location: pathToFileURL(join(mlrunsDir, '0')).href,
      lifecycle_stage: 'active',
      creation_time: now,
      last_update_time: now,
    });
  let nextId = Math.max(0, ...listDirs(mlrunsDir).map(Number).filter(Number.isInteger)) + 1;
  const result: ExportResult = { exported: [], skipped: [] };
  for (const run of runs) {
    if (already.has(run.runId)) {
      result.skipped.push({ runId: run.runId, reason: 'already exported to this mlruns folder' });
      continue;
    }
    let exp = experiments.get(run.record.experiment);
    if (!exp) {
      const id = String(nextId++);
      exp = {
        experiment_id: id,
        name: run.record.experiment,
        artifact_location: pathToFileURL(join(mlrunsDir, id)).href,
        lifecycle_stage: 'active',
        creation_time: now,
        last_update_time: now,
      };
      writeExperiment(mlrunsDir, exp);
      experiments.set(exp.name, exp);
    }
    const uuid = randomUUID().replace(/-/g, '');
    writeRun(run, join(mlrunsDir, exp.experiment_id, uuid), exp.experiment_id, uuid);
    result.exported.push({ runId: run.runId, experimentId: exp.experiment_id, mlflowRunId: uuid });
  }
  return result;
}

function writeExperiment(mlruns: string, meta: ExperimentMeta): void {
  mkdirSync(join(mlruns, meta.experiment_id), { recursive: true });
  writeFileAtomic(join(mlruns, meta.experiment_id, 'meta.yaml'), yaml.dump(meta, { sortKeys: true }));
}

function writeRun(run: TrackedRun, dir: string, experimentId: string, uuid: string): void {
  const r = run.record;
  for (const sub of ['params', 'metrics', 'tags', 'artifacts']) mkdirSync(join(dir, sub), { recursive: true });
  const start = Date.parse(r.startedAt);
  const end = r.endedAt ? Date.parse(r.endedAt) : null;
  const meta = {
    artifact_uri: pathToFileURL(join(dir, 'artifacts')).href,
    end_time: end,
    entry_point_name: '',
    experiment_id: experimentId,
    lifecycle_stage: 'active',
    run_id: uuid,
    run_name: run.annotations.name ?? r.runId,
    run_uuid: uuid,
    source_name: '',
    source_type: 4,
    source_version: r.git?.commit ?? '',
    start_time: start,
    status: TO_MLFLOW[run.status] ?? MLFLOW_STATUS.FAILED,
    tags: [],
    user_id: process.env.USER ?? 'ml-loop',
  };
  writeFileSync(join(dir, 'meta.yaml'), yaml.dump(meta, { sortKeys: true }));
  for (const [k, v] of Object.entries(r.params ?? {}))
    writeFileSync(join(dir, 'params', safeKey(k)), typeof v === 'string' ? v : JSON.stringify(v));

  const history = readHistory(run.dir);
  const lines = new Map<string, string[]>();
  const add = (key: string, t: number, value: number, step: number) => {
    if (!Number.isFinite(value)) return;
    const k = safeKey(key);
    lines.set(k, [...(lines.get(k) ?? []), `${Math.round(t)} ${value} ${step}`]);
  };
  for (const s of history.steps) {
    const t = s.t ?? start;
    if (typeof s.trainLoss === 'number') add('train_loss', t, s.trainLoss, s.step);
    if (typeof s.devLoss === 'number') add('dev_loss', t, s.devLoss, s.step);
    if (typeof s.devMetric === 'number') add(`dev_${s.metricName ?? 'metric'}`, t, s.devMetric, s.step);
  }
  const lastStep = history.steps.at(-1)?.step ?? 0;
  for (const split of ['train', 'dev', 'test'] as const) {
    for (const [m, v] of Object.entries((r.metrics?.[split] as Record<string, number> | undefined) ?? {}))
      add(`final_${split}_${m}`, end ?? start, v, lastStep);
  }
  for (const [k, ls] of lines) writeFileSync(join(dir, 'metrics', k), ls.join('\n') + '\n');

  const tags: Record<string, string> = {
    [TAG.runId]: r.runId,
    [TAG.record]: JSON.stringify(r),
    [TAG.status]: run.status,
    [TAG.name]: run.annotations.name ?? r.runId,
    [TAG.source]: 'ml-loop',
  };
  if (run.annotations.note) tags[TAG.note] = run.annotations.note;
  if (run.annotations.starred) tags[TAG.starred] = 'true';
  if (r.git) tags[TAG.gitCommit] = r.git.commit;
  for (const [k, v] of Object.entries(tags)) writeFileSync(join(dir, 'tags', k), v);
  for (const f of ARTIFACTS)
    if (existsSync(join(run.dir, f))) copyFileSync(join(run.dir, f), join(dir, 'artifacts', f));
}

/** One run folder of an mlruns layout, as read. */
export interface MlflowRun {
  dir: string;
  experimentName: string;
  meta: Record<string, unknown>;
  params: Record<string, string>;
  tags: Record<string, string>;
  /** key → points in file order. */
  metrics: Record<string, { t: number; value: number; step: number }[]>;
}

function readKeyFiles(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(dir)) return out;
  for (const d of readdirSync(dir, { withFileTypes: true }))
    if (d.isFile()) out[d.name] = readFileSync(join(dir, d.name), 'utf8');
  return out;
}

/** Reads every run of an mlruns folder (skipping deleted ones and reporting unreadable ones). */
export function scanMlflowRuns(mlrunsDir: string): { runs: MlflowRun[]; problems: StoreProblem[] } {
  const runs: MlflowRun[] = [];
  const problems: StoreProblem[] = [];
  for (const expId of listDirs(mlrunsDir)) {
    const expMetaFile = join(mlrunsDir, expId, 'meta.yaml');
    if (!existsSync(expMetaFile)) continue;
    let expName: string;
    try {
      const m = readYaml(expMetaFile);
      if (m.lifecycle_stage === 'deleted') continue;
      expName = String(m.name);
    } catch (e) {
      problems.push({ runId: '', file: expMetaFile, message: (e as Error).message });
      continue;
    }
    for (const runUuid of listDirs(join(mlrunsDir, expId))) {
      const dir = join(mlrunsDir, expId, runUuid);
      if (!existsSync(join(dir, 'meta.yaml'))) continue;
      try {
        const meta = readYaml(join(dir, 'meta.yaml'));
        if (meta.lifecycle_stage === 'deleted') continue;
        const metrics: MlflowRun['metrics'] = {};
        for (const [k, text] of Object.entries(readKeyFiles(join(dir, 'metrics')))) {
          metrics[k] = text
            .split('\n')
            .filter((l) => l.trim())
            .map((l) => {
              const [t, value, step] = l.trim().split(/\s+/).map(Number);
              return { t, value, step: step ?? 0 };
            });
        }
        runs.push({
          dir,
          experimentName: expName,
          meta,
          params: readKeyFiles(join(dir, 'params')),
          tags: readKeyFiles(join(dir, 'tags')),
          metrics,
        });
      } catch (e) {
        problems.push({ runId: runUuid, file: dir, message: (e as Error).message });
      }
    }
  }
  return { runs, problems };
}

export interface ImportResult {
  imported: string[];
  skipped: { source: string; reason: string }[];
  problems: StoreProblem[];
}

/** Rebuilds metrics.jsonl from the per-step MLflow metrics (train_loss, dev_loss, dev_<metric>) and the finals. */
function historyLines(run: MlflowRun, record: RunRecord): string[] {
  const byStep = new Map<number, HistoryStep>();
  const at = (step: number, t: number) => {
    let s = byStep.get(step);
    if (!s) byStep.set(step, (s = { t, step }));
    return s;
  };
  const metricName = Object.keys(run.metrics)
    .find((k) => k.startsWith('dev_') && k !== 'dev_loss')
    ?.slice(4);
  for (const p of run.metrics.train_loss ?? []) at(p.step, p.t).trainLoss = p.value;
  for (const p of run.metrics.dev_loss ?? []) at(p.step, p.t).devLoss = p.value;
  if (metricName) {
    for (const p of run.metrics[`dev_${metricName}`]) {
      const s = at(p.step, p.t);
      s.devMetric = p.value;
      s.metricName = metricName;
    }
  }
  const lines = [...byStep.values()].sort((a, b) => a.step - b.step).map((s) => JSON.stringify(s));
  if (record.metrics) lines.push(JSON.stringify({ final: true, ...record.metrics }));
  return lines;
}

/** The RunRecord of an MLflow run: the mlloop.record tag when ML Loop wrote it, else rebuilt from params and final_* metrics. */
function recordOf(run: MlflowRun, runId: string): RunRecord {
  const tagged = run.tags[TAG.record];
  if (tagged) return JSON.parse(tagged) as RunRecord;
  const params: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(run.params)) {
    try {
      params[k] = JSON.parse(v);
    } catch {
      params[k] = v;
    }
  }
  const metrics: NonNullable<RunRecord['metrics']> = {};
  for (const [k, points] of Object.entries(run.metrics)) {
    const m = /^final_(train|dev|test)_(.+)$/.exec(k);
    if (!m || !points.length) continue;
    ((metrics[m[1] as 'train'] ??= {} as never) as Record<string, number>)[m[2]] = points.at(-1)!.value;
  }
  const status = Number(run.meta.status);
  return {
    runId,
    experiment: run.experimentName,
    model: (run.tags['mlloop.model'] ?? 'external') as RunRecord['model'],
    params,
    status:
      status === MLFLOW_STATUS.FINISHED
        ? 'completed'
        : status === MLFLOW_STATUS.KILLED
          ? 'cancelled'
          : status === MLFLOW_STATUS.FAILED
            ? 'failed'
            : 'cancelled',
    startedAt: new Date(Number(run.meta.start_time)).toISOString(),
    ...(run.meta.end_time ? { endedAt: new Date(Number(run.meta.end_time)).toISOString() } : {}),
    ...(Object.keys(metrics).length ? { metrics } : {}),
  };
}

/**
 * Imports the runs of an mlruns folder into the project's store. Runs ML Loop exported keep their
 * id, record, history, annotations and artifacts; other MLflow runs get an id from their start time
 * and the params and final_* metrics they have. A run whose id is already in the store is skipped.
 */
export function importMlflow(mlrunsDir: string, projectDir: string): ImportResult {
  const scan = scanMlflowRuns(mlrunsDir);
  const result: ImportResult = { imported: [], skipped: [], problems: scan.problems };
  const store = runsDir(projectDir);
  for (const run of scan.runs) {
    try {
      const runId =
        run.tags[TAG.runId] ??
        `${new Date(Number(run.meta.start_time) || 0).toISOString().replace(/[-:]/g, '').replace('T', '-').replace('.', '-').slice(0, 19)}-mlflow-${String(run.meta.run_uuid ?? '').slice(0, 8)}`;
      const dir = join(store, runId);
      if (existsSync(dir)) {
        result.skipped.push({ source: run.dir, reason: `run ${runId} is already in the store` });
        continue;
      }
      const record = recordOf(run, runId);
      // A run that was still going (or already interrupted) when exported has no process here.
      if (record.status === 'running' || run.tags[TAG.status] === 'interrupted')
        (record as { status: string }).status = 'interrupted';
      const invalid = validateRecord(record, runId);
      if (invalid) throw new Error(invalid);
      mkdirSync(dir, { recursive: true });
      for (const f of ARTIFACTS) {
        const src = join(run.dir, 'artifacts', f);
        if (existsSync(src) && statSync(src).isFile()) copyFileSync(src, join(dir, f));
      }
      if (!existsSync(join(dir, HISTORY_FILE)))
        writeFileSync(
          join(dir, HISTORY_FILE),
          historyLines(run, record)
            .map((l) => l + '\n')
            .join(''),
        );
      const annotations = {
        ...(run.tags[TAG.name] && run.tags[TAG.name] !== runId ? { name: run.tags[TAG.name] } : {}),
        ...(run.tags[TAG.note] ? { note: run.tags[TAG.note] } : {}),
        ...(run.tags[TAG.starred] === 'true' ? { starred: true } : {}),
      };
      if (Object.keys(annotations).length)
        writeFileAtomic(join(dir, ANNOTATIONS_FILE), JSON.stringify(annotations, null, 2) + '\n');
      // run.json last: until it exists the folder is not a run.
      writeFileAtomic(join(dir, RUN_FILE), JSON.stringify(record, null, 2) + '\n');
      result.imported.push(runId);
    } catch (e) {
      result.problems.push({ runId: '', file: run.dir, message: `not imported: ${(e as Error).message}` });
    }
  }
  return result;
}
