// The extension's view of every project's run store and of the runs this window is training.
// One RunIndex per project, kept current by a file watcher on `.mlloop/runs/**` that re-reads only
// the run folder that changed (debounced), plus a slow re-check that turns runs whose process died
// into `interrupted` (a dead process writes no file, so no watcher event tells) and catches the
// store changes the watcher missed.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { RunIndex } from '../../core/track/runIndex';
import type { HistoryStep, TrackedRun } from '../../core/track/types';
import type { ProgressEvent } from '../../core/train/types';
import type { Project, ProjectIndex } from '../project/projectIndex';
import { RUNS_GLOB } from '../../core/spec/layout';

/** Watcher events of one run are gathered this long before the run is read again. */
const RELOAD_DEBOUNCE_MS = 150;
const RECHECK_INTERVAL_MS = 3000;

export interface RunsChange {
  projectDir: string;
  /** The runs that changed; undefined: the whole store was reloaded. */
  runIds?: string[];
}

/** A run this window is training: its cancel switch and the progress seen so far. */
export interface ActiveRun {
  runId: string;
  projectDir: string;
  experiment: string;
  abort: AbortController;
  steps: HistoryStep[];
  latest?: ProgressEvent;
  startedAt: number;
}

export function projectDirOf(project: Project): string {
  return path.dirname(project.file.fsPath);
}

export class RunTracker implements vscode.Disposable {
  private readonly indexes = new Map<
    string,
    { index: RunIndex; loaded: Promise<void>; ready: boolean; watcher: vscode.Disposable }
  >();
  private readonly active = new Map<string, ActiveRun>();
  private readonly changeEmitter = new vscode.EventEmitter<RunsChange>();
  private readonly progressEmitter = new vscode.EventEmitter<ActiveRun>();
  private readonly pending = new Map<string, { timer: NodeJS.Timeout; runIds: Set<string> | undefined }>();
  private readonly disposables: vscode.Disposable[] = [this.changeEmitter, this.progressEmitter];
  private readonly recheckTimer: NodeJS.Timeout;
  /** Store changes: the tree, the CodeLens and open panels listen. */
  readonly onDidChangeRuns = this.changeEmitter.event;
  /** Progress of a run trained by this window (every event; listeners throttle). */
  readonly onDidProgress = this.progressEmitter.event;

  constructor(
    private readonly projects: ProjectIndex,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables.push(projects.onDidChange(() => this.dropRemovedProjects()));
    this.recheckTimer = setInterval(() => this.recheckRunning(), RECHECK_INTERVAL_MS);
  }

  /** The run index of a project (read on first use; later kept current by the watcher). */
  async index(projectDir: string): Promise<RunIndex> {
    let entry = this.indexes.get(projectDir);
    if (!entry) {
      const index = new RunIndex(projectDir);
      const t0 = performance.now();
      const loaded = index.load().then(() => {
        this.log.info(
          `run store ${index.storeDir}: ${index.all().length} runs read in ${Math.round(performance.now() - t0)} ms`,
        );
        for (const p of index.problems()) this.log.warn(`run store: skipped ${p.file}: ${p.message}`);
      });
      const created = { index, loaded, ready: false, watcher: this.watch(projectDir) };
      void loaded.then(() => (created.ready = true));
      entry = created;
      this.indexes.set(projectDir, entry);
    }
    await entry.loaded;
    return entry.index;
  }

  /** The index if it was loaded already (synchronous readers such as getTreeItem). */
  loadedIndex(projectDir: string): RunIndex | undefined {
    return this.indexes.get(projectDir)?.index;
  }

  async run(projectDir: string, runId: string): Promise<TrackedRun | undefined> {
    const index = await this.index(projectDir);
    return index.get(runId) ?? index.reload(runId);
  }

  private watch(projectDir: string): vscode.Disposable {
    const watcher = vscode.workspace.createFileSystemWatcher(
      new vscode.RelativePattern(vscode.Uri.file(projectDir), RUNS_GLOB),
    );
    const onEvent = (uri: vscode.Uri) => {
      const index = this.indexes.get(projectDir)?.index;
      if (!index) return;
      const runId = index.runIdOf(uri.fsPath);
      // An event on the store folder itself (created, deleted): reload everything.
      this.schedule(projectDir, runId);
    };
    return vscode.Disposable.from(
      watcher,
      watcher.onDidCreate(onEvent),
      watcher.onDidChange(onEvent),
      watcher.onDidDelete(onEvent),
    );
  }

  /** Re-reads the given run (or the whole store) after the debounce; one change event per batch. */
  schedule(projectDir: string, runId: string | undefined): void {
    let p = this.pending.get(projectDir);
    if (!p) {
      p = {
        runIds: new Set(),
        timer: setTimeout(() => void this.flush(projectDir), RELOAD_DEBOUNCE_MS),
      };
      this.pending.set(projectDir, p);
    }
    if (runId === undefined) p.runIds = undefined;
    else p.runIds?.add(runId);
  }

  private async flush(projectDir: string): Promise<void> {
    const p = this.pending.get(projectDir);
    this.pending.delete(projectDir);
    const entry = this.indexes.get(projectDir);
    if (!p || !entry) return;
    await entry.loaded;
    if (p.runIds === undefined) {
      await entry.index.load();
      this.changeEmitter.fire({ projectDir });
      return;
    }
    for (const id of p.runIds) entry.index.reload(id);
    this.changeEmitter.fire({ projectDir, runIds: [...p.runIds] });
  }

  private recheckRunning(): void {
    for (const [projectDir, { index, ready }] of this.indexes) {
      if (!ready) continue; // the first read is still on its way
      const missed = index.recheckStore();
      if (missed.length)
        this.log.info(
          `run store ${index.storeDir}: ${missed.length} change(s) found by the periodic re-check, not the file watcher`,
        );
      const interrupted = index.recheckRunning();
      for (const id of interrupted) this.log.warn(`run ${id}: its training process is gone; shown as interrupted`);
      const changed = [...new Set([...missed, ...interrupted])];
      if (changed.length) this.changeEmitter.fire({ projectDir, runIds: changed });
    }
  }

  private dropRemovedProjects(): void {
    void this.projects.list().then((projects) => {
      const dirs = new Set(projects.map(projectDirOf));
      for (const [dir, entry] of this.indexes) {
        if (dirs.has(dir)) continue;
        entry.watcher.dispose();
        this.indexes.delete(dir);
      }
    });
  }

  // ---- runs trained by this window ----

  startActive(run: Omit<ActiveRun, 'steps' | 'startedAt'>): ActiveRun {
    const a: ActiveRun = { ...run, steps: [], startedAt: Date.now() };
    this.active.set(run.runId, a);
    void vscode.commands.executeCommand('setContext', 'mlLoop.training', true);
    // The run's folder was just created: show it as running now rather than wait for the watcher.
    this.loadedIndex(run.projectDir)?.reload(run.runId);
    this.changeEmitter.fire({ projectDir: run.projectDir, runIds: [run.runId] });
    return a;
  }

  reportProgress(runId: string, e: ProgressEvent): void {
    const a = this.active.get(runId);
    if (!a) return;
    a.latest = e;
    a.steps.push({ t: Date.now(), ...e });
    this.progressEmitter.fire(a);
  }

  endActive(runId: string): void {
    const a = this.active.get(runId);
    if (!a) return;
    this.active.delete(runId);
    void vscode.commands.executeCommand('setContext', 'mlLoop.training', this.active.size > 0);
    // The outcome was just written: read it now rather than wait for the watcher.
    this.loadedIndex(a.projectDir)?.reload(runId);
    this.changeEmitter.fire({ projectDir: a.projectDir, runIds: [runId] });
  }

  /** Cancels a run this window is training; false when it is not one of them. */
  cancel(runId: string): boolean {
    const a = this.active.get(runId);
    if (!a) return false;
    this.log.info(`run ${runId}: cancel requested`);
    a.abort.abort();
    return true;
  }

  activeRun(runId: string): ActiveRun | undefined {
    return this.active.get(runId);
  }

  activeRuns(): ActiveRun[] {
    return [...this.active.values()];
  }

  dispose(): void {
    clearInterval(this.recheckTimer);
    for (const p of this.pending.values()) clearTimeout(p.timer);
    for (const e of this.indexes.values()) e.watcher.dispose();
    for (const a of this.active.values()) a.abort.abort();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
