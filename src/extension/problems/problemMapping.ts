// Problem (core: 1-based lines and columns, end exclusive) → vscode.Diagnostic.
import * as vscode from 'vscode';
import type { Problem } from '../../core/spec/problems';

export const DIAGNOSTIC_SOURCE = 'ML Loop';
/** Problems located at a line only (data files) underline that whole line; the editor clamps. */
const LINE_END = 2 ** 30;

const SEVERITY: Record<Problem['severity'], vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  information: vscode.DiagnosticSeverity.Information,
};

export function problemRange(p: Problem): vscode.Range {
  const line = Math.max(p.line - 1, 0);
  const column = Math.max(p.column - 1, 0);
  if (p.endLine === undefined) return new vscode.Range(line, column, line, LINE_END);
  return new vscode.Range(line, column, Math.max(p.endLine - 1, line), Math.max((p.endColumn ?? p.column + 1) - 1, 0));
}

export function toDiagnostic(p: Problem): vscode.Diagnostic {
  const d = new vscode.Diagnostic(problemRange(p), p.message, SEVERITY[p.severity]);
  d.source = DIAGNOSTIC_SOURCE;
  d.code = p.code;
  return d;
}
