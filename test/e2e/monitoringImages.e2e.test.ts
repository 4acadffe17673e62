// Monitoring an image model in a real VS Code, on a copy of the fashion sample: deploy its cnn run with
// request logging; send test pictures as PNG bodies (no drift); send darkened copies (a darker room):
// drift on brightness and on the embedding, the alert raised once; feedback labels give live accuracy;
// the panel shows the window's pictures beside training ones and the worst requests; Send to Error
// Analysis lists the darkened production pictures under Production. Screenshots.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadSplitDataset } from '../../src/core/data/dataset';
import type { SplitDataset } from '../../src/core/data/types';
import { readReviewQueue } from '../../src/core/update/reviewQueue';
import { startDemo } from '../runners/demo.mjs';
import { ErrorAnalysisPage } from './pages/errorAnalysis';
import { Notifications } from './pages/notifications';
import { Sidebar } from './pages/sidebar';
import { settled, Webview } from './pages/webview';
import { openSession, type Session } from './session';

const PYTHON = '/usr/bin/python3';
const hasTorch =
  spawnSync(PYTHON, ['-c', 'import torch, onnx, numpy'], { stdio: 'ignore', env: { ...process.env } }).status === 0;
const root = join(__dirname, '..', '..');
const folder = mkdtempSync(join(tmpdir(), 'mlloop-e2e-monitoring-images-'));
cpSync(join(root, 'examples', 'fashion'), folder, { recursive: true, filter: (src) => !src.includes('.mlloop') });
/** Pictures per window (the panel's window is set to it: the darkened ones fill it). */
const WINDOW = 100;

async function sendPng(url: string, id: string, png: Buffer): Promise<string> {
  const res = await fetch(`${url}/v2/models/fashion/predict`, {
    method: 'POST',
    headers: { 'Content-Type': 'image/png', 'X-Request-Id': id },
    body: new Uint8Array(png),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as { label: string }).label;
}

describe(
  'monitoring an image model in a real VS Code',
  { skip: !hasTorch && 'needs /usr/bin/python3 with torch' },
  () => {
    let s: Session;
    let toasts: Notifications;
    let panel: Webview;
    let data: SplitDataset;
    let runId = '';
    let url = '';
    // The test split lists its files class by class: evenly spaced picks keep the classes as balanced as in
    // training (offset 1: the darkened pictures are other test pictures than the plain ones).
    const testFile = (i: number, offset = 0) =>
      (Math.floor((i * data.test.features.n) / WINDOW) + offset) % data.test.features.n;
    const test_ = (i: number, offset = 0) => readFileSync(join(folder, data.test.images!.files[testFile(i, offset)]));

    before(async () => {
      runId = JSON.parse(
        execFileSync(process.execPath, [join(root, 'dist/cli.js'), 'train', folder, '--experiment', 'cnn', '--json'], {
          encoding: 'utf8',
          env: { ...process.env, MLLOOP_PYTHON: PYTHON },
        }),
      ).runId as string;
      data = await loadSplitDataset(folder);
      const demo = await startDemo({
        folder,
        settings: {
          'mlLoop.deploy.logRequests': true,
          'mlLoop.monitor.window': WINDOW,
          'mlLoop.monitor.refreshSeconds': 2,
          'mlLoop.pythonPath': PYTHON,
        },
      });
      s = await openSession(demo, demo.openUrl, 'monitoring-images');
      toasts = new Notifications(s.page);
      panel = new Webview(s.page);
      await s.workbench.waitReady();
      await new Sidebar(s.page).openProject('cnn');
    });
    after(async () => {
      await s?.close();
    });

    test('test pictures sent as PNG: no drift; the panel shows them beside training pictures', async () => {
      await s.workbench.palette.run('ML Loop: Deploy Run');
      await s.workbench.palette.pick(runId);
      const consent = s.page.locator('.monaco-dialog-box .monaco-button', { hasText: 'Log Requests' });
      await consent.waitFor({ timeout: 30_000 });
      await consent.click();
      const message = await toasts.waitFor(/is served at http:\/\/127\.0\.0\.1:\d+/, 60_000);
      url = /http:\/\/127\.0\.0\.1:\d+/.exec(message)![0];
      for (let i = 0; i < WINDOW; i++) await sendPng(url, `plain-${i}`, test_(i));
      await s.workbench.palette.run('ML Loop: Open Monitoring');
      await panel.waitDrawn(90_000);
      // The report of the whole window: every picture in it, none of its properties nor its embeddings drifted.
      await panel.frame
        .locator('#summary', { hasText: new RegExp(`\\b${WINDOW}\\s*requests in window`) })
        .first()
        .waitFor({ timeout: 60_000 });
      assert.match(await panel.text('#summary'), /no drift\s*embedding drift \(ROC AUC/);
      assert.equal(await panel.count('#feature-table tr.drifted'), 0);
      await panel.frame.locator('#images-window figure.tile img').first().waitFor({ timeout: 30_000 });
      // The pictures load (webview URIs of the logged files and of the training files).
      for (const id of ['#images-window', '#images-training'])
        await settled(async () =>
          assert.ok(
            await panel.frame
              .locator(`${id} img`)
              .evaluateAll((imgs) => imgs.every((i) => (i as HTMLImageElement).naturalWidth === 28)),
            `${id}: every picture loaded`,
          ),
        );
      await s.workbench.screenshot('images-no-drift');
    });

    test('darkened pictures: drift on brightness and on the embedding, one alert; feedback gives live accuracy', async () => {
      const dark = await Promise.all(
        Array.from({ length: WINDOW }, (_, i) =>
          sharp(test_(i, 1)).linear(0.4, 0).toColourspace('b-w').png().toBuffer(),
        ),
      );
      for (let i = 0; i < WINDOW; i++) await sendPng(url, `dark-${i}`, dark[i]);
      const alert = await toasts.waitFor(/sees the production images differently/, 90_000);
      assert.match(alert, /drifted image properties: .*brightness/);
      await panel.frame.locator('#summary', { hasText: 'DRIFT' }).first().waitFor({ timeout: 60_000 });
      assert.equal(await panel.count('#feature-table tr.drifted[data-feature="brightness"]'), 1);
      assert.match(
        await panel.text('#summary'),
        /DRIFT\s*embedding drift \(ROC AUC (?:0\.\d+|1\.00), threshold 0\.\d+\)/,
      );
      await s.workbench.screenshot('images-drift');
      await settled(() => panel.frame.locator('#images-worst').scrollIntoViewIfNeeded());
      await s.workbench.screenshot('images-worst');
      // More darkened traffic, more reports: the alert is not raised again.
      for (let i = 0; i < 20; i++) await sendPng(url, `dark-more-${i}`, dark[i]);
      await s.page.waitForTimeout(6_000);
      assert.equal(
        await s.page
          .locator('.notifications-toasts .notification-list-item-message', { hasText: 'sees the production images' })
          .count(),
        1,
      );
      const labels = Array.from({ length: WINDOW }, (_, i) => ({
        id: `dark-${i}`,
        label: data.schema.classes![data.test.y[testFile(i, 1)]],
      }));
      const fb = await fetch(`${url}/v2/models/fashion/feedback`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ feedback: labels }),
      });
      assert.equal(fb.status, 200);
      await panel.frame
        .locator('#summary', { hasText: /live accuracy \(\d+ labelled\)/ })
        .first()
        .waitFor({ timeout: 60_000 });
      await s.workbench.screenshot('images-live-accuracy');
    });

    test('Send to Error Analysis: the darkened production pictures under Production', async () => {
      await settled(() => panel.frame.locator('#review vscode-button[data-action="sendToErrorAnalysis"]').click());
      const ea = new ErrorAnalysisPage(s.page);
      const { frame } = await ea.open(runId, 180_000);
      await frame.locator('#root[data-source="production"]').waitFor({ timeout: 30_000 });
      const queue = await readReviewQueue(folder);
      assert.ok(queue.length > 0, 'pictures queued');
      assert.ok(
        queue.every((i) => i.image && i.requestId.startsWith('dark-')),
        'the queued production examples are the darkened pictures',
      );
      await frame
        .locator('.scroller .row[data-source="production"] .c-why', { hasText: 'brightness' })
        .first()
        .waitFor({ timeout: 30_000 });
      for (const deadline = Date.now() + 20_000; (await ea.paintedImages(frame)) < Math.min(queue.length, 3);) {
        if (Date.now() > deadline) throw new Error('the production pictures were not drawn');
        await s.page.waitForTimeout(200);
      }
      await s.workbench.screenshot('images-error-analysis-production');
    });
  },
);
