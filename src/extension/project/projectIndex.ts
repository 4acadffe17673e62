// Which mlloop.json files the workspace holds; keeps the `mlLoop.hasProject` and
// `mlLoop.hasExperiments` context keys (welcome content, menus) in step with them.
import * as vscode from 'vscode';
import { readProjectOutline, type ProjectOutline } from './projectFile';

export const PROJECT_GLOB = '**/mlloop.json';
const EXCLUDE_GLOB = '**/{node_modules,.mlloop,.git}/**';

export interface Project {
  file: vscode.Uri;
  outline: ProjectOutline;
}

export class ProjectIndex implements vscode.Disposable {
  private projects: Project[] = [];
  private scanning: Promise<void> | undefined;
  private readonly changeEmitter = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changeEmitter.event;
  private readonly disposables: vscode.Disposable[] = [this.changeEmitter];

  constructor(private readonly log: vscode.LogOutputChannel) {
    const watcher = vscode.workspace.createFileSystemWatcher(PROJECT_GLOB);
    const rescan = () => void this.refresh();
    this.disposables.push(
      watcher,
      watcher.onDidCreate(rescan),
      watcher.onDidChange(rescan),
      watcher.onDidDelete(rescan),
      vscode.workspace.onDidChangeWorkspaceFolders(rescan),
    );
  }

  /** The projects found by the last scan (scans once on first use). */
  async list(): Promise<Project[]> {
    await (this.scanning ??= this.scan());
    return this.projects;
  }

  refresh(): Promise<void> {
    this.scanning = this.scan();
    return this.scanning;
  }

  private async scan(): Promise<void> {
    const files = await vscode.workspace.findFiles(PROJECT_GLOB, EXCLUDE_GLOB, 50);
    files.sort((a, b) => a.fsPath.localeCompare(b.fsPath));
    const projects: Project[] = [];
    for (const file of files) {
      try {
        const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(file));
        projects.push({ file, outline: readProjectOutline(text) });
      } catch (e) {
        this.log.warn(`could not read ${file.fsPath}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    this.projects = projects;
    await vscode.commands.executeCommand('setContext', 'mlLoop.hasProject', projects.length > 0);
    await vscode.commands.executeCommand(
      'setContext',
      'mlLoop.hasExperiments',
      projects.some((p) => p.outline.experiments.length > 0),
    );
    this.log.info(`found ${projects.length} project file(s)`);
    this.changeEmitter.fire();
  }

  /** The one project, or the user's pick when there are several; undefined when none or cancelled. */
  async pick(placeHolder: string): Promise<Project | undefined> {
    const projects = await this.list();
    if (projects.length <= 1) return projects[0];
    const picked = await vscode.window.showQuickPick(
      projects.map((p) => ({
        label: p.outline.name ?? vscode.workspace.asRelativePath(p.file),
        description: vscode.workspace.asRelativePath(p.file),
        project: p,
      })),
      { placeHolder },
    );
    return picked?.project;
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
