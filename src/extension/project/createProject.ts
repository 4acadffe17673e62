// "Create ML Project": copies one of the samples shipped in examples/ into a folder.
import { applyEdits, modify, parse as parseJsonc } from 'jsonc-parser';
import * as vscode from 'vscode';
import type { Services } from '../services';
import { MLLOOP_DIR } from '../../core/spec/layout';

const SKIP = new Set([MLLOOP_DIR, 'node_modules', '.git']);

async function listSamples(extensionUri: vscode.Uri): Promise<{ name: string; uri: vscode.Uri; description: string }[]> {
  const examples = vscode.Uri.joinPath(extensionUri, 'examples');
  let entries: [string, vscode.FileType][] = [];
  try {
    entries = await vscode.workspace.fs.readDirectory(examples);
  } catch {
    return [];
  }
  const samples = [];
  for (const [name, type] of entries) {
    if (type !== vscode.FileType.Directory) continue;
    const uri = vscode.Uri.joinPath(examples, name);
    try {
      // mlloop.json is JSON with comments.
      const spec = parseJsonc(new TextDecoder().decode(await vscode.workspace.fs.readFile(vscode.Uri.joinPath(uri, 'mlloop.json'))));
      if (typeof spec !== 'object' || spec === null) continue;
      samples.push({ name, uri, description: `${spec.task ?? ''} · ${Object.keys(spec.experiments ?? {}).length} experiments` });
    } catch {
      // not a sample
    }
  }
  return samples.sort((a, b) => a.name.localeCompare(b.name));
}

async function copyTree(from: vscode.Uri, to: vscode.Uri): Promise<void> {
  await vscode.workspace.fs.createDirectory(to);
  for (const [name, type] of await vscode.workspace.fs.readDirectory(from)) {
    if (SKIP.has(name)) continue;
    const src = vscode.Uri.joinPath(from, name);
    const dst = vscode.Uri.joinPath(to, name);
    if (type === vscode.FileType.Directory) await copyTree(src, dst);
    else await vscode.workspace.fs.copy(src, dst, { overwrite: false });
  }
}

async function exists(uri: vscode.Uri): Promise<boolean> {
  try {
    await vscode.workspace.fs.stat(uri);
    return true;
  } catch {
    return false;
  }
}

/**
 * The samples point `$schema` at the schema by a path relative to the repository; in a copy that
 * path is wrong, and the extension's jsonValidation provides the schema anyway.
 */
async function dropRelativeSchema(projectFile: vscode.Uri): Promise<void> {
  const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(projectFile));
  const spec = parseJsonc(text) as { $schema?: unknown } | undefined;
  if (typeof spec?.$schema !== 'string' || /^[a-z]+:\/\//i.test(spec.$schema)) return;
  const edits = modify(text, ['$schema'], undefined, { formattingOptions: { insertSpaces: true, tabSize: 2 } });
  await vscode.workspace.fs.writeFile(projectFile, new TextEncoder().encode(applyEdits(text, edits)));
}

/** A folder that already holds a project: said before anything is asked, with a way to open it (not awaited: a command returns at once). */
async function existingProject(folder: vscode.Uri | undefined): Promise<boolean> {
  if (!folder) return false;
  const projectFile = vscode.Uri.joinPath(folder, 'mlloop.json');
  if (!(await exists(projectFile))) return false;
  void vscode.window.showInformationMessage(`ML Loop: ${vscode.workspace.asRelativePath(projectFile)} already exists: this folder is an ML Loop project.`, 'Open mlloop.json').then((choice) => {
    if (choice) void vscode.window.showTextDocument(projectFile);
  });
  return true;
}

export async function createProject(services: Services, sampleName?: string, targetFolder?: vscode.Uri): Promise<vscode.Uri | undefined> {
  if (await existingProject(targetFolder ?? vscode.workspace.workspaceFolders?.[0]?.uri)) return undefined;
  const samples = await listSamples(services.context.extensionUri);
  if (samples.length === 0) throw new Error('no sample projects ship with this build of ML Loop');
  const sample = sampleName
    ? samples.find((s) => s.name === sampleName)
    : (await vscode.window.showQuickPick(samples.map((s) => ({ label: s.name, description: s.description, sample: s })), { placeHolder: 'Start from which sample?' }))?.sample;
  if (!sample) {
    if (sampleName) throw new Error(`no sample named ${sampleName}`);
    return undefined;
  }
  let folder = targetFolder ?? vscode.workspace.workspaceFolders?.[0]?.uri;
  const openAfter = !vscode.workspace.workspaceFolders?.length;
  if (!folder) {
    folder = (await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Create ML Project here' }))?.[0];
    if (!folder) return undefined;
  }
  if (await existingProject(folder)) return undefined;
  const projectFile = vscode.Uri.joinPath(folder, 'mlloop.json');
  await copyTree(sample.uri, folder);
  await dropRelativeSchema(projectFile);
  services.log.info(`created a project from the ${sample.name} sample in ${folder.fsPath}`);
  if (openAfter) {
    await vscode.commands.executeCommand('vscode.openFolder', folder);
  } else {
    await services.projects.refresh();
    await vscode.window.showTextDocument(projectFile);
  }
  return projectFile;
}
