// The project file and its data in a real VS Code, as a person meets them: a typo in mlloop.json
// shows in the Problems panel at its line and goes away when fixed; the Data panel draws the
// histograms and the image grid and comes back after a window reload; a broken data file stops the Data panel with a notification
// whose action opens the data file at the bad line, and Train All is refused the same way.
// Runs on a copy of the digits sample.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_FOLDER, startDemo } from '../runners/demo.mjs';
import { TextEditor } from './pages/editor';
import { ProblemsPanel } from './pages/problems';
import { openSession, type Session } from './session';

const folder = mkdtempSync(join(tmpdir(), 'mlloop-e2e-digits-'));
cpSync(DEFAULT_FOLDER, folder, { recursive: true, filter: (src) => !src.includes('.mlloop') });
const specText = readFileSync(join(folder, 'mlloop.json'), 'utf8');
const dataFile = join(folder, 'data', 'digits.csv');

/** 1-based line and column of the first `needle` in `text`. */
function positionOf(text: string, needle: string): { line: number; column: number } {
  const before = text.slice(0, text.indexOf(needle)).split('\n');
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

describe('the project file and its data in a real VS Code', () => {
  let s: Session;
  let editor: TextEditor;
  let problems: ProblemsPanel;
  const target = positionOf(specText, '"digit"');

  before(async () => {
    const demo = await startDemo({ folder });
    s = await openSession(demo, demo.openUrl, 'project-file');
    editor = new TextEditor(s.page);
    problems = new ProblemsPanel(s.page);
    await s.workbench.waitReady();
  });

  /** The cursor just inside the closing quote of the target value: `"digit|",`. */
  async function cursorAtEndOfTarget(): Promise<void> {
    await editor.focus('mlloop.json');
    await editor.goToLine(target.line);
    await editor.press('End');
    await editor.press('ArrowLeft', 2);
  }
  after(async () => {
    await s?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  test('a wrong target typed into mlloop.json shows in the Problems panel at its line', async () => {
    const wb = s.workbench;
    await editor.quickOpen('mlloop.json');
    await cursorAtEndOfTarget();
    await editor.type('z'); // "digit" → "digitz"
    await editor.save();
    await problems.open();
    const row = await problems.waitFor('no column "digitz"');
    assert.deepEqual({ line: row.line, column: row.column }, target, row.text);
    assert.match(row.text, /ML Loop/);
    assert.match(row.text, /data-unknown-column/);
    await wb.screenshot('problems-wrong-target');
  });

  test('fixing the target clears the Problems entry', async () => {
    const wb = s.workbench;
    await cursorAtEndOfTarget();
    await editor.press('Backspace');
    await editor.save();
    await problems.waitGone('no column "digitz"');
    assert.deepEqual(
      (await problems.texts()).filter((t) => /error/i.test(t) && /ML Loop/.test(t)),
      [],
    );
    await wb.screenshot('problems-fixed');
  });

  test('the Data panel shows the histograms and the image grid', async () => {
    const wb = s.workbench;
    await problems.close(); // the whole editor area for the panel
    await wb.palette.run('ML Loop: Open Data Panel');
    const view = wb.webview();
    await view.waitDrawn(120_000);
    const cards = await view.count('.column-card');
    assert.ok(cards >= 64, `${cards} column cards`);
    assert.ok((await view.paintedPixels('.column-card canvas')) > 50, 'the first histogram is blank');
    assert.ok((await view.paintedPixels('.balance canvas')) > 50, 'the class balance chart is blank');
    const samples = await view.count('canvas.sample');
    assert.ok(samples >= 10, `${samples} sample images`);
    assert.ok((await view.paintedPixels('canvas.sample')) > 0, 'the first sample image is blank');
    await wb.screenshot('data-panel-balance-images');
    await view.frame.locator('.column-card').nth(20).scrollIntoViewIfNeeded();
    await wb.screenshot('data-panel-histograms');
  });

  test('after a window reload the Data panel comes back in its tab, drawn again', async () => {
    const wb = s.workbench;
    assert.ok(
      (await wb.editorTabs()).some((t) => t.startsWith('Data: ')),
      'the Data panel is open before the reload',
    );
    // As a person reloads: the command shuts the window down properly, which stores the webviews' state.
    // (A browser reload, page.reload(), may unload before the state is stored: the tab then comes back empty and closes.)
    const reloaded = s.page.waitForEvent('load', { timeout: 120_000 });
    await wb.palette.run('Developer: Reload Window');
    await reloaded;
    await wb.waitReady(120_000);
    const tabs = await s.page
      .locator('.part.editor .tabs-container .tab .label-name')
      .filter({ hasText: /^Data: / })
      .count();
    assert.equal(tabs, 1, `editor tabs after the reload: ${(await wb.editorTabs()).join(', ')}`);
    await s.page.locator('.part.editor .tabs-container .tab', { hasText: /Data: / }).click();
    const view = wb.webview();
    await view.waitDrawn(120_000).catch(async (e) => {
      await wb.screenshot('data-panel-after-reload-not-drawn');
      throw e;
    });
    assert.ok((await view.count('.column-card')) >= 64, 'the restored panel profiled the data again');
    assert.ok((await view.paintedPixels('.balance canvas')) > 50, 'the class balance chart is blank after the reload');
    await wb.screenshot('data-panel-after-reload');
    // VS Code loads a restored background tab's text when the tab is shown: until then the project
    // file is not an open document, and only open project files are checked (as language servers do).
    await s.page.locator('.part.editor .tabs-container .tab', { hasText: 'mlloop.json' }).click();
    await editor.focus('mlloop.json');
  });

  test('a ragged row stops the Data panel with a notification that opens the data file at that line', async () => {
    const wb = s.workbench;
    const lines = readFileSync(dataFile, 'utf8').split('\n');
    lines[11] = lines[11].replace(/,[^,\r]*(\r?)$/, '$1'); // line 12 loses its last field (keeps its CRLF)
    writeFileSync(dataFile, lines.join('\n'));
    await wb.palette.run('ML Loop: Open Data Panel');
    const message = await wb.notifications.waitFor(/digits\.csv:12/);
    assert.match(message, /ML Loop: data\/digits\.csv:12: This row has 64 fields; the header has 65/);
    await wb.screenshot('notification-ragged-row');
    const toast = s.page.locator('.notifications-toasts .notification-toast', { hasText: 'digits.csv:12' }).first();
    await toast.locator('.monaco-button', { hasText: 'Open Data File' }).click();
    await s.page.locator('.part.editor .tab.active .label-name', { hasText: 'digits.csv' }).waitFor();
    assert.equal((await editor.cursor()).line, 12);
    // The data file's own entry in the Problems panel, at the same line.
    await problems.open();
    const row = await problems.waitFor(/fields/);
    assert.equal(row.line, 12, row.text);
    await wb.screenshot('data-file-at-ragged-row');
  });

  test('with the ragged row still there, Train All is refused with the same notification and records no run', async () => {
    const wb = s.workbench;
    await wb.notifications.clearAll();
    await s.page.locator('.notifications-toasts .notification-toast').first().waitFor({ state: 'detached' });
    await wb.palette.run('ML Loop: Train All Experiments');
    const message = await wb.notifications.waitFor(/digits\.csv:12/);
    assert.match(message, /ML Loop: data\/digits\.csv:12: This row has 64 fields/);
    const runsDir = join(folder, '.mlloop', 'runs');
    assert.deepEqual(existsSync(runsDir) ? readdirSync(runsDir) : [], []);
    await wb.screenshot('train-refused');
  });
});
