import * as assert from 'node:assert/strict';
import * as os from 'node:os';
import * as path from 'node:path';
import * as fs from 'node:fs/promises';
import { parse as parseJsonc } from 'jsonc-parser';
import * as vscode from 'vscode';
import { activatedExtension, channelText, waitFor } from './helpers';

describe('commands', () => {
  it('registers exactly the commands the manifest contributes', async () => {
    const ext = await activatedExtension();
    const declared = (ext.packageJSON.contributes.commands as { command: string }[]).map((c) => c.command).sort();
    const registered = (await vscode.commands.getCommands(true)).filter((c) => c.startsWith('mlLoop.')).sort();
    // VS Code adds `<view id>.focus`-style commands for each contributed view; those are not ours.
    const viewIds = Object.values(ext.packageJSON.contributes.views as Record<string, { id: string }[]>).flat().map((v) => v.id);
    const ours = registered.filter((c) => !viewIds.some((id) => c === id || c.startsWith(`${id}.`)));
    assert.deepEqual(ours, declared);
  });

  it('"Open Project File" opens mlloop.json as JSON with comments', async () => {
    await vscode.commands.executeCommand('mlLoop.openProjectFile');
    const editor = await waitFor(() => vscode.window.activeTextEditor?.document.fileName.endsWith('mlloop.json') && vscode.window.activeTextEditor, 'mlloop.json editor');
    assert.equal(editor.document.languageId, 'jsonc');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('"Create ML Project" scaffolds the iris sample into an empty folder', async () => {
    const target = await fs.mkdtemp(path.join(os.tmpdir(), 'mlloop-create-'));
    try {
      const created = await vscode.commands.executeCommand<vscode.Uri>('mlLoop.createProject', 'iris', vscode.Uri.file(target));
      assert.equal(created?.fsPath, path.join(target, 'mlloop.json'), await channelText());
      const text = await fs.readFile(path.join(target, 'mlloop.json'), 'utf8');
      const spec = parseJsonc(text);
      // The sample's repository-relative $schema is dropped (jsonValidation supplies the schema).
      assert.equal(spec.$schema, undefined);
      assert.equal(spec.name, 'iris');
      const dataFile = path.join(target, spec.data.path);
      assert.ok((await fs.stat(dataFile)).size > 0, `${dataFile} was not copied`);
      // A second time it says so before asking for a sample, and offers to open the existing file.
      const info = vscode.window.showInformationMessage;
      const said: string[] = [];
      (vscode.window as { showInformationMessage: unknown }).showInformationMessage = async (message: string, ...items: string[]) => (said.push(`${message} [${items.join('|')}]`), undefined);
      try {
        const again = await vscode.commands.executeCommand('mlLoop.createProject', undefined, vscode.Uri.file(target));
        assert.equal(again, undefined);
      } finally {
        (vscode.window as { showInformationMessage: unknown }).showInformationMessage = info;
      }
      assert.ok(said.some((m) => /mlloop\.json already exists: this folder is an ML Loop project\. \[Open mlloop\.json\]/.test(m)), said.join('\n'));
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await fs.rm(target, { recursive: true, force: true });
    }
  });
});
