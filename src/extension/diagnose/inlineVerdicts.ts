// The verdict of each experiment's latest completed run, inline in mlloop.json: a Problems entry on
// the experiment's key (its own DiagnosticCollection, information or warning by size), a hover with
// the notes and recommendations, a CodeLens, and quick fixes that apply a recommendation to the
// experiment's params and offer to train it. Verdicts come from run.json (no ONNX, no data), so
// they are recomputed whenever the run store or the file changes.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { formatGap, verdictShort, type Verdict } from '../../core/diagnose/biasVariance';
import { verdictOfRecord } from '../../core/diagnose/recordVerdict';
import type { BuiltinModel, MetricName } from '../../core/spec/types';
import { readProjectOutline, type ExperimentEntry } from '../project/projectFile';
import type { ProjectIndex } from '../project/projectIndex';
import type { RunTracker } from '../training/runTracker';

export const VERDICT_SOURCE = 'ML Loop diagnosis';
const BUILTIN = new Set(['linear', 'logistic', 'mlp', 'gbdt', 'cnn']);

export interface ExperimentVerdict {
  projectFile: vscode.Uri;
  experiment: ExperimentEntry;
  runId: string;
  verdict: Verdict;
}

function commandUri(command: string, arg: unknown): vscode.Uri {
  return vscode.Uri.parse(`command:${command}?${encodeURIComponent(JSON.stringify([arg]))}`);
}

export class InlineVerdicts
  implements vscode.Disposable, vscode.HoverProvider, vscode.CodeLensProvider, vscode.CodeActionProvider
{
  static readonly fixKind = vscode.CodeActionKind.QuickFix;
  private readonly collection = vscode.languages.createDiagnosticCollection('mlLoop.verdicts');
  /** projectFile → experiment name → verdict. */
  private readonly verdicts = new Map<string, Map<string, ExperimentVerdict>>();
  private readonly lensEmitter = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.lensEmitter.event;
  private readonly disposables: vscode.Disposable[] = [this.collection, this.lensEmitter];
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly services: { runs: RunTracker; projects: ProjectIndex; log: vscode.LogOutputChannel }) {
    const selector: vscode.DocumentSelector = { pattern: '**/mlloop.json' };
    this.disposables.push(
      vscode.languages.registerHoverProvider(selector, this),
      vscode.languages.registerCodeLensProvider(selector, this),
      vscode.languages.registerCodeActionsProvider(selector, this, {
        providedCodeActionKinds: [InlineVerdicts.fixKind],
      }),
      services.runs.onDidChangeRuns((c) => this.schedule(vscode.Uri.file(path.join(c.projectDir, 'mlloop.json')))),
      services.projects.onDidChange(() => void this.refreshAll()),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (path.basename(e.document.uri.fsPath) === 'mlloop.json') this.schedule(e.document.uri);
      }),
    );
  }

  /** Recomputes the verdicts of every project. */
  async refreshAll(): Promise<void> {
    const projects = await this.services.projects.list();
    const live = new Set(projects.map((p) => p.file.toString()));
    for (const key of [...this.verdicts.keys()]) {
      if (!live.has(key)) {
        this.verdicts.delete(key);
        this.collection.delete(vscode.Uri.parse(key));
      }
    }
    await Promise.all(projects.map((p) => this.refresh(p.file)));
  }

  private schedule(projectFile: vscode.Uri): void {
    const key = projectFile.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        void this.refresh(projectFile);
      }, 300),
    );
  }

  /** Recomputes one project's verdicts from its (possibly unsaved) text and its run store. */
  async refresh(projectFile: vscode.Uri): Promise<void> {
    try {
      const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === projectFile.toString());
      const text = open ? open.getText() : new TextDecoder().decode(await vscode.workspace.fs.readFile(projectFile));
      const outline = readProjectOutline(text);
      const byName = new Map<string, ExperimentVerdict>();
      const diagnostics: vscode.Diagnostic[] = [];
      if (outline.metric) {
        const index = await this.services.runs.index(path.dirname(projectFile.fsPath));
        for (const experiment of outline.experiments) {
          const run = index
            .ofExperiment(experiment.name)
            .find((r) => r.status === 'completed' && r.record.metrics?.train);
          if (!run) continue;
          const verdict = verdictOfRecord(
            { metric: outline.metric as MetricName, baseline: outline.baseline, images: outline.images },
            run.record,
            run.dir,
          );
          if (!verdict) continue;
          byName.set(experiment.name, { projectFile, experiment, runId: run.runId, verdict });
          diagnostics.push(this.diagnosticOf(text, experiment, verdict, run.runId));
        }
      }
      this.verdicts.set(projectFile.toString(), byName);
      this.collection.set(projectFile, diagnostics);
      this.lensEmitter.fire();
    } catch (e) {
      this.services.log.warn(
        `diagnosis hints for ${projectFile.fsPath}: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }

  private diagnosticOf(text: string, experiment: ExperimentEntry, verdict: Verdict, runId: string): vscode.Diagnostic {
    const range = rangeOfOffsets(text, experiment.keyOffset, experiment.keyLength);
    const severity =
      verdict.severity === 'warning' ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Information;
    const d = new vscode.Diagnostic(range, `${verdict.summary} — latest run ${runId}`, severity);
    d.source = VERDICT_SOURCE;
    d.code = verdict.dominant;
    return d;
  }

  /** The verdicts of a project file, by experiment (read by the tests and the compact view). */
  verdictsOf(projectFile: vscode.Uri): Map<string, ExperimentVerdict> {
    return this.verdicts.get(projectFile.toString()) ?? new Map();
  }

  private at(document: vscode.TextDocument, position: vscode.Position): ExperimentVerdict | undefined {
    for (const v of this.verdictsOf(document.uri).values()) {
      const range = rangeOfOffsets(document.getText(), v.experiment.keyOffset, v.experiment.keyLength);
      if (range.contains(position)) return v;
    }
    return undefined;
  }

  provideHover(document: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const v = this.at(document, position);
    if (!v) return undefined;
    const md = new vscode.MarkdownString(undefined, true);
    md.isTrusted = { enabledCommands: ['mlLoop.diagnoseRun'] };
    md.appendMarkdown(`**$(pulse) ${v.verdict.summary}**\n\n`);
    md.appendMarkdown(
      `Latest run \`${v.runId}\`: avoidable bias ${formatGap(v.verdict.metric, v.verdict.avoidableBias)}, variance ${formatGap(v.verdict.metric, v.verdict.variance)}${v.verdict.mismatch !== null ? `, dev/test mismatch ${formatGap(v.verdict.metric, v.verdict.mismatch)}` : ''}.\n\n`,
    );
    for (const n of v.verdict.notes) md.appendMarkdown(`${n}\n\n`);
    md.appendMarkdown('What to try next:\n');
    for (const r of v.verdict.recommendations) md.appendMarkdown(`- ${r.text}\n`);
    md.appendMarkdown(
      `\n[Diagnose run](${commandUri('mlLoop.diagnoseRun', { projectFile: v.projectFile.toString(), runId: v.runId })})`,
    );
    return new vscode.Hover(md, rangeOfOffsets(document.getText(), v.experiment.keyOffset, v.experiment.keyLength));
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const text = document.getText();
    return [...this.verdictsOf(document.uri).values()].map(
      (v) =>
        new vscode.CodeLens(rangeOfOffsets(text, v.experiment.keyOffset, v.experiment.keyLength), {
          title: `$(pulse) ${verdictShort(v.verdict)}`,
          tooltip: `${v.verdict.summary}: open the Diagnostics panel of run ${v.runId}`,
          command: 'mlLoop.diagnoseRun',
          arguments: [{ projectFile: v.projectFile, runId: v.runId }],
        }),
    );
  }

  async provideCodeActions(
    document: vscode.TextDocument,
    range: vscode.Range,
    context: vscode.CodeActionContext,
  ): Promise<vscode.CodeAction[]> {
    const actions: vscode.CodeAction[] = [];
    // The verdicts under the cursor, or anywhere on its lines (the key is short; the line is the experiment).
    const mine = context.diagnostics.filter((d) => d.source === VERDICT_SOURCE);
    for (const d of this.collection.get(document.uri) ?? []) {
      if (
        d.range.start.line >= range.start.line &&
        d.range.start.line <= range.end.line &&
        !mine.some((m) => m.range.isEqual(d.range))
      )
        mine.push(d);
    }
    if (mine.length === 0) return actions;
    // The fixes read the parameter schema (Ajv): loaded on first use, not at activation.
    const { fixEdits, paramFixes } = await import('../../core/diagnose/fixes');
    for (const diagnostic of mine) {
      const v = this.at(document, diagnostic.range.start);
      if (!v || !BUILTIN.has(v.experiment.kind)) continue;
      const fixes = paramFixes(
        v.experiment.kind as BuiltinModel,
        v.experiment.params,
        v.verdict.recommendations.map((r) => r.id),
      );
      for (const fix of fixes) {
        const action = new vscode.CodeAction(`${fix.title} in "${v.experiment.name}"`, InlineVerdicts.fixKind);
        action.diagnostics = [diagnostic];
        const edit = new vscode.WorkspaceEdit();
        for (const e of fixEdits(document.getText(), v.experiment.name, fix)) {
          edit.replace(
            document.uri,
            new vscode.Range(document.positionAt(e.offset), document.positionAt(e.offset + e.length)),
            e.content,
          );
        }
        action.edit = edit;
        action.command = {
          command: 'mlLoop.offerTraining',
          title: 'Train it now?',
          arguments: [{ projectFile: document.uri, experiment: v.experiment.name, change: fix.title }],
        };
        if (actions.length === 0) action.isPreferred = true;
        actions.push(action);
      }
      const open = new vscode.CodeAction(`Diagnose run ${v.runId}`, InlineVerdicts.fixKind);
      open.diagnostics = [diagnostic];
      open.command = {
        command: 'mlLoop.diagnoseRun',
        title: 'Diagnose Run',
        arguments: [{ projectFile: document.uri, runId: v.runId }],
      };
      actions.push(open);
    }
    return actions;
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

/** A range from offsets of a text (the document's own positionAt when it is open). */
function rangeOfOffsets(text: string, offset: number, length: number): vscode.Range {
  const pos = (o: number) => {
    const before = text.slice(0, o);
    const line = before.split('\n').length - 1;
    return new vscode.Position(line, o - (before.lastIndexOf('\n') + 1));
  };
  return new vscode.Range(pos(offset), pos(offset + length));
}
