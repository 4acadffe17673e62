// A new user in an empty folder: the Experiments view offers "Create ML Project", which copies a
// sample in, after which the view lists its experiments.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root, startCodeServer } from '../runners/code-server.mjs';
import { openSession, type Session } from './session';

describe('Create ML Project from the welcome content', () => {
  let s: Session;
  const folder = mkdtempSync(join(tmpdir(), 'mlloop-empty-'));

  before(async () => {
    const server = await startCodeServer({ folder });
    s = await openSession(server, server.workbenchUrl({ devPath: root }), 'create');
  });
  after(async () => {
    await s?.close();
  });

  test('an empty folder shows the welcome content with a Create ML Project button', async () => {
    const wb = s.workbench;
    await wb.waitReady();
    await wb.sidebar.open('ML Loop');
    assert.match(await wb.sidebar.welcomeText('Experiments'), /No mlloop\.json in this workspace/);
    await wb.screenshot('welcome');
  });

  test('the button scaffolds the chosen sample and the view lists its experiments', async () => {
    const wb = s.workbench;
    await s.page
      .locator('.part.sidebar .welcome-view-content a.monaco-button', { hasText: 'Create ML Project' })
      .click();
    await wb.palette.pick('iris');
    await s.page.locator('.part.editor .tab.active .label-name', { hasText: 'mlloop.json' }).waitFor();
    assert.ok(existsSync(join(folder, 'mlloop.json')));
    const labels = await wb.sidebar.treeLabels('Experiments');
    assert.ok(labels.length >= 2, `rows: ${labels}`);
    await wb.screenshot('created');
  });
});
