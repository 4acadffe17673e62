// Quick fixes of ML Loop's own problems in mlloop.json (a mistyped column → the closest one, a split
// column used as a feature → split by it): each problem carries its fixes as values to set
// (src/core/spec/problems), written here through jsonc-parser so comments and layout are kept.
import * as vscode from 'vscode';
import { problemFixEdits } from '../../core/spec/jsonLocation';
import type { Problem } from '../../core/spec/problems';
import { DIAGNOSTIC_SOURCE, problemRange } from './problemMapping';

export class ProjectFixes implements vscode.CodeActionProvider {
  static readonly kind = vscode.CodeActionKind.QuickFix;

  constructor(private readonly problemsOf: (projectFile: vscode.Uri) => Promise<Problem[]>) {}

  async provideCodeActions(document: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): Promise<vscode.CodeAction[]> {
    const mine = context.diagnostics.filter((d) => d.source === DIAGNOSTIC_SOURCE);
    if (!mine.length) return [];
    const problems = (await this.problemsOf(document.uri)).filter((p) => p.fixes?.length && p.file === document.uri.fsPath);
    const options = { insertSpaces: true, tabSize: 2 };
    const editor = vscode.window.visibleTextEditors.find((e) => e.document === document);
    if (editor) Object.assign(options, { insertSpaces: editor.options.insertSpaces !== false, tabSize: typeof editor.options.tabSize === 'number' ? editor.options.tabSize : 2 });
    const actions: vscode.CodeAction[] = [];
    for (const diagnostic of mine) {
      const problem = problems.find((p) => p.code === diagnostic.code && p.message === diagnostic.message && problemRange(p).isEqual(diagnostic.range));
      for (const fix of problem?.fixes ?? []) {
        const action = new vscode.CodeAction(fix.title, ProjectFixes.kind);
        action.diagnostics = [diagnostic];
        action.edit = new vscode.WorkspaceEdit();
        for (const e of problemFixEdits(document.getText(), fix, options.insertSpaces, options.tabSize)) {
          action.edit.replace(document.uri, new vscode.Range(document.positionAt(e.offset), document.positionAt(e.offset + e.length)), e.content);
        }
        if (!actions.length) action.isPreferred = true;
        actions.push(action);
      }
    }
    return actions;
  }
}
