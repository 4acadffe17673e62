// Monitoring and the update loop in a real VS Code on a copy of the digits sample: deploy a run with
// request logging (consent dialog), send dev then shifted requests, see the drift alert, the badge
// and the Monitoring panel (drift per feature, histograms, accuracy, latency); send feedback labels;
// Retrain with Production Data; the promotion gate in the panel; promote through it; roll back; then
// Send to Error Analysis: the drifted requests listed under Production in Error Analysis, one tagged
// with the keyboard. Screenshots.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSplitDataset } from '../../src/core/data/dataset';
import type { SplitDataset } from '../../src/core/data/types';
import { DEFAULT_FOLDER, startDemo } from '../runners/demo.mjs';
import { readTags } from '../../src/core/analysis/tags';
import { readReviewQueue } from '../../src/core/update/reviewQueue';
import { DeploymentsView } from './pages/deployments';
import { ErrorAnalysisPage } from './pages/errorAnalysis';
import { Notifications } from './pages/notifications';
import { Sidebar } from './pages/sidebar';
import { settled, Webview } from './pages/webview';
import { openSession, type Session } from './session';

const root = join(__dirname, '..', '..');
const folder = mkdtempSync(join(tmpdir(), 'mlloop-e2e-monitoring-'));
cpSync(DEFAULT_FOLDER, folder, { recursive: true, filter: (src) => !src.includes('.mlloop') });
const runId = JSON.parse(
  execFileSync(process.execPath, [join(root, 'dist/cli.js'), 'train', folder, '--experiment', 'softmax', '--json'], {
    encoding: 'utf8',
  }),
).runId as string;

function instance(data: SplitDataset, split: 'dev' | 'test', i: number, shift = false): Record<string, number> {
  const F = data.schema.numeric.length;
  const rows = data[split];
  const k = i % rows.features.n;
  return Object.fromEntries(
    data.schema.numeric.map((f, j) => [
      f,
      shift && j >= 12 && j < 52
        ? Math.min(16, rows.features.numeric[k * F + j] + 12)
        : rows.features.numeric[k * F + j],
    ]),
  );
}

async function send(url: string, id: string, inst: Record<string, number>): Promise<void> {
  const res = await fetch(`${url}/v2/models/digits/predict`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Request-Id': id },
    body: JSON.stringify({ instances: [inst] }),
  });
  assert.equal(res.status, 200);
}

describe('monitoring and the update loop in a real VS Code', () => {
  let s: Session;
  let view: DeploymentsView;
  let toasts: Notifications;
  let panel: Webview;
  let data: SplitDataset;
  let url = '';

  before(async () => {
    data = await loadSplitDataset(folder);
    const demo = await startDemo({
      folder,
      settings: { 'mlLoop.deploy.logRequests': true, 'mlLoop.monitor.window': 150, 'mlLoop.monitor.refreshSeconds': 2 },
    });
    s = await openSession(demo, demo.openUrl, 'monitoring');
    view = new DeploymentsView(s.page);
    toasts = new Notifications(s.page);
    panel = new Webview(s.page);
    await s.workbench.waitReady();
    await new Sidebar(s.page).openProject('softmax');
  });
  after(async () => {
    await s?.close();
  });

  test('deploying with logging asks for consent; dev traffic shows no drift in the Monitoring panel', async () => {
    await s.workbench.palette.run('ML Loop: Deploy Run');
    await s.workbench.palette.pick(runId);
    const consent = s.page.locator('.monaco-dialog-box .monaco-button', { hasText: 'Log Requests' });
    await consent.waitFor({ timeout: 30_000 });
    await s.workbench.screenshot('consent');
    await consent.click();
    const message = await toasts.waitFor(/is served at http:\/\/127\.0\.0\.1:\d+/, 60_000);
    url = /http:\/\/127\.0\.0\.1:\d+/.exec(message)![0];
    for (let i = 0; i < 150; i++) await send(url, `dev-${i}`, instance(data, 'dev', i));
    await s.workbench.palette.run('ML Loop: Open Monitoring');
    await panel.waitDrawn(90_000);
    await panel.frame.locator('#summary', { hasText: 'no drift' }).first().waitFor({ timeout: 60_000 });
    await s.workbench.screenshot('panel-no-drift');
  });

  test('shifted traffic: a drift alert with Open Monitoring / Retrain, a badge on the deployment, drift charts worst first', async () => {
    for (let i = 0; i < 160; i++) await send(url, `shift-${i}`, instance(data, 'test', i, true));
    const alert = await toasts.waitFor(/data drift in \d+ of 64 features/, 90_000);
    assert.match(alert, /digits: data drift/);
    const toast = s.page.locator('.notifications-toasts .notification-toast', { hasText: 'data drift' }).first();
    assert.equal(await toast.locator('.monaco-button', { hasText: 'Open Monitoring' }).count(), 1);
    assert.equal(await toast.locator('.monaco-button', { hasText: 'Retrain' }).count(), 1);
    await s.workbench.screenshot('alert');
    // The deployment's row turns to a warning icon, with the alerts' count as its badge (a file decoration).
    await view.row('digits').locator('.codicon-warning').waitFor({ timeout: 30_000 });
    // VS Code draws a decoration's badge in a ::after pseudo-element of the label.
    const badges = (await view
      .row('digits')
      .evaluate(
        new Function(
          'row',
          `return [...row.querySelectorAll('*')].map((e) => getComputedStyle(e, '::after').content).filter((c) => c && c !== 'none' && c !== 'normal');`,
        ) as (row: Element) => string[],
      )) as string[];
    assert.ok(
      badges.some((c) => /^"[23]"$/.test(c)),
      `badge on the deployment: ${badges.join(' ')}`,
    );
    await panel.frame.locator('#summary', { hasText: 'DRIFT' }).first().waitFor({ timeout: 60_000 });
    const first = await panel.frame.locator('#feature-table tbody tr').first().getAttribute('data-feature');
    assert.ok(
      first && Number(first.slice(2)) >= 12 && Number(first.slice(2)) < 52,
      `the worst feature ${first} is one of the shifted pixels`,
    );
    assert.ok(Number(await panel.rootAttribute('data-charts')) >= 5);
    await settled(async () =>
      assert.ok((await panel.paintedPixels('#chart-drift')) > 1000, 'the drift chart is drawn'),
    );
    await settled(async () =>
      assert.ok((await panel.paintedPixels('#chart-hist-0')) > 1000, 'the histograms are drawn'),
    );
    await s.workbench.screenshot('panel-drift');
    await settled(() => panel.frame.locator('#chart-hist-0').scrollIntoViewIfNeeded());
    await s.workbench.screenshot('panel-histograms');
    await settled(() => panel.frame.locator('#chart-latency').scrollIntoViewIfNeeded());
    await s.workbench.screenshot('panel-operations');
  });

  test('feedback gives live accuracy; Retrain with Production Data shows the gate; Promote serves the candidate', async () => {
    const labels = Array.from({ length: 160 }, (_, i) => ({
      id: `shift-${i}`,
      label: data.schema.classes![data.test.y[i % data.test.features.n]],
    }));
    const fb = await fetch(`${url}/v2/models/digits/feedback`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ feedback: labels }),
    });
    assert.equal(fb.status, 200);
    await panel.frame
      .locator('#summary', { hasText: /live accuracy \(\d+ labelled\)/ })
      .first()
      .waitFor({ timeout: 60_000 });
    await s.workbench.screenshot('live-accuracy');
    await settled(() => panel.frame.locator('vscode-button[data-action="retrain"]').click());
    await s.workbench.palette.pick('softmax');
    await panel.frame.locator('#gate-table').waitFor({ timeout: 180_000 });
    const verdict = await panel.text('#gate-verdict');
    await settled(() => panel.frame.locator('#gate').scrollIntoViewIfNeeded());
    await s.workbench.screenshot('gate');
    await settled(() => panel.frame.locator('vscode-button[data-action="promote"]').click());
    if (/confirmation/.test(verdict)) {
      const anyway = s.page.locator('.monaco-dialog-box .monaco-button', { hasText: 'Promote Anyway' });
      await anyway.waitFor({ timeout: 30_000 });
      await s.workbench.screenshot('gate-confirm');
      await anyway.click();
    }
    await toasts.waitFor(/digits v2 is now production/, 60_000);
    await view.waitForDescription('digits', /^production v2/);
    assert.equal((await (await fetch(`${url}/v2/models/digits/ready`)).json()).version, '2');
    await panel.frame.locator('#gate-verdict', { hasText: 'Promoted: v2' }).waitFor({ timeout: 30_000 });
    await s.workbench.screenshot('promoted');
    // Roll Back is one click in the panel.
    await settled(() => panel.frame.locator('vscode-button[data-action="rollback"]').click());
    await toasts.waitFor(/digits rolled back to v1/, 60_000);
    assert.equal((await (await fetch(`${url}/v2/models/digits/ready`)).json()).version, '1');
    await s.workbench.palette.run('ML Loop: Stop Inference Server');
    await toasts.waitFor(/stopped the inference server/);
  });

  test('Send to Error Analysis: the drifted requests listed under Production in the Error Analysis panel, tagged with the keyboard', async () => {
    // The monitoring panel is the only webview open: its button, beside the drift table.
    await settled(() => panel.frame.locator('#review vscode-button[data-action="sendToErrorAnalysis"]').click());
    const ea = new ErrorAnalysisPage(s.page);
    const { frame } = await ea.open(runId, 180_000);
    await frame.locator('#root[data-source="production"]').waitFor({ timeout: 30_000 });
    const queued = (await readReviewQueue(folder)).length;
    assert.ok(queued > 0, 'requests queued');
    assert.equal(
      await frame.locator('[data-role="count"]').innerText(),
      `${queued} of ${queued} queued production examples shown`,
    );
    // Drifted digits: their images and why they were queued.
    await frame
      .locator('.scroller .row[data-source="production"] .c-why', { hasText: 'over-represented' })
      .first()
      .waitFor({ timeout: 30_000 });
    for (const deadline = Date.now() + 20_000; (await ea.paintedImages(frame)) < Math.min(queued, 3);) {
      if (Date.now() > deadline) throw new Error('the production images were not drawn');
      await s.page.waitForTimeout(200);
    }
    await s.workbench.screenshot('error-analysis-production');
    await ea.tag(frame, [0], 'bright scan');
    await ea.tagRow(frame, 'bright scan').waitFor({ timeout: 20_000 });
    assert.equal(await ea.tagRow(frame, 'bright scan').locator('[data-col="production"]').innerText(), '1');
    const tags = await readTags(folder);
    assert.equal(
      Object.values(tags).filter((t) => t.includes('bright scan')).length,
      1,
      'tags.json holds the tagged production example',
    );
    await s.workbench.screenshot('error-analysis-production-tagged');
  });
});
