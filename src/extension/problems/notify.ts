// The notification of a problem that stops work (a ProjectProblemError thrown by a command
// handler, shown by the command table's wrapper): it names the file and line, and its action opens
// the data file at that line or mlloop.json at the field.
import * as vscode from 'vscode';
import type { Problem } from '../../core/spec/problems';
import { problemRange } from './problemMapping';
import type { ProjectProblemError } from './problemError';

/** Opens a problem's file with its range selected. */
export async function revealProblem(problem: Problem): Promise<vscode.TextEditor> {
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(problem.file));
  const range = doc.validateRange(problemRange(problem));
  return vscode.window.showTextDocument(doc, { selection: range, preview: true });
}

/** Shows the error notification; its action opens the file at the problem. */
export async function showProblemNotification(e: ProjectProblemError, log: vscode.LogOutputChannel): Promise<void> {
  const showLog = 'Show Log';
  const choice = await vscode.window.showErrorMessage(`ML Loop: ${e.message}`, e.action, showLog);
  if (choice === e.action) await revealProblem(e.problem);
  else if (choice === showLog) log.show(true);
}
