// Script experiments in a real VS Code, as a person meets them: the ▶ Train CodeLens of the
// digits sample's `torch-mlp` (train_torch.py, PyTorch) trains it and the Training panel draws its
// curves; in an untrusted workspace (Workspace Trust on, "No, I don't trust the authors") the same
// lens is refused with an explanation and a Manage Workspace Trust button, and no run is made,
// while a built-in experiment still trains.
// Python: Debian's /usr/bin/python3 (torch, onnx) through the mlLoop.pythonPath setting.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { DEFAULT_FOLDER, startDemo } from '../runners/demo.mjs';
import { TextEditor } from './pages/editor';
import { editorLogLines, openSession, recordFigure, type Session } from './session';

const PYTHON = '/usr/bin/python3';
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch, onnx'], { stdio: 'ignore' }).status === 0;

function copyOfDigits(): string {
  const folder = mkdtempSync(join(tmpdir(), 'mlloop-e2e-scripts-'));
  cpSync(DEFAULT_FOLDER, folder, {
    recursive: true,
    filter: (src) => !src.includes('.mlloop') && !src.includes('.vscode'),
  });
  return folder;
}

/** Error and warning lines of the extension host's logs (ours and VS Code's), for a failure message. */
function hostLogProblems(userDataDir: string): string {
  return (
    editorLogLines(userDataDir, ['ML Loop.log', 'remoteexthost.log'], /\[(error|warning)\]/)
      .slice(-20)
      .join('\n') || '(none)'
  );
}

/**
 * The ▶ Train lens of an experiment: the lens line just above its key in mlloop.json. Known gap:
 * in a clean-clone CI run the lenses of the Restricted Mode window once never appeared (the
 * editor was clean and the extension active); if none show within 30 s the file is reopened
 * once, which asks the providers again, and the wait is logged.
 */
async function trainLensOf(page: Page, experiment: string, userDataDir: string, editor: TextEditor): Promise<Locator> {
  const lenses = page.locator('.part.editor .monaco-editor .codelens-decoration a', { hasText: '▶ Train' });
  const shown = await lenses
    .first()
    .waitFor({ timeout: 30_000 })
    .then(
      () => true,
      () => false,
    );
  if (!shown) {
    console.log(
      `MLLOOP_NOTE no ▶ Train lens within 30 s; reopening mlloop.json. Host log problems:\n${hostLogProblems(userDataDir)}`,
    );
    await page.keyboard.press('Escape');
    await editor.quickOpen('mlloop.json');
    await lenses
      .first()
      .waitFor({ timeout: 60_000 })
      .catch(async (e: Error) => {
        // Say what the editor showed: an edited (dirty) mlloop.json has other lenses or none.
        const dirty = await page.locator('.part.editor .tab.active.dirty').count();
        const top = await page.locator('.part.editor .monaco-editor .view-line').allInnerTexts();
        throw new Error(
          `${e.message}\nactive tab dirty: ${dirty > 0}; visible lines:\n${top.slice(0, 12).join('\n')}\nhost log problems:\n${hostLogProblems(userDataDir)}`,
        );
      });
  }
  const key = page.locator('.part.editor .monaco-editor .view-line', { hasText: `"${experiment}"` }).first();
  // The experiment's own lens sits right above its line. Lenses render a few at a time: until that
  // one shows, the nearest lens above belongs to the experiment before (a CI run once trained gbdt).
  const deadline = Date.now() + 30_000;
  for (;;) {
    const keyBox = (await key.boundingBox())!;
    let best: { lens: Locator; gap: number } | undefined;
    for (const lens of await lenses.all()) {
      const gap = keyBox.y - ((await lens.boundingBox())?.y ?? -1e9);
      if (gap > 0 && (!best || gap < best.gap)) best = { lens, gap };
    }
    if (best && best.gap < 2 * keyBox.height) return best.lens;
    if (Date.now() > deadline) throw new Error(`no ▶ Train lens right above "${experiment}"`);
    await page.waitForTimeout(250);
  }
}

/** The Training panel's root once its run reached `status`. */
async function trainingPanel(page: Page, status: string, timeout: number): Promise<Locator> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const frames = page.locator('iframe.webview.ready');
    for (let i = 0; i < (await frames.count()); i++) {
      const root = frames
        .nth(i)
        .contentFrame()
        .locator('iframe#active-frame')
        .contentFrame()
        .locator(`#root[data-panel="training"][data-status="${status}"]`);
      if ((await root.count()) > 0) return root;
    }
    if (Date.now() > deadline) throw new Error(`no Training panel with a ${status} run within ${timeout} ms`);
    await page.waitForTimeout(500);
  }
}

/**
 * Opens mlloop.json and puts the line of `"<experiment>"` in view with Go to Line (nothing is typed
 * into the editor: keys typed while the find widget is still opening would land in the JSON and
 * break it, and with it every lens).
 */
async function scrollTo(editor: TextEditor, folder: string, experiment: string): Promise<void> {
  const lines = readFileSync(join(folder, 'mlloop.json'), 'utf8').split('\n');
  const line = lines.findIndex((l) => l.includes(`"${experiment}"`)) + 1;
  assert.ok(line > 0, `no "${experiment}" in mlloop.json`);
  await editor.quickOpen('mlloop.json');
  await editor.goToLine(line);
}

describe('script experiments in a real VS Code', { skip: hasTorch ? false : `${PYTHON} has no torch/onnx` }, () => {
  const sessions: Session[] = [];
  const folders: string[] = [];
  after(async () => {
    for (const s of sessions) await s.close();
    for (const f of folders) rmSync(f, { recursive: true, force: true });
  });

  test('▶ Train on torch-mlp runs train_torch.py and the Training panel shows its curves', async () => {
    const folder = copyOfDigits();
    folders.push(folder);
    const demo = await startDemo({ folder, settings: { 'mlLoop.pythonPath': PYTHON } });
    const s = await openSession(demo, demo.openUrl, 'scripts-train');
    sessions.push(s);
    await s.workbench.waitReady();
    const editor = new TextEditor(s.page);
    await scrollTo(editor, folder, 'torch-mlp');
    const t0 = Date.now();
    await (await trainLensOf(s.page, 'torch-mlp', demo.userDataDir, editor)).click();
    const root = await trainingPanel(s.page, 'completed', 240_000);
    const trainSeconds = (Date.now() - t0) / 1000;
    // 30 epochs logged by the script, on both charts (train loss, dev loss, dev accuracy).
    assert.equal(await root.getAttribute('data-last-step'), '30');
    const points = JSON.parse((await root.getAttribute('data-chart-points')) ?? '[]') as number[];
    assert.ok(points.length >= 3 && points.every((n) => n === 30), JSON.stringify(points));
    // The metrics table holds ML Loop's own evaluation of model.onnx.
    const devRow = (await root.locator('tr[data-split="dev"]').innerText()).trim();
    assert.match(devRow, /dev\s+(0\.9\d|9\d(\.\d+)?%)/, devRow);
    await s.page.waitForTimeout(500);
    await s.workbench.screenshot('torch-mlp-curves');
    const runs = readdirSync(join(folder, '.mlloop', 'runs'));
    assert.equal(runs.length, 1);
    assert.ok(existsSync(join(folder, '.mlloop', 'runs', runs[0], 'model.onnx')));
    recordFigure('scripts-e2e-train', { trainSeconds, devRow });
  });

  test('in an untrusted workspace ▶ Train on a script experiment is refused with Manage Workspace Trust', async () => {
    const folder = copyOfDigits();
    folders.push(folder);
    const demo = await startDemo({ folder, workspaceTrust: true, settings: { 'mlLoop.pythonPath': PYTHON } });
    const s = await openSession(demo, demo.openUrl, 'scripts-untrusted');
    sessions.push(s);
    // VS Code asks whether to trust the folder's authors: answer No (Restricted Mode).
    const no = s.page.locator('.monaco-dialog-box .monaco-button', { hasText: /No, I don.t trust the authors/ });
    await no.waitFor({ timeout: 60_000 });
    await no.click();
    await s.workbench.waitReady();
    const editor = new TextEditor(s.page);
    await scrollTo(editor, folder, 'torch-mlp');
    await s.page.waitForTimeout(3000);
    await s.workbench.screenshot('restricted-mode');
    await (await trainLensOf(s.page, 'torch-mlp', demo.userDataDir, editor)).click();
    const message = await s.workbench.notifications.waitFor('is not trusted', 30_000);
    assert.match(message, /"torch-mlp" runs a command from this workspace, and the workspace is not trusted/);
    const button = s.page.locator('.notifications-toasts .notification-toast .monaco-button', {
      hasText: 'Manage Workspace Trust',
    });
    assert.equal(await button.count(), 1);
    await s.workbench.screenshot('untrusted-refusal');
    assert.equal(
      existsSync(join(folder, '.mlloop', 'runs')) ? readdirSync(join(folder, '.mlloop', 'runs')).length : 0,
      0,
      'no run was made',
    );
    await scrollTo(editor, folder, 'softmax');
    // Built-in training runs no workspace code: it still works in Restricted Mode.
    await (await trainLensOf(s.page, 'softmax', demo.userDataDir, editor)).click();
    const root = await trainingPanel(s.page, 'completed', 120_000);
    assert.match(await root.innerText(), /softmax/);
    assert.equal(readdirSync(join(folder, '.mlloop', 'runs')).length, 1);
    await s.workbench.screenshot('untrusted-builtin-trains');
    await s.workbench.notifications.clearAll();
    // Only mlloop.json open again (the Training panel's group would hold a second active tab).
    await s.workbench.palette.run('View: Close All Editors');
    await scrollTo(editor, folder, 'torch-mlp');
    await (await trainLensOf(s.page, 'torch-mlp', demo.userDataDir, editor)).click();
    await s.workbench.notifications.waitFor('is not trusted', 30_000);
    await s.page
      .locator('.notifications-toasts .notification-toast .monaco-button', { hasText: 'Manage Workspace Trust' })
      .first()
      .click();
    // The button opens VS Code's Workspace Trust editor.
    await s.page.locator('.part.editor .workspace-trust-editor').waitFor({ timeout: 30_000 });
    await s.workbench.screenshot('manage-workspace-trust');
  });
});
