// What a command is about, from what its caller passed: a node of the Experiments view, a reference
// ({projectDir | projectFile, runId}) from a CodeLens, a hover link, a panel, the status bar or a
// test, or nothing (the command palette: the user picks). The one place commands turn their
// argument into a project, a run or a deployment.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { runPickRow, runLabel } from '../core/track/format';
import type { TrackedRun } from '../core/track/types';
import { ModelNode, VersionNode } from './deploy/deploymentsTree';
import { RunNode } from './experiments/experimentsTree';
import type { DeploymentRef, ResolvedDeployment } from './monitoring/deploymentMonitor';
import type { Project } from './project/projectIndex';
import type { Services } from './services';
import { projectDirOf } from './training/runTracker';

/** A run as commands receive it. projectFile may be a path or a URI string: command links carry JSON. */
export interface RunRef {
  projectDir?: string;
  projectFile?: vscode.Uri | string;
  runId: string;
}

/** A run a command acts on: its project folder and id. */
export interface RunTarget {
  projectDir: string;
  runId: string;
}

export function isRunRef(v: unknown): v is RunRef {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return typeof r.runId === 'string' && (typeof r.projectDir === 'string' || typeof r.projectFile === 'string' || r.projectFile instanceof vscode.Uri);
}

/** A file path, or a URI in a string (a command link's JSON argument), as a URI. */
export function uriOf(file: vscode.Uri | string): vscode.Uri {
  return file instanceof vscode.Uri ? file : /^[a-z][\w+.-]*:/i.test(file) ? vscode.Uri.parse(file) : vscode.Uri.file(file);
}

/** The run an argument names (a run node or a RunRef); undefined for anything else. */
export function runTargetOf(arg: unknown): RunTarget | undefined {
  if (arg instanceof RunNode) return { projectDir: arg.projectDir, runId: arg.runId };
  if (!isRunRef(arg)) return undefined;
  return { projectDir: arg.projectDir ?? path.dirname(uriOf(arg.projectFile!).fsPath), runId: arg.runId };
}

/** The one project, or the user's pick among several; an error when the workspace has none. */
export async function requireProject(s: Services, placeHolder: string): Promise<Project> {
  const project = await s.projects.pick(placeHolder);
  if (!project) throw new Error('this workspace has no mlloop.json — run "ML Loop: Create ML Project" first');
  return project;
}

/** The project of a folder, as the project index knows it. */
export async function projectOf(s: Services, projectDir: string): Promise<Project> {
  const project = (await s.projects.list()).find((p) => projectDirOf(p) === projectDir);
  if (!project) throw new Error(`no mlloop.json in ${projectDir}`);
  return project;
}

export interface RunPick {
  /** Placeholder of the project pick (when the workspace has several). */
  project: string;
  /** Placeholder of the run pick. */
  run: string;
  /** The runs offered (default: all). */
  filter?: (r: TrackedRun) => boolean;
  /** The error when no run passes the filter. */
  none?: string;
}

/** The user's pick among a project's runs (newest first). */
export async function pickRun(s: Services, pick: RunPick): Promise<{ project: Project; run: TrackedRun } | undefined> {
  const project = await requireProject(s, pick.project);
  const candidates = (await s.runs.index(projectDirOf(project))).all().filter(pick.filter ?? (() => true));
  if (candidates.length === 0) throw new Error(pick.none ?? 'no run to choose from');
  // Rows read like the Experiments tree: short name, key metric and age, newest first; the full id below.
  const now = Date.now();
  const picked = await vscode.window.showQuickPick(
    candidates.slice(0, 500).map((r) => ({ ...runPickRow(r, project.outline.metric, now), run: r })),
    { placeHolder: pick.run, matchOnDescription: true, matchOnDetail: true },
  );
  return picked && { project, run: picked.run };
}

/** The run an argument names, or the user's pick when it names none. */
export async function resolveRunTarget(s: Services, arg: unknown, pick: RunPick): Promise<RunTarget | undefined> {
  const target = runTargetOf(arg);
  if (target) return target;
  const picked = await pickRun(s, pick);
  return picked && { projectDir: projectDirOf(picked.project), runId: picked.run.runId };
}

/** The run an argument names, read from the store with its project; or the user's pick. */
export async function resolveTrackedRun(s: Services, arg: unknown, pick: RunPick): Promise<{ project: Project; run: TrackedRun } | undefined> {
  const target = runTargetOf(arg);
  if (!target) return pickRun(s, pick);
  const run = await s.runs.run(target.projectDir, target.runId);
  if (!run) throw new Error(`run ${target.runId} is not in the store`);
  return { project: await projectOf(s, target.projectDir), run };
}

function isDeploymentRef(arg: unknown): arg is DeploymentRef {
  return !!arg && typeof (arg as DeploymentRef).projectDir === 'string' && typeof (arg as DeploymentRef).deployment === 'string';
}

/** The deployment a command is about: a model node of the Deployments view, a {projectDir, deployment} ref, or a pick among the running ones. */
export async function resolveDeployment(s: Services, arg: unknown): Promise<ResolvedDeployment | undefined> {
  const find = (ref: DeploymentRef) => s.servers.running().find((x) => x.launch.projectDir === ref.projectDir && x.status?.models.some((m) => m.name === ref.deployment));
  if (arg instanceof ModelNode || arg instanceof VersionNode) return { projectDir: arg.server.launch.projectDir, deployment: arg.model.name, server: arg.server };
  if (isDeploymentRef(arg)) return { ...arg, server: find(arg) };
  const items = s.servers.running().flatMap((server) => (server.status?.models ?? []).map((m) => ({ label: m.name, description: `${server.url}${server.logDir ? '' : ' · not logging requests'}`, ref: { projectDir: server.launch.projectDir, deployment: m.name, server } })));
  if (items.length === 0) throw new Error('no inference server is running — deploy a run (with request logging on) first');
  if (items.length === 1) return items[0].ref;
  return (await vscode.window.showQuickPick(items, { placeHolder: 'Which deployment?' }))?.ref;
}
