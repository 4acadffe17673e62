// The default path a new user takes, with default settings, on a fresh copy of the digits sample:
// train → diagnose → deploy (port 8000, the project's name, no request logging) → open Monitoring,
// which says why there is nothing to show and restarts the deployment with logging in one click
// (through the consent dialog) → the README's curl line, run as written from the sample's folder →
// Monitoring shows those requests. Any CSP violation or page error in a webview fails the spec
// (src/e2e/session.ts).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_FOLDER, startDemo } from '../runners/demo.mjs';
import { copyOfSample } from '../runners/sampleGuard.mjs';
import { webviewRoot } from './pages/diagnose';
import { DeploymentsView } from './pages/deployments';
import { Notifications } from './pages/notifications';
import { Webview } from './pages/webview';
import { openSession, type Session } from './session';

const root = join(__dirname, '..', '..');
const folder = copyOfSample(DEFAULT_FOLDER, 'mlloop-e2e-default-path-');

/** The README's prediction curl line for the digits sample, as written. */
function readmeCurl(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const line = readme.split('\n').find((l) => l.startsWith('curl ') && l.includes('/v2/models/digits/predict'));
  assert.ok(line, 'the README has a curl line for /v2/models/digits/predict');
  return line;
}

describe('the default path of a new user', () => {
  let s: Session;
  let toasts: Notifications;
  let panel: Webview;
  let url = '';
  let runId = '';

  before(async () => {
    const demo = await startDemo({ folder });
    s = await openSession(demo, demo.openUrl, 'default-path');
    toasts = new Notifications(s.page);
    panel = new Webview(s.page);
    await s.workbench.waitReady();
    const title = s.page.locator('.part.sidebar .composite.title h2', { hasText: /ML Loop/i });
    if (!(await title.isVisible())) await s.page.locator('.part.activitybar .action-item a[aria-label^="ML Loop"]').click({ timeout: 60_000 });
    await s.page.locator('.part.sidebar .monaco-list-row .label-name', { hasText: 'softmax' }).first().waitFor({ timeout: 90_000 });
  });
  after(async () => {
    await s?.close();
  });

  /** Focus back in the workbench (a webview keeps F1 to itself), no editor open: one webview at a time. */
  async function freshWorkbench(): Promise<void> {
    await s.page.locator('.part.sidebar .composite.title').first().click();
    await s.workbench.palette.run('View: Close All Editors');
  }

  test('train an experiment from the palette', async () => {
    await s.workbench.palette.run('ML Loop: Train Experiment');
    await s.workbench.palette.pick('softmax');
    const runs = join(folder, '.mlloop', 'runs');
    for (const deadline = Date.now() + 120_000; ; ) {
      const dir = existsSync(runs) ? readdirSync(runs)[0] : undefined;
      const status = dir && existsSync(join(runs, dir, 'run.json')) ? JSON.parse(readFileSync(join(runs, dir, 'run.json'), 'utf8')).status : undefined;
      if (status === 'completed') {
        runId = dir!;
        break;
      }
      assert.ok(Date.now() < deadline && status !== 'failed', `training did not complete (status ${status})`);
      await s.page.waitForTimeout(500);
    }
    // The run reads by its short name in the tree: experiment and id suffix.
    await s.page.locator('.part.sidebar .monaco-list-row .label-name', { hasText: `softmax ${runId.slice(-6)}` }).first().waitFor({ timeout: 30_000 });
    await s.workbench.screenshot('trained');
  });

  test('diagnose it: the Run Diagnostics view shows the latest run unasked; the panel gives the dev error its interval', async () => {
    const compact = await webviewRoot(s.page, 'runDiagnostics', 60_000);
    await compact.frame.locator('.compact-title', { hasText: `softmax ${runId.slice(-6)}` }).waitFor({ timeout: 60_000 });
    await freshWorkbench();
    await s.workbench.palette.run('ML Loop: Diagnose Run');
    await s.workbench.palette.pick(`softmax ${runId.slice(-6)}`);
    await panel.waitDrawn(120_000);
    const verdict = await panel.text('.verdict');
    assert.match(verdict, /dev error \d+\.\d% \(95% CI \d+\.\d–\d+\.\d%, \d+ examples\)/);
    await s.workbench.screenshot('diagnosed');
  });

  test('deploy with defaults: port 8000 (or a free one, said), the project\'s name', async () => {
    await freshWorkbench();
    await s.workbench.palette.run('ML Loop: Deploy Run');
    await s.workbench.palette.pick(runId);
    const message = await toasts.waitFor(/is served at http:\/\/127\.0\.0\.1:\d+/, 60_000);
    url = /http:\/\/127\.0\.0\.1:\d+/.exec(message)![0];
    assert.match(message, /\/v2\/models\/digits$/);
    // Another engineer's server may hold 8000 on this machine: then a notice says which port instead.
    if (!url.endsWith(':8000')) await toasts.waitFor(/port 8000 is taken/, 10_000);
    await new DeploymentsView(s.page).waitForDescription('digits', /production v1/);
    await s.workbench.screenshot('deployed');
  });

  test('Monitoring says logging is off and restarts with logging in one click (after consent)', async () => {
    await freshWorkbench();
    await s.workbench.palette.run('ML Loop: Open Monitoring');
    await panel.waitDrawn(60_000);
    const message = await panel.text('#report-error');
    assert.match(message, /deployed without request logging/);
    assert.doesNotMatch(message, /--psi|--log-requests|Usage|ml-loop drift/);
    await s.workbench.screenshot('monitoring-not-logging');
    await panel.frame.locator('vscode-button[data-action="restartWithLogging"]').click();
    const consent = s.page.locator('.monaco-dialog-box .monaco-button', { hasText: 'Restart with Logging' });
    await consent.waitFor({ timeout: 30_000 });
    await s.workbench.screenshot('restart-consent');
    await consent.click();
    const logs = await toasts.waitFor(/digits logs its requests now/, 60_000);
    url = /http:\/\/127\.0\.0\.1:\d+/.exec(logs)![0];
  });

  test('the README\'s curl, run as written from the sample\'s folder, shows up in Monitoring', async () => {
    const line = readmeCurl();
    // As written; only the port differs when 8000 was taken on this machine.
    const command = line.replace('localhost:8000', url.replace('http://', ''));
    for (let i = 0; i < 12; i++) {
      const out = execFileSync('sh', ['-c', command], { cwd: folder, encoding: 'utf8' });
      assert.match(out, /"predictions"/);
    }
    // The panel refreshes as the log grows (mlLoop.monitor.refreshSeconds): the 12 requests show up.
    const stat = panel.frame.locator('.stat', { hasText: 'requests in window' }).locator('.stat-value');
    let requests = '';
    for (const deadline = Date.now() + 90_000; Date.now() < deadline; await s.page.waitForTimeout(1000)) {
      requests = await stat.innerText({ timeout: 5_000 }).catch(() => '');
      if (Number(requests) >= 12) break;
    }
    assert.ok(Number(requests) >= 12, `${requests || 'no'} requests in the window`);
    // The status bar's rate comes from the same report as the Throughput chart: not the idle server's 0.0.
    const status = s.page.locator('.part.statusbar .statusbar-item', { hasText: /req\/s/ }).first();
    await s.page.waitForFunction((el) => !/^\s*0\.0 req\/s/.test((el as HTMLElement).innerText), await status.elementHandle(), { timeout: 30_000 });
    await s.workbench.screenshot('monitoring-requests');
  });

  test('at 900 px wide the panel\'s buttons wrap instead of being cut off', async () => {
    await s.page.setViewportSize({ width: 900, height: 800 });
    await s.page.waitForTimeout(1000);
    const clipped = await panel.frame.locator('vscode-button:visible').evaluateAll((buttons) =>
      buttons.filter((b) => b.getBoundingClientRect().right > document.documentElement.clientWidth + 1).map((b) => b.textContent?.trim()),
    );
    assert.deepEqual(clipped, [], 'buttons past the right edge');
    await s.workbench.screenshot('monitoring-900px');
  });
});
