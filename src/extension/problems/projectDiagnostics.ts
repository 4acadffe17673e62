// Problems-panel diagnostics for mlloop.json files open in the editor, and for their data files.
// - As the user types (debounced): syntax and schema problems of the editor's text.
// - On open and save (and when the data file changes on disk): the data checks (loadProject and
//   the profile's findings) in a worker thread; a newer edit or save cancels a check in flight.
// Problems located in the data file (a ragged row, a non-numeric value…) go on the data file's URI.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Problem } from '../../core/spec/problems';
import type { ProjectCheckRequest, ProjectCheckResult } from '../../core/check/projectChecks';
import { blockingError } from './problemError';
import { toDiagnostic } from './problemMapping';
import { checkProjectInWorker } from '../../core/check/runCheck';
import { CancelledError } from '../../core/runtime/cancel';
import { ProjectFixes } from './projectFixes';

export const PROJECT_FILE_NAME = 'mlloop.json';

export function isProjectFile(uri: vscode.Uri): boolean {
  return path.posix.basename(uri.path) === PROJECT_FILE_NAME;
}

type TextModule = typeof import('./projectText');

interface ProjectState {
  uri: vscode.Uri;
  /** The editor text the parse problems belong to. */
  text: string;
  parseValid: boolean;
  parseProblems: Problem[];
  /** The last finished data check and the mlloop.json text it read. */
  data?: ProjectCheckResult;
  /** When that check started (Date.now()): files not modified since are what it read. */
  dataCheckedAt?: number;
  check?: AbortController;
  dataWatcher?: { file: string; watcher: vscode.FileSystemWatcher };
  /** Deleting mlloop.json clears its diagnostics (a glob watcher would see workspace folders only). */
  deleteWatcher?: vscode.FileSystemWatcher;
}

export interface ProjectDiagnosticsOptions {
  /** Absolute path of dist/worker-check.js. */
  workerPath: string;
  log: vscode.LogOutputChannel;
  debounceMs?: number;
}

export class ProjectDiagnostics implements vscode.Disposable {
  readonly collection = vscode.languages.createDiagnosticCollection('mlLoop');
  private readonly projects = new Map<string, ProjectState>();
  private readonly published = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private disposed = false;
  private readonly disposables: vscode.Disposable[] = [];
  private textModule: Promise<TextModule> | undefined;
  private readonly changeEmitter = new vscode.EventEmitter<vscode.Uri>();
  /** Fires with the project file whenever its diagnostics (or its data file's) were republished. */
  readonly onDidUpdate = this.changeEmitter.event;

  constructor(private readonly options: ProjectDiagnosticsOptions) {
    this.disposables.push(
      this.collection,
      this.changeEmitter,
      vscode.workspace.onDidOpenTextDocument((doc) => this.opened(doc)),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.contentChanges.length && isProjectFile(e.document.uri)) this.changed(e.document);
      }),
      vscode.workspace.onDidSaveTextDocument((doc) => {
        if (!isProjectFile(doc.uri)) return;
        // The save supersedes the recheck the last keystrokes scheduled.
        clearTimeout(this.timers.get(doc.uri.toString()));
        void this.refresh(doc, true);
      }),
      vscode.workspace.onDidCloseTextDocument((doc) => {
        if (isProjectFile(doc.uri)) this.forget(doc.uri);
      }),
      vscode.languages.registerCodeActionsProvider({ pattern: `**/${PROJECT_FILE_NAME}` }, new ProjectFixes((uri) => this.problemsOf(uri)), { providedCodeActionKinds: [ProjectFixes.kind] }),
    );
    for (const doc of vscode.workspace.textDocuments) this.opened(doc);
  }

  private opened(doc: vscode.TextDocument): void {
    if (isProjectFile(doc.uri)) void this.refresh(doc, true);
  }

  /** An edit: recheck the text after a pause; a data check in flight is for an older text. */
  private changed(doc: vscode.TextDocument): void {
    this.projects.get(doc.uri.toString())?.check?.abort();
    // An undo back to the saved text (or a reload from disk) matches the file again: check the data too.
    this.later(doc.uri.toString(), () => (doc.isClosed ? undefined : this.refresh(doc, !doc.isDirty)));
  }

  /** Runs `task` once no other call for the same file came within the debounce delay. */
  private later(key: string, task: () => unknown): void {
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        void task();
      }, this.options.debounceMs ?? 300),
    );
  }

  private loadText(): Promise<TextModule> {
    return (this.textModule ??= import('./projectText'));
  }

  /** Rechecks the document's text now; with `data`, also starts a data check of the file on disk. */
  async refresh(doc: vscode.TextDocument, data: boolean): Promise<void> {
    const key = doc.uri.toString();
    const text = doc.getText();
    const { textProblems } = await this.loadText();
    if (doc.isClosed) return;
    const { valid, problems } = textProblems(text, doc.uri.fsPath);
    const state: ProjectState = this.projects.get(key) ?? { uri: doc.uri, text, parseValid: valid, parseProblems: problems };
    Object.assign(state, { text, parseValid: valid, parseProblems: problems });
    this.projects.set(key, state);
    if (!state.deleteWatcher && doc.uri.scheme === 'file') {
      state.deleteWatcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(path.dirname(doc.uri.fsPath)), PROJECT_FILE_NAME), true, true, false);
      state.deleteWatcher.onDidDelete(() => this.forget(doc.uri));
    }
    await this.publish(doc.uri);
    if (data && doc.uri.scheme === 'file') await this.checkData(state);
  }

  /** Runs the data checks of a project in a worker, cancelling the one in flight. */
  private async checkData(state: ProjectState): Promise<void> {
    state.check?.abort();
    const abort = (state.check = new AbortController());
    const projectDir = path.dirname(state.uri.fsPath);
    const startedAt = Date.now();
    const t0 = performance.now();
    let result: ProjectCheckResult;
    try {
      result = await this.runCheck({ projectDir, profile: true }, abort.signal);
    } catch (e) {
      if (e instanceof CancelledError) return;
      this.options.log.error(`checking the data of ${state.uri.fsPath} failed: ${e instanceof Error ? e.message : String(e)}`);
      return;
    } finally {
      if (state.check === abort) state.check = undefined;
    }
    if (abort.signal.aborted || this.projects.get(state.uri.toString()) !== state) return;
    if (result.profileError) this.options.log.warn(`profiling ${projectDir} for diagnostics failed: ${result.profileError}`);
    this.options.log.info(`checked the data of ${state.uri.fsPath} in ${Math.round(performance.now() - t0)} ms: ${result.problems.length} problem(s)`);
    state.data = result;
    state.dataCheckedAt = startedAt;
    this.watchDataFile(state, result.dataFile);
    await this.publish(state.uri);
  }

  /** The data checks of a project on disk, without touching the Problems panel (used before work
   *  that needs usable data, e.g. opening the Data panel). */
  checkOnce(projectFile: vscode.Uri, profile = false, signal?: AbortSignal): Promise<ProjectCheckResult> {
    return this.runCheck({ projectDir: path.dirname(projectFile.fsPath), profile }, signal);
  }

  /** Throws a ProjectProblemError (the command wrapper notifies) when the project's data has an
   *  error that stops work on it. */
  async assertUsable(projectFile: vscode.Uri, signal?: AbortSignal): Promise<void> {
    let result = await this.unchangedSinceCheck(projectFile);
    if (result) this.options.log.info(`${projectFile.fsPath}: the data is unchanged since its last check`);
    else {
      const t0 = performance.now();
      result = await this.checkOnce(projectFile, false, signal);
      this.options.log.info(`checked the data of ${projectFile.fsPath} before work in ${Math.round(performance.now() - t0)} ms`);
    }
    const error = blockingError(result, projectFile.fsPath);
    if (error) throw error;
  }

  /** The diagnostics' last data check of a project, when neither mlloop.json nor the data file
   *  changed on disk since it started (no need to read the data again). */
  private async unchangedSinceCheck(projectFile: vscode.Uri): Promise<ProjectCheckResult | undefined> {
    const state = this.projects.get(projectFile.toString());
    if (!state?.data || state.dataCheckedAt === undefined || state.check) return undefined;
    const { data, dataCheckedAt } = state;
    const files = [projectFile.fsPath, ...(data.dataFile ? [data.dataFile] : [])];
    try {
      const stats = await Promise.all(files.map((f) => fs.stat(f)));
      // A write in the same millisecond as the check's start could be missed: demand a margin.
      return stats.every((st) => st.mtimeMs < dataCheckedAt - 5) ? data : undefined;
    } catch {
      return undefined; // a file is gone: check again, which reports it
    }
  }

  private runCheck(req: ProjectCheckRequest, signal?: AbortSignal): Promise<ProjectCheckResult> {
    return checkProjectInWorker(req, { workerPath: this.options.workerPath, signal });
  }

  /** A changed, created or deleted data file is checked again (a fixed row clears its problem). */
  private watchDataFile(state: ProjectState, dataFile: string | undefined): void {
    if (state.dataWatcher?.file === dataFile) return;
    state.dataWatcher?.watcher.dispose();
    state.dataWatcher = undefined;
    if (!dataFile) return;
    const pattern = new vscode.RelativePattern(vscode.Uri.file(path.dirname(dataFile)), path.basename(dataFile));
    const watcher = vscode.workspace.createFileSystemWatcher(pattern);
    const recheck = () => this.later(`${state.uri.toString()}|data`, () => this.projects.get(state.uri.toString()) === state && this.checkData(state));
    watcher.onDidChange(recheck);
    watcher.onDidCreate(recheck);
    watcher.onDidDelete(recheck);
    state.dataWatcher = { file: dataFile, watcher };
  }

  /** Problems currently shown for a project (its file's and its data file's), as the core reported them. */
  async problemsOf(projectFile: vscode.Uri): Promise<Problem[]> {
    const text = await this.loadText();
    const state = this.projects.get(projectFile.toString());
    return state ? this.currentProblems(state, text) : [];
  }

  private currentProblems(state: ProjectState, { relocateProblems }: TextModule): Problem[] {
    const out = [...state.parseProblems];
    // Data problems belong to a text that parsed; while the text has a syntax error only that counts.
    // With schema errors the data problems show too (the schema ones come from the editor's text).
    const syntaxOk = !state.parseProblems.some((p) => p.code === 'json-syntax');
    const data = state.data && (state.data.specValid ? (state.parseValid ? state.data.problems : []) : state.data.problems.filter((p) => p.code !== 'schema' && p.code !== 'json-syntax'));
    if (syntaxOk && data?.length) out.push(...relocateProblems(data, state.uri.fsPath, state.data!.projectText ?? state.text, state.text));
    return out;
  }

  /** Rebuilds the diagnostics of every tracked project (one data file may serve several). */
  private async publish(changed?: vscode.Uri): Promise<void> {
    const text = await this.loadText();
    if (this.disposed) return;
    const byFile = new Map<string, { uri: vscode.Uri; diagnostics: vscode.Diagnostic[] }>();
    for (const state of this.projects.values()) {
      byFile.set(state.uri.toString(), { uri: state.uri, diagnostics: [] });
      for (const p of this.currentProblems(state, text)) {
        const uri = p.file === state.uri.fsPath ? state.uri : vscode.Uri.file(p.file);
        const entry = byFile.get(uri.toString()) ?? { uri, diagnostics: [] };
        entry.diagnostics.push(toDiagnostic(p));
        byFile.set(uri.toString(), entry);
      }
    }
    for (const key of this.published) if (!byFile.has(key)) this.collection.delete(vscode.Uri.parse(key));
    this.published.clear();
    for (const [key, { uri, diagnostics }] of byFile) {
      this.collection.set(uri, diagnostics);
      this.published.add(key);
    }
    if (changed) this.changeEmitter.fire(changed);
  }

  /** Stops tracking a closed or deleted project file and clears its diagnostics. */
  private forget(uri: vscode.Uri): void {
    const state = this.projects.get(uri.toString());
    if (!state) return;
    state.check?.abort();
    clearTimeout(this.timers.get(uri.toString()));
    clearTimeout(this.timers.get(`${uri.toString()}|data`));
    state.dataWatcher?.watcher.dispose();
    state.deleteWatcher?.dispose();
    this.projects.delete(uri.toString());
    void this.publish(uri);
  }

  dispose(): void {
    this.disposed = true;
    for (const uri of [...this.projects.values()].map((s) => s.uri)) this.forget(uri);
    for (const t of this.timers.values()) clearTimeout(t);
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
