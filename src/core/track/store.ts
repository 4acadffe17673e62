// Reads and manages the run store `<project>/.mlloop/runs/`: lists runs newest first, derives
// `interrupted` for runs whose process died, reports (and skips) corrupt or partial files, and
// edits what the user owns (name, note, star) or deletes a run. Never throws on bad store content.
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic, type RunRecord } from '../train/runStore';
import { runLabel } from './format';
import type { HistoryStep, RunAnnotations, RunHistory, StoreProblem, TrackedRun, TrackedStatus } from './types';
import { runsDir } from '../spec/layout';

export const RUN_FILE = 'run.json';
export const ANNOTATIONS_FILE = 'meta.json';
export const HISTORY_FILE = 'metrics.jsonl';

/** A run without a recorded process (older layout, other tools) counts as interrupted after this long without writes. */
export const STALE_RUNNING_MS = 60 * 60 * 1000;

const STATUSES = new Set(['queued', 'running', 'completed', 'failed', 'cancelled', 'interrupted']);

/** Whether a process with this pid exists (EPERM: it exists but belongs to someone else). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface Liveness {
  host: string;
  isAlive: (pid: number) => boolean;
  now: number;
}

export function localLiveness(): Liveness {
  return { host: hostname(), isAlive: processAlive, now: Date.now() };
}

/**
 * The status to show. A `running` record whose training process (same host) is gone is
 * `interrupted`. On another host the process cannot be checked, so it stays `running` until the
 * run's files have not changed for STALE_RUNNING_MS.
 */
export function deriveStatus(record: RunRecord, lastWriteMs: number, live: Liveness): TrackedStatus {
  // A cluster's job lives on another machine: SLURM (src/core/cluster) says how it goes, not a process here.
  if (record.status !== 'running' || record.cluster) return record.status;
  if (record.pid !== undefined && record.host === live.host) return live.isAlive(record.pid) ? 'running' : 'interrupted';
  return live.now - lastWriteMs > STALE_RUNNING_MS ? 'interrupted' : 'running';
}

/** Checks the fields every reader relies on; returns why not when the record is unusable. */
export function validateRecord(value: unknown, runId: string): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'run.json is not a JSON object';
  const r = value as Record<string, unknown>;
  if (r.runId !== runId) return `run.json names run "${String(r.runId)}", not its folder "${runId}"`;
  if (typeof r.experiment !== 'string') return 'run.json has no experiment name';
  if (typeof r.status !== 'string' || !STATUSES.has(r.status)) return `run.json has an unknown status "${String(r.status)}"`;
  if (typeof r.startedAt !== 'string' || Number.isNaN(Date.parse(r.startedAt))) return 'run.json has no valid startedAt';
  if (r.params !== undefined && (typeof r.params !== 'object' || r.params === null)) return 'run.json params are not an object';
  return undefined;
}

function parseAnnotations(text: string): RunAnnotations {
  const v = JSON.parse(text) as Record<string, unknown>;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
  const out: RunAnnotations = {};
  if (typeof v.name === 'string' && v.name.trim()) out.name = v.name;
  if (typeof v.note === 'string' && v.note.trim()) out.note = v.note;
  if (v.starred === true) out.starred = true;
  return out;
}

type ReadOutcome = { run: TrackedRun; problems: StoreProblem[] } | { run?: undefined; problems: StoreProblem[] };

/** Turns the texts of one run folder into a TrackedRun, or the problems that prevent it. */
function assembleRun(runId: string, dir: string, runText: string | undefined, metaText: string | undefined, lastWriteMs: number, live: Liveness): ReadOutcome {
  const problems: StoreProblem[] = [];
  if (runText === undefined) return { problems: [{ runId, file: join(dir, RUN_FILE), message: 'run.json is missing' }] };
  let record: RunRecord;
  try {
    record = JSON.parse(runText) as RunRecord;
  } catch (e) {
    return { problems: [{ runId, file: join(dir, RUN_FILE), message: `run.json is not valid JSON (${(e as Error).message})` }] };
  }
  const invalid = validateRecord(record, runId);
  if (invalid) return { problems: [{ runId, file: join(dir, RUN_FILE), message: invalid }] };
  record.params ??= {};
  let annotations: RunAnnotations = {};
  if (metaText !== undefined) {
    try {
      annotations = parseAnnotations(metaText);
    } catch (e) {
      problems.push({ runId, file: join(dir, ANNOTATIONS_FILE), message: `meta.json ignored: ${(e as Error).message}` });
    }
  }
  return { run: { runId, dir, record, status: deriveStatus(record, lastWriteMs, live), annotations }, problems };
}

/** Latest modification time of run.json and metrics.jsonl (0 when neither exists). */
export function lastWriteOf(dir: string): number {
  let last = 0;
  for (const f of [RUN_FILE, HISTORY_FILE]) {
    try {
      last = Math.max(last, statSync(join(dir, f)).mtimeMs);
    } catch {
      // missing file: no write time
    }
  }
  return last;
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

async function readOptionalAsync(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Reads one run folder (synchronously: one run, a few small files). */
export function readTrackedRun(projectDir: string, runId: string, live: Liveness = localLiveness()): ReadOutcome {
  const dir = join(runsDir(projectDir), runId);
  try {
    return assembleRun(runId, dir, readOptional(join(dir, RUN_FILE)), readOptional(join(dir, ANNOTATIONS_FILE)), lastWriteOf(dir), live);
  } catch (e) {
    return { problems: [{ runId, file: dir, message: `unreadable: ${(e as Error).message}` }] };
  }
}

/** A run's short name (runLabel: its name, else experiment and id suffix) for a panel's tab; its id when it cannot be read. */
export function runLabelOf(projectDir: string, runId: string): string {
  const { run } = readTrackedRun(projectDir, runId);
  return run ? runLabel(run) : runId;
}

export interface RunListing {
  runs: TrackedRun[];
  problems: StoreProblem[];
}

/** Newest first (start time, then id), the order of the tree and of `ml-loop runs`. */
export function compareNewestFirst(a: TrackedRun, b: TrackedRun): number {
  const d = Date.parse(b.record.startedAt) - Date.parse(a.record.startedAt);
  return d !== 0 ? d : b.runId.localeCompare(a.runId);
}

/** Sorts by compareNewestFirst with each start time parsed once (2,000 runs: ~22,000 comparisons). */
export function sortNewestFirst(runs: TrackedRun[]): TrackedRun[] {
  const keyed = runs.map((r) => ({ r, t: Date.parse(r.record.startedAt) }));
  keyed.sort((a, b) => b.t - a.t || b.r.runId.localeCompare(a.r.runId));
  return keyed.map((k) => k.r);
}

/** Every run of the project, newest first; unusable folders are reported in `problems`. */
export async function listRuns(projectDir: string, live: Liveness = localLiveness()): Promise<RunListing> {
  const root = runsDir(projectDir);
  let entries: string[];
  try {
    entries = (await readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory() && !d.name.startsWith('.')).map((d) => d.name);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { runs: [], problems: [] };
    return { runs: [], problems: [{ runId: '', file: root, message: `cannot list the run store: ${(e as Error).message}` }] };
  }
  const outcomes = await Promise.all(
    entries.map(async (runId): Promise<ReadOutcome> => {
      const dir = join(root, runId);
      try {
        const [runText, metaText] = await Promise.all([readOptionalAsync(join(dir, RUN_FILE)), readOptionalAsync(join(dir, ANNOTATIONS_FILE))]);
        // Only a run that says `running` needs its write time (to judge a process on another host).
        const lastWrite = runText !== undefined && runText.includes('"running"') ? lastWriteOf(dir) : 0;
        return assembleRun(runId, dir, runText, metaText, lastWrite, live);
      } catch (e) {
        return { problems: [{ runId, file: dir, message: `unreadable: ${(e as Error).message}` }] };
      }
    }),
  );
  const runs = outcomes.flatMap((o) => (o.run ? [o.run] : []));
  return { runs: sortNewestFirst(runs), problems: outcomes.flatMap((o) => o.problems) };
}

/** Parses metrics.jsonl: progress steps in order, then the final metrics; bad lines are counted and skipped. */
export function parseHistory(text: string): RunHistory {
  const steps: HistoryStep[] = [];
  let final: RunHistory['final'];
  let skippedLines = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      skippedLines++;
      continue;
    }
    if (typeof entry !== 'object' || entry === null) skippedLines++;
    else if (entry.final === true) {
      const { final: _flag, ...metrics } = entry;
      final = metrics as RunHistory['final'];
    } else if (typeof entry.step === 'number') steps.push(entry as unknown as HistoryStep);
    else skippedLines++;
  }
  return { steps, final, skippedLines };
}

export function readHistory(runDir: string): RunHistory {
  const text = readOptional(join(runDir, HISTORY_FILE));
  return text === undefined ? { steps: [], skippedLines: 0 } : parseHistory(text);
}

function runFolder(projectDir: string, runId: string): string {
  // Run ids are folder names: refuse anything that would leave the store.
  if (!/^[\w.-]+$/.test(runId) || runId === '.' || runId === '..') throw new Error(`not a run id: "${runId}"`);
  const dir = join(runsDir(projectDir), runId);
  if (!existsSync(join(dir, RUN_FILE))) throw new Error(`no run "${runId}" in ${runsDir(projectDir)}`);
  return dir;
}

/** Merges a patch into the run's annotations (an empty name/note or starred:false removes it); atomic write. */
export function annotateRun(projectDir: string, runId: string, patch: RunAnnotations): RunAnnotations {
  const dir = runFolder(projectDir, runId);
  let current: RunAnnotations = {};
  const text = readOptional(join(dir, ANNOTATIONS_FILE));
  if (text !== undefined) {
    try {
      current = parseAnnotations(text);
    } catch {
      // A corrupt meta.json is replaced by the new annotations.
    }
  }
  const next = parseAnnotations(JSON.stringify({ ...current, ...patch }));
  writeFileAtomic(join(dir, ANNOTATIONS_FILE), JSON.stringify(next, null, 2) + '\n');
  return next;
}

/** Deletes a run folder. A run still training is refused: cancel it first. */
export function deleteRun(projectDir: string, runId: string, live: Liveness = localLiveness()): void {
  const dir = runFolder(projectDir, runId);
  const read = readTrackedRun(projectDir, runId, live);
  if (read.run?.status === 'running' || read.run?.status === 'queued') throw new Error(`run ${runId} is still ${read.run.status}: cancel it before deleting it`);
  rmSync(dir, { recursive: true, force: true });
}

/** Ids of the run folders (no reading), newest first by id. */
export function listRunIds(projectDir: string): string[] {
  try {
    return readdirSync(runsDir(projectDir), { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
      .map((d) => d.name)
      .sort()
      .reverse();
  } catch {
    return [];
  }
}
