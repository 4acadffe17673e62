// An in-memory index of one project's run store, kept up to date run by run: the tree reads it,
// the file watcher tells it which run folder changed, and only that run is read again.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  deriveStatus,
  lastWriteOf,
  listRuns,
  localLiveness,
  readTrackedRun,
  sortNewestFirst,
  type Liveness,
} from './store';
import type { StoreProblem, TrackedRun } from './types';
import { runsDir } from '../spec/layout';

/** Finished runs' folders stat'ed per recheckStore (a stat is a few µs: about 2 ms per check). */
export const FOLDERS_PER_CHECK = 500;

function folderMtime(dir: string): number {
  try {
    return statSync(dir).mtimeMs;
  } catch {
    return -1;
  }
}

export class RunIndex {
  private readonly byId = new Map<string, TrackedRun>();
  private readonly problemsById = new Map<string, StoreProblem[]>();
  private sorted: TrackedRun[] | undefined;
  private byExperiment: Map<string, TrackedRun[]> | undefined;
  /** Last write time of each `running` run's files when it was read (for recheckStore). */
  private readonly runningWrites = new Map<string, number>();
  /** The store folder's mtime at the last full look (entries added or removed change it). */
  private storeMtime = -1;
  /** Each finished run's folder mtime when it was read: an atomic rewrite of its files (a rename) changes it. */
  private readonly folderMtimes = new Map<string, number>();
  /** Where the next recheckStore goes on in its round of finished runs' folders. */
  private folderCursor = 0;

  constructor(
    readonly projectDir: string,
    private readonly liveness: () => Liveness = localLiveness,
  ) {}

  get storeDir(): string {
    return runsDir(this.projectDir);
  }

  /** Reads the whole store (first load, or after the store folder itself changed). */
  async load(): Promise<void> {
    const listing = await listRuns(this.projectDir, this.liveness());
    this.byId.clear();
    this.problemsById.clear();
    this.runningWrites.clear();
    this.folderMtimes.clear();
    for (const r of listing.runs) {
      this.byId.set(r.runId, r);
      this.noteWrite(r);
    }
    for (const p of listing.problems) this.problemsById.set(p.runId, [...(this.problemsById.get(p.runId) ?? []), p]);
    this.invalidate();
  }

  /** Reads one run again (its folder changed); a folder that is gone or unusable leaves the index. */
  reload(runId: string): TrackedRun | undefined {
    const read = readTrackedRun(this.projectDir, runId, this.liveness());
    this.problemsById.delete(runId);
    if (read.problems.length) this.problemsById.set(runId, read.problems);
    const before = this.byId.get(runId);
    if (read.run) this.byId.set(runId, read.run);
    else this.byId.delete(runId);
    this.runningWrites.delete(runId);
    this.folderMtimes.delete(runId);
    if (read.run) this.noteWrite(read.run);
    // The usual change (status, metrics, annotations) keeps the run's place: swap it in the cached
    // lists instead of sorting 2,000 runs again.
    if (
      before &&
      read.run &&
      before.record.startedAt === read.run.record.startedAt &&
      before.record.experiment === read.run.record.experiment
    ) {
      this.replaceIn(this.sorted, before, read.run);
      this.replaceIn(this.byExperiment?.get(before.record.experiment), before, read.run);
    } else this.invalidate();
    return read.run;
  }

  private noteWrite(run: TrackedRun): void {
    if (run.record.status === 'running') this.runningWrites.set(run.runId, lastWriteOf(run.dir));
    else this.folderMtimes.set(run.runId, folderMtime(run.dir));
  }

  /**
   * The safety net under the file watcher, which can miss events (files written into a folder
   * created a moment before, or an OS out of inotify watches): run folders that appeared or went,
   * folders that were unreadable, running runs whose files were written since they were read, and
   * finished runs whose folder changed (a note or a rename from the CLI) are read again. One stat of
   * the store plus one per running run, and a round of at most FOLDERS_PER_CHECK finished runs'
   * folders, so a missed change to any of 2,000 runs shows within a few checks. Returns the ids that changed.
   */
  recheckStore(): string[] {
    let mtime = 0;
    try {
      mtime = statSync(this.storeDir).mtimeMs;
    } catch {
      // no store
    }
    const listingChanged = mtime !== this.storeMtime;
    this.storeMtime = mtime;
    if (!listingChanged && this.problemsById.size === 0) return this.recheckRunningWrites(this.changedFolders());
    let folders: string[];
    try {
      folders = readdirSync(this.storeDir, { withFileTypes: true })
        .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
        .map((d) => d.name);
    } catch {
      folders = []; // no store (yet, or any more)
    }
    const present = new Set(folders);
    const stale = new Set<string>();
    for (const id of folders) if (!this.byId.has(id) || this.problemsById.has(id)) stale.add(id);
    for (const id of this.byId.keys()) if (!present.has(id)) stale.add(id);
    for (const id of this.problemsById.keys()) if (!present.has(id)) stale.add(id);
    for (const id of this.staleRunning()) if (present.has(id)) stale.add(id);
    for (const id of this.changedFolders()) if (present.has(id)) stale.add(id);
    return this.rereadAll(stale, present);
  }

  private staleRunning(): string[] {
    return [...this.runningWrites]
      .filter(([id, write]) => lastWriteOf(this.byId.get(id)!.dir) !== write)
      .map(([id]) => id);
  }

  private recheckRunningWrites(changedFolders: string[]): string[] {
    const stale = [...this.staleRunning(), ...changedFolders];
    return stale.length ? this.rereadAll(new Set(stale), new Set(stale)) : [];
  }

  /** The next round of finished runs whose folder's mtime is not the one they were read with. */
  private changedFolders(): string[] {
    const ids = [...this.folderMtimes.keys()];
    if (ids.length === 0) return [];
    const changed: string[] = [];
    const n = Math.min(ids.length, FOLDERS_PER_CHECK);
    for (let k = 0; k < n; k++) {
      const id = ids[(this.folderCursor + k) % ids.length];
      const run = this.byId.get(id);
      if (run && folderMtime(run.dir) !== this.folderMtimes.get(id)) changed.push(id);
    }
    this.folderCursor = (this.folderCursor + n) % ids.length;
    return changed;
  }

  private rereadAll(stale: Set<string>, present: Set<string>): string[] {
    const changed: string[] = [];
    for (const id of stale) {
      const before = this.byId.get(id);
      const hadProblems = this.problemsById.has(id);
      if (!present.has(id)) {
        this.byId.delete(id);
        this.problemsById.delete(id);
        this.runningWrites.delete(id);
        this.folderMtimes.delete(id);
        this.invalidate();
      } else this.reload(id);
      const after = this.byId.get(id);
      // A folder still being written (no run.json yet) stays a problem: no change to tell.
      if (before !== after || hadProblems !== this.problemsById.has(id)) changed.push(id);
    }
    return changed;
  }

  private replaceIn(list: TrackedRun[] | undefined, before: TrackedRun, after: TrackedRun): void {
    if (!list) return;
    const i = list.indexOf(before);
    if (i >= 0) list[i] = after;
  }

  /** Re-derives the status of runs that say `running` (a process can die without touching a file); returns the ids that changed. */
  recheckRunning(): string[] {
    const live = this.liveness();
    const changed: string[] = [];
    for (const run of this.byId.values()) {
      if (run.record.status !== 'running') continue;
      const status = deriveStatus(run.record, lastWriteOf(run.dir), live);
      if (status !== run.status) {
        run.status = status;
        changed.push(run.runId);
      }
    }
    return changed;
  }

  get(runId: string): TrackedRun | undefined {
    return this.byId.get(runId);
  }

  /** All runs, newest first. */
  all(): TrackedRun[] {
    return (this.sorted ??= sortNewestFirst([...this.byId.values()]));
  }

  /** Runs of one experiment, newest first. */
  ofExperiment(name: string): TrackedRun[] {
    if (!this.byExperiment) {
      this.byExperiment = new Map();
      for (const r of this.all()) {
        const list = this.byExperiment.get(r.record.experiment);
        if (list) list.push(r);
        else this.byExperiment.set(r.record.experiment, [r]);
      }
    }
    return this.byExperiment.get(name) ?? [];
  }

  problems(): StoreProblem[] {
    return [...this.problemsById.values()].flat();
  }

  /** The run id of a path inside the store (`.../.mlloop/runs/<id>/...`), if it is one. */
  runIdOf(path: string): string | undefined {
    const prefix = this.storeDir + (this.storeDir.endsWith('/') ? '' : '/');
    if (!path.startsWith(prefix)) return undefined;
    const id = path.slice(prefix.length).split(/[\\/]/)[0];
    return id && !id.startsWith('.') && join(this.storeDir, id) !== this.storeDir ? id : undefined;
  }

  private invalidate(): void {
    this.sorted = undefined;
    this.byExperiment = undefined;
  }
}
