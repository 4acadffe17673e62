// Panels after a window reload: VS Code hands each restored webview tab to the serializer of its view
// type with the state its webview kept ({panel: <restore key>, ui}); the serializer reopens the panel
// through its show path, which adopts that tab. Here the tests make the tab themselves and call what
// the serializer calls (a real reload is in the e2e project-file spec).
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { RESTORABLE_VIEW_TYPES } from '../../src/extension/webviewHost/serializers';
import { activatedExtension, channelText, waitFor, workspaceRoot } from './helpers';

const dataTabs = () =>
  vscode.window.tabGroups.all
    .flatMap((g) => g.tabs)
    .filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('mlLoop.data'));

describe('panels restored after a window reload', function () {
  this.timeout(120_000);

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('activates the extension for every restorable view type', async () => {
    const { extensionPath } = await activatedExtension();
    const events = (
      JSON.parse(readFileSync(join(extensionPath, 'package.json'), 'utf8')) as { activationEvents: string[] }
    ).activationEvents;
    assert.deepEqual(
      RESTORABLE_VIEW_TYPES.map((v) => `onWebviewPanel:${v}`).filter((e) => !events.includes(e)),
      [],
    );
    assert.equal(RESTORABLE_VIEW_TYPES.length, 6);
  });

  it('a restored Data tab is adopted by the Data panel of its project, which profiles again', async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const { exports } = await activatedExtension();
    const projectFile = vscode.Uri.joinPath(workspaceRoot(), 'mlloop.json').fsPath;
    const tab = vscode.window.createWebviewPanel('mlLoop.data', 'Data (restored)', vscode.ViewColumn.One, {});
    let disposed = false;
    tab.onDidDispose(() => (disposed = true));
    await exports.restorePanel(tab, { panel: { projectFile }, ui: { scrollY: 0 } });
    const probe = await waitFor(
      () =>
        exports
          .panels()
          .find(
            (p) =>
              p.viewType === 'mlLoop.data' && (p.snapshot() as { state: { status: string } }).state.status === 'loaded',
          ),
      'the adopted Data panel profiled',
      60_000,
    );
    assert.equal(disposed, false, 'the restored tab is kept');
    assert.equal(dataTabs().length, 1, 'no second tab was opened');
    assert.equal(tab.title, probe.title);
    assert.ok(tab.webview.options.enableScripts, 'the adopted tab runs the panel bundle');
  });

  it('a tab whose project is gone, or that kept no key, is closed with a line in the log', async () => {
    const { exports } = await activatedExtension();
    for (const state of [{ panel: { projectFile: '/nowhere/mlloop.json' } }, undefined, { ui: {} }]) {
      const tab = vscode.window.createWebviewPanel('mlLoop.data', 'Data (stale)', vscode.ViewColumn.Two, {});
      let disposed = false;
      tab.onDidDispose(() => (disposed = true));
      await exports.restorePanel(tab, state);
      assert.equal(disposed, true, JSON.stringify(state));
    }
    assert.match(
      await channelText(),
      /not restoring the mlLoop\.data panel "Data \(stale\)": no project file \/nowhere\/mlloop\.json/,
    );
  });
});
