import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activatedExtension, waitFor } from './helpers';

function webviewTabs(): vscode.Tab[] {
  return vscode.window.tabGroups.all
    .flatMap((g) => g.tabs)
    .filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('mlLoop.data'));
}

describe('Data panel', () => {
  it('"Open Data Panel" opens one panel per project and reveals it when run again', async () => {
    await activatedExtension();
    await vscode.commands.executeCommand('mlLoop.openDataPanel');
    const tabs = await waitFor(() => webviewTabs().length > 0 && webviewTabs(), 'the Data panel tab');
    assert.equal(tabs.length, 1);
    assert.match(tabs[0].label, /^Data: digits$/);
    await vscode.commands.executeCommand('mlLoop.openDataPanel');
    assert.equal(webviewTabs().length, 1);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});
