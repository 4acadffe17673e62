// Script experiments in the editor: they run code from the workspace, so an untrusted workspace
// (Workspace Trust) refuses them with an explanation and a way to manage trust; built-in training,
// which runs no workspace code, is unaffected. Also the settings a script run takes, and the
// command that copies the mlloop.py helper into a project.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { pythonHelperDir } from '../../core/scripts/runScript';

export const MANAGE_TRUST = 'Manage Workspace Trust';

/** What the refusal says (also read by tests). */
export function untrustedMessage(experiment: string): string {
  return `ML Loop: "${experiment}" runs a command from this workspace, and the workspace is not trusted. Script experiments run only in a trusted workspace; built-in models still train.`;
}

/** False (after telling the user, with a button to manage trust) when the workspace is not trusted. */
export function mayRunScript(experiment: string): boolean {
  if (vscode.workspace.isTrusted) return true;
  void vscode.window.showWarningMessage(untrustedMessage(experiment), MANAGE_TRUST).then((choice) => {
    if (choice === MANAGE_TRUST) void vscode.commands.executeCommand('workbench.trust.manage');
  });
  return false;
}

/** The interpreter for `python`/`python3` commands (mlLoop.pythonPath); undefined: the command as written (or $MLLOOP_PYTHON). */
export function configuredPython(scope?: vscode.Uri): string | undefined {
  const value = vscode.workspace.getConfiguration('mlLoop', scope).get<string>('pythonPath', '').trim();
  return value || undefined;
}

/** Runs in flight at once in a sweep (mlLoop.sweep.parallel; 0 = one per core). */
export function configuredSweepParallel(scope?: vscode.Uri): number | undefined {
  const value = vscode.workspace.getConfiguration('mlLoop', scope).get<number>('sweep.parallel', 0);
  return value > 0 ? value : undefined;
}

/** Copies mlloop.py (shipped in media/python) next to the project file; asks before overwriting. */
export async function copyPythonHelper(projectFile: vscode.Uri): Promise<vscode.Uri | undefined> {
  const dir = pythonHelperDir();
  if (!dir) throw new Error('mlloop.py is missing from the extension');
  const target = vscode.Uri.file(path.join(path.dirname(projectFile.fsPath), 'mlloop.py'));
  const exists = await vscode.workspace.fs.stat(target).then(
    () => true,
    () => false,
  );
  if (exists) {
    const answer = await vscode.window.showWarningMessage(
      `${vscode.workspace.asRelativePath(target)} exists. Replace it with ML Loop's helper?`,
      { modal: true },
      'Replace',
    );
    if (answer !== 'Replace') return undefined;
  }
  await vscode.workspace.fs.copy(vscode.Uri.file(path.join(dir, 'mlloop.py')), target, { overwrite: true });
  return target;
}
