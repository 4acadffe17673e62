// Problems diagnostics of mlloop.json in the real extension host: on a copy of the digits sample in
// a temporary folder (the workspace's own files are never changed).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { activatedExtension, waitFor, workspaceRoot } from './helpers';

const SOURCE = 'ML Loop';

function ours(uri: vscode.Uri): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(uri).filter((d) => d.source === SOURCE);
}

/** Waits until a diagnostic of `code` is on `uri`. */
function diagnosticOf(uri: vscode.Uri, code: string, timeoutMs = 60_000): Promise<vscode.Diagnostic> {
  return waitFor(() => ours(uri).find((d) => d.code === code), `a "${code}" diagnostic on ${uri.fsPath}`, timeoutMs);
}

function noDiagnosticOf(uri: vscode.Uri, code: string): Promise<true> {
  return waitFor(() => !ours(uri).some((d) => d.code === code) || undefined, `the "${code}" diagnostic on ${uri.fsPath} to clear`, 60_000);
}

/** 0-based position of the first occurrence of `needle` in the document. */
function positionOf(doc: vscode.TextDocument, needle: string): vscode.Position {
  const offset = doc.getText().indexOf(needle);
  assert.ok(offset >= 0, `${needle} is not in ${doc.fileName}`);
  return doc.positionAt(offset);
}

/** Replaces the first `from` in the document as an edit in the editor (not on disk). */
async function replaceInDocument(doc: vscode.TextDocument, from: string, to: string): Promise<void> {
  const start = positionOf(doc, from);
  const edit = new vscode.WorkspaceEdit();
  edit.replace(doc.uri, new vscode.Range(start, doc.positionAt(doc.offsetAt(start) + from.length)), to);
  assert.ok(await vscode.workspace.applyEdit(edit));
}

/** Replaces `from` by `to`, saves, and waits for a `code` diagnostic, which must start at `value`. */
async function saveEditExpecting(doc: vscode.TextDocument, from: string, to: string, code: string, value: string): Promise<vscode.Diagnostic> {
  await replaceInDocument(doc, from, to);
  await doc.save();
  const d = await diagnosticOf(doc.uri, code);
  const at = positionOf(doc, value);
  assert.deepEqual([d.range.start.line, d.range.start.character], [at.line, at.character]);
  return d;
}

/** A small edit (a trailing newline) and a save: a save of an unchanged file is no save at all. */
async function editAndSave(uri: vscode.Uri): Promise<void> {
  const doc = await vscode.workspace.openTextDocument(uri);
  const edit = new vscode.WorkspaceEdit();
  edit.insert(uri, doc.positionAt(doc.getText().length), '\n');
  assert.ok(await vscode.workspace.applyEdit(edit));
  assert.ok(await doc.save());
}

describe('Problems diagnostics of mlloop.json', () => {
  let dir: string;
  let projectUri: vscode.Uri;
  let dataUri: vscode.Uri;

  let logFile: vscode.Uri;

  before(async () => {
    logFile = vscode.Uri.joinPath((await activatedExtension()).exports.logUri, 'ML Loop.log');
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mlloop-diagnostics-'));
    await fs.cp(workspaceRoot().fsPath, dir, { recursive: true, filter: (src) => !src.includes(`${path.sep}.mlloop`) });
    projectUri = vscode.Uri.file(path.join(dir, 'mlloop.json'));
    dataUri = vscode.Uri.file(path.join(dir, 'data', 'digits.csv'));
  });

  // The data checks run in a worker: its failures are only in the extension's log.
  afterEach(async function () {
    if (this.currentTest?.state !== 'failed') return;
    const log = await fs.readFile(logFile.fsPath, 'utf8').catch((e) => String(e));
    console.log(`--- ML Loop log (last lines) ---\n${log.split('\n').slice(-25).join('\n')}`);
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('the sample opens with no errors (only the profile\'s warnings)', async () => {
    const doc = await vscode.workspace.openTextDocument(projectUri);
    await vscode.window.showTextDocument(doc);
    // The profile finds the digits' constant border pixels: its warnings arrive once the data check is done.
    await diagnosticOf(projectUri, 'constant-column');
    assert.deepEqual(
      ours(projectUri).filter((d) => d.severity === vscode.DiagnosticSeverity.Error),
      [],
    );
    assert.ok(ours(projectUri).every((d) => d.source === SOURCE && typeof d.code === 'string'));
  });

  it('a wrong target, saved, is an error at the target value; fixing it clears it', async () => {
    const doc = await vscode.workspace.openTextDocument(projectUri);
    const d = await saveEditExpecting(doc, '"target": "digit"', '"target": "digt"', 'data-unknown-column', '"digt"');
    assert.equal(d.range.end.character, d.range.start.character + '"digt"'.length);
    assert.equal(d.severity, vscode.DiagnosticSeverity.Error);
    assert.match(d.message, /The data has no column "digt": did you mean "digit"\? \(its columns: px0, px1/);

    // The quick fix writes the closest column.
    const actions = (await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', projectUri, d.range, vscode.CodeActionKind.QuickFix.value)) ?? [];
    const fix = actions.find((a) => a.title === 'Use column "digit"');
    assert.ok(fix?.edit, `no "Use column" fix among: ${actions.map((a) => a.title).join(', ')}`);
    assert.ok(await vscode.workspace.applyEdit(fix.edit));
    assert.ok(doc.getText().includes('"target": "digit"'));
    await doc.save();
    await noDiagnosticOf(projectUri, 'data-unknown-column');
  });

  it('a save that follows another at once supersedes its check: only the newer problem shows', async () => {
    const doc = await vscode.workspace.openTextDocument(projectUri);
    await replaceInDocument(doc, '"target": "digit"', '"target": "digt"');
    await doc.save();
    await replaceInDocument(doc, '"target": "digt"', '"target": "digitq"');
    await doc.save();
    const d = await diagnosticOf(projectUri, 'data-unknown-column');
    assert.match(d.message, /no column "digitq"/);
    // Let any stale check finish: it must not bring "digt" back.
    await new Promise((r) => setTimeout(r, 3000));
    const messages = ours(projectUri).map((x) => x.message);
    assert.ok(!messages.some((m) => m.includes('"digt"')), messages.join('\n'));
    await replaceInDocument(doc, '"target": "digitq"', '"target": "digit"');
    await doc.save();
    await noDiagnosticOf(projectUri, 'data-unknown-column');
  });

  it('a schema error shows while typing (the editor text, before any save) and clears on undo', async () => {
    const doc = await vscode.workspace.openTextDocument(projectUri);
    await vscode.window.showTextDocument(doc);
    await replaceInDocument(doc, '"metric": "accuracy"', '"metric": "acuracy"');
    assert.ok(doc.isDirty);
    const d = await diagnosticOf(projectUri, 'schema');
    const at = positionOf(doc, '"acuracy"');
    assert.deepEqual([d.range.start.line, d.range.start.character], [at.line, at.character]);
    assert.match(d.message, /metric/);
    await vscode.commands.executeCommand('undo');
    await noDiagnosticOf(projectUri, 'schema');
    assert.ok(!doc.isDirty);
  });

  it('a data path that does not exist is an error at data.path', async () => {
    const doc = await vscode.workspace.openTextDocument(projectUri);
    const d = await saveEditExpecting(doc, '"data/digits.csv"', '"data/digit.csv"', 'data-not-found', '"data/digit.csv"');
    assert.match(d.message, /data\/digit\.csv does not exist/);
    await replaceInDocument(doc, '"data/digit.csv"', '"data/digits.csv"');
    await doc.save();
    await noDiagnosticOf(projectUri, 'data-not-found');
  });

  it('a ragged row is an error on the data file at its line; fixing the file clears it', async () => {
    const original = await fs.readFile(dataUri.fsPath, 'utf8');
    const lines = original.split('\n');
    lines[11] = lines[11].replace(/,[^,\r]*(\r?)$/, '$1'); // line 12 of the file loses its last field
    await fs.writeFile(dataUri.fsPath, lines.join('\n'));
    // Saving mlloop.json runs the data check, as a user would after changing the data.
    await editAndSave(projectUri);
    const d = await diagnosticOf(dataUri, 'data-ragged');
    assert.equal(d.range.start.line, 11);
    assert.equal(d.severity, vscode.DiagnosticSeverity.Error);
    assert.match(d.message, /This row has 64 fields; the header has 65/);
    // The data file is watched: restoring it clears the problem without touching mlloop.json.
    await fs.writeFile(dataUri.fsPath, original);
    await noDiagnosticOf(dataUri, 'data-ragged');
  });

  it('deleting the project file clears its diagnostics and its data file\'s', async () => {
    const original = await fs.readFile(dataUri.fsPath, 'utf8');
    await fs.writeFile(dataUri.fsPath, original.replace(/\n([^\n]*),[^,\r\n]*(\r?)\n/, '\n$1$2\n'));
    await editAndSave(projectUri);
    await diagnosticOf(dataUri, 'data-ragged');
    await fs.rm(projectUri.fsPath);
    await waitFor(() => ours(projectUri).length === 0 && ours(dataUri).length === 0, 'the diagnostics of the deleted project to clear', 60_000);
  });
});

describe('the data check before work', () => {
  it('Open Data Panel reuses the diagnostics\' check of an open, unchanged project instead of reading the data again', async () => {
    const ext = await activatedExtension();
    const logFile = vscode.Uri.joinPath(ext.exports.logUri, 'ML Loop.log');
    const projectUri = vscode.Uri.joinPath(workspaceRoot(), 'mlloop.json');
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(projectUri));
    await diagnosticOf(projectUri, 'constant-column');
    const reused = `${projectUri.fsPath}: the data is unchanged since its last check`;
    const before = (await fs.readFile(logFile.fsPath, 'utf8')).split(reused).length;
    await vscode.commands.executeCommand('mlLoop.openDataPanel');
    const after = (await fs.readFile(logFile.fsPath, 'utf8')).split(reused).length;
    assert.equal(after, before + 1, 'the log does not say the check was reused');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});
