// An image project in a real VS Code, the whole first loop on a fresh copy of the fashion sample
// (Fashion-MNIST, 28×28 PNGs in class folders): the Data panel with the image audit, Train on the
// script experiment `cnn` (train_cnn.py, PyTorch, through mlLoop.pythonPath), Diagnose Run, Error
// Analysis with the misclassified images and the detail of one (full size, with the closest
// training images of each class), three images tagged with the keyboard, the tag table, and the
// likely label errors from the model's dev predictions, with their thumbnails.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTags } from '../../src/core/analysis/tags';
import { root } from '../runners/code-server.mjs';
import { startDemo } from '../runners/demo.mjs';
import { paintedPixels, waitDrawn, webviewRoot } from './pages/diagnose';
import { ErrorAnalysisPage } from './pages/errorAnalysis';
import { ExperimentsView, PanelFrame } from './pages/experiments';
import { openSession, recordFigure, type Session } from './session';

const PYTHON = '/usr/bin/python3';
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch, onnx'], { stdio: 'ignore' }).status === 0;

describe(
  'an image project (fashion) in a real VS Code',
  { skip: hasTorch ? false : `${PYTHON} has no torch/onnx` },
  () => {
    const folder = mkdtempSync(join(tmpdir(), 'mlloop-e2e-images-'));
    let s: Session;
    let runId = '';
    const ea = () => new ErrorAnalysisPage(s.page);
    const tree = () => new ExperimentsView(s.page);

    before(async () => {
      // A fresh copy: loading images writes a decoded cache into the project's .mlloop.
      cpSync(join(root, 'examples', 'fashion'), folder, { recursive: true, filter: (src) => !src.includes('.mlloop') });
      const demo = await startDemo({ folder, settings: { 'mlLoop.pythonPath': PYTHON } });
      s = await openSession(demo, demo.openUrl, 'images');
      await s.workbench.waitReady();
      await s.workbench.sidebar.open('ML Loop');
    });
    after(async () => {
      await s?.close();
      rmSync(folder, { recursive: true, force: true });
    });
    afterEach(async (t) => {
      await s?.workbench.screenshot(`end-${t.name.slice(0, 40).replace(/\W+/g, '-')}`).catch(() => undefined);
    });

    test('the Data panel audits the images: findings, examples of each class, class balance', async () => {
      await s.workbench.palette.run('ML Loop: Open Data Panel');
      const view = s.workbench.webview();
      await view.waitDrawn(120_000);
      // Ten classes of Fashion-MNIST, each with its row of examples drawn.
      assert.equal((await view.count('.images .image-grid canvas.sample')) >= 10, true, 'examples per class');
      assert.ok((await view.paintedPixels('.images canvas.sample')) > 50, 'the first example is blank');
      assert.ok((await view.paintedPixels('.balance canvas')) > 50, 'the class balance is blank');
      assert.match(await view.text('header h1'), /images/);
      await s.workbench.screenshot('fashion-data-panel');
    });

    test('Train on the script experiment cnn: train_cnn.py runs and ML Loop evaluates its model', async () => {
      const t0 = Date.now();
      await tree().experimentAction('cnn', 'Train Experiment');
      const training = new PanelFrame(s.page, 'training');
      const done = await training.waitFor('[data-status="completed"]', 240_000);
      const devRow = (await done.locator('tr[data-split="dev"]').innerText()).trim();
      assert.match(devRow, /dev\s+(0\.[6-9]\d|[6-9]\d(\.\d+)?%)/, devRow);
      runId = readdirSync(join(folder, '.mlloop', 'runs'))[0];
      recordFigure('images-e2e-train', { trainSeconds: (Date.now() - t0) / 1000, devRow });
      await s.page.waitForTimeout(500);
      await s.workbench.screenshot('fashion-training');
    });

    test('Diagnose Run: the verdict, per-class metrics and the confusion matrix of an image run', async () => {
      const label = `cnn ${runId.slice(-6)}`;
      await tree().runRow(label).waitFor({ timeout: 60_000 });
      await tree().contextAction([label], 'Diagnose Run', (ms) => webviewRoot(s.page, 'diagnostics', ms));
      const { frame, root: diag } = await webviewRoot(s.page, 'diagnostics');
      await waitDrawn(diag);
      assert.match(await frame.locator('.verdict').first().innerText(), /dev error/);
      assert.equal(await frame.locator('table.heatmap tbody tr').count(), 10, 'a confusion row per class');
      // Advice for a network on pixels, not for feature columns.
      const advice = await frame.locator('.recommendations li').allInnerTexts();
      assert.ok(advice.length >= 1, 'no recommendations');
      assert.ok(!advice.some((a) => /feature/i.test(a)), advice.join(' | '));
      assert.ok((await paintedPixels(frame.locator('.chart.bars canvas'))) > 500, 'the bias/variance bars are blank');
      await s.workbench.screenshot('fashion-diagnostics');
      await frame.locator('table.heatmap').scrollIntoViewIfNeeded();
      await s.workbench.screenshot('fashion-diagnostics-confusion');
    });

    test('Error Analysis: the misclassified images, the detail of one with its closest training images, three tagged with the keyboard', async () => {
      await ea().openFromTree(`cnn ${runId.slice(-6)}`, runId);
      await s.page.keyboard.press('Control+B'); // hide the sidebar: room for the list and the detail
      // Frames are found by position among the open webviews: hiding the sidebar's views moved this one.
      const { frame } = await ea().open(runId);
      const errors = Number(await frame.locator('[data-stat="errors"]').innerText());
      assert.ok(errors >= 3, `${errors} errors`);
      const deadline = Date.now() + 30_000;
      while ((await ea().paintedImages(frame)) < Math.min(errors, 5)) {
        if (Date.now() > deadline) throw new Error('the images were not drawn');
        await s.page.waitForTimeout(200);
      }
      // The first error (highest loss) in the detail: large, crisp, its classes and its neighbours.
      await frame.locator('.scroller .row[data-pos="0"]').click();
      const detail = frame.locator('[data-role="detail"]');
      const big = detail.locator('canvas[data-role="detail-image"]');
      await big.waitFor({ timeout: 20_000 });
      const box = (await big.boundingBox())!;
      assert.ok(box.width >= 28 * 6, `the detail image is ${box.width}px wide`);
      assert.ok((await paintedPixels(big)) > 50, 'the detail image is blank');
      // Drawn as the file is: Fashion-MNIST's black background stays opaque black (a picture drawn
      // stretched in the theme's ink would leave it transparent and hide how dark an image is).
      const opaqueBlack = await big.evaluate((c: HTMLCanvasElement) => {
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i + 3] === 255 && d[i] + d[i + 1] + d[i + 2] < 30) n++;
        return n;
      });
      assert.ok(opaqueBlack > 50, `${opaqueBlack} opaque black pixels in the detail image`);
      assert.equal(await big.evaluate((c) => getComputedStyle(c).imageRendering), 'pixelated');
      const truth = await detail.locator('[data-role="detail-truth"]').innerText();
      const predicted = await detail.locator('[data-role="detail-predicted"]').innerText();
      assert.notEqual(truth, predicted, 'an error is shown first');
      const classes = detail.locator('[data-role="neighbours"] .nb-class');
      await classes.nth(9).waitFor({ timeout: 30_000 });
      assert.equal(await classes.count(), 10, 'the closest training images of each class');
      // The true class first, then the predicted one, each with three painted images.
      assert.equal(await classes.nth(0).getAttribute('data-class'), truth);
      assert.equal(await classes.nth(1).getAttribute('data-class'), predicted);
      assert.equal(await classes.nth(0).locator('canvas.nb-image').count(), 3);
      assert.ok((await paintedPixels(classes.nth(1).locator('canvas.nb-image').first())) > 50);
      assert.match(await detail.locator('[data-role="detail-file"]').innerText(), /^images[/\\]/);
      await s.workbench.screenshot('fashion-error-detail');
      // Keyboard: the list has the focus; Shift+↓ twice selects three rows, Enter goes to the tag box.
      await frame.locator('.scroller').focus();
      await s.page.keyboard.press('Home');
      await s.page.keyboard.press('Shift+ArrowDown');
      await s.page.keyboard.press('Shift+ArrowDown');
      await s.page.keyboard.press('Enter');
      await s.page.keyboard.type('ambiguous shape');
      await s.page.keyboard.press('Enter');
      const row = ea().tagRow(frame, 'ambiguous shape');
      await row.waitFor({ timeout: 20_000 });
      assert.equal(await row.locator('[data-col="errors"]').innerText(), '3');
      assert.equal(await frame.locator('.scroller .row .chip', { hasText: 'ambiguous shape' }).count(), 3);
      const tags = await readTags(folder);
      assert.equal(Object.values(tags).filter((t) => t.includes('ambiguous shape')).length, 3, 'tags.json');
      // The detail followed the cursor to the third row.
      await s.page.waitForTimeout(500);
      await s.workbench.screenshot('fashion-errors-tagged');
    });

    test("likely label errors from the model's dev predictions, each with its image, given and suggested class", async () => {
      const { frame } = await ea().open(runId);
      const section = frame.locator('[data-role="label-errors"]');
      await section.locator('[data-action="find-label-errors"]').click();
      await section.locator('p', { hasText: /flagged \(the model’s dev predictions/ }).waitFor({ timeout: 60_000 });
      const flagged = Number(/^(\d+) flagged/.exec(await section.locator('p.muted').first().innerText())![1]);
      if (flagged > 0) {
        const first = section.locator('canvas[data-image-of]').first();
        await first.waitFor();
        for (const deadline = Date.now() + 20_000; (await paintedPixels(first)) === 0;) {
          if (Date.now() > deadline) throw new Error('the flagged image was not drawn');
          await s.page.waitForTimeout(200);
        }
        const cells = await section.locator('tr').nth(1).locator('td').allInnerTexts();
        assert.notEqual(cells[3], cells[4], `given and suggested differ: ${cells.join(' | ')}`);
      }
      recordFigure('images-e2e-label-errors', { flagged });
      await section.scrollIntoViewIfNeeded();
      await s.workbench.screenshot('fashion-label-errors');
    });
  },
);
