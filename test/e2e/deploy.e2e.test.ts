// Deploy in a real VS Code on a copy of the digits sample with two trained softmax runs: deploy the
// first run, see it in Deployments, send a test request (a dev example beside its true label), deploy
// the second run (version 2, candidate), promote it, roll back, stop. Screenshots of each step.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_FOLDER, startDemo } from '../runners/demo.mjs';
import { DeploymentsView } from './pages/deployments';
import { Notifications } from './pages/notifications';
import { openSession, type Session } from './session';

const root = join(__dirname, '..', '..');
const folder = mkdtempSync(join(tmpdir(), 'mlloop-e2e-deploy-'));
cpSync(DEFAULT_FOLDER, folder, { recursive: true, filter: (src) => !src.includes('.mlloop') });
const runs = [0, 1].map(() => JSON.parse(execFileSync(process.execPath, [join(root, 'dist/cli.js'), 'train', folder, '--experiment', 'softmax', '--json'], { encoding: 'utf8' })).runId as string);

describe('deploy in a real VS Code', () => {
  let s: Session;
  let view: DeploymentsView;
  let toasts: Notifications;
  let url = '';

  before(async () => {
    const demo = await startDemo({ folder });
    s = await openSession(demo, demo.openUrl, 'deploy');
    view = new DeploymentsView(s.page);
    toasts = new Notifications(s.page);
    await s.workbench.waitReady();
    // The sidebar opens by itself on a workspace's first activation; open it by its activity-bar icon otherwise.
    const title = s.page.locator('.part.sidebar .composite.title h2', { hasText: /ML Loop/i });
    if (!(await title.isVisible())) await s.page.locator('.part.activitybar .action-item a[aria-label^="ML Loop"]').click({ timeout: 60_000 });
    await title.waitFor({ timeout: 60_000 });
    // The project is indexed (Deploy Run is enabled) once the Experiments view lists its experiments.
    await s.page.locator('.part.sidebar .monaco-list-row .label-name', { hasText: 'softmax' }).first().waitFor({ timeout: 90_000 });
  });
  after(async () => {
    await s?.close();
  });

  test('Deploy Run from the palette starts a server; Deployments shows server → model → version with its run', async () => {
    await s.workbench.palette.run('ML Loop: Deploy Run');
    await s.workbench.palette.pick(runs[0]);
    const message = await toasts.waitFor(/is served at http:\/\/127\.0\.0\.1:\d+/, 60_000);
    url = /http:\/\/127\.0\.0\.1:\d+/.exec(message)![0];
    await view.row(url).waitFor({ timeout: 30_000 });
    // No ticking uptime in the row (it would redraw the row under the pointer every second).
    assert.equal(await view.waitForDescription(url, /^running/), 'running');
    assert.match(await view.waitForDescription('digits', /production v1/), /^production v1$/);
    assert.match(await view.waitForDescription(/^v1$/, new RegExp(`production · run ${runs[0]}`)), /0 requests/);
    // The server answers over the protocol from outside the editor too.
    const meta = await (await fetch(`${url}/v2/models/digits`)).json();
    assert.equal(meta.parameters.run_id, runs[0]);
    await s.workbench.screenshot('deployed');
  });

  test('Send Test Request shows a dev example response beside its true label', async () => {
    await s.workbench.palette.run('ML Loop: Send Test Request');
    const message = await toasts.waitFor(/true label \d, predicted \d/, 60_000);
    assert.match(message, /dev example [0-9a-f]{8} — true label (\d), predicted \d/);
    const editor = s.page.locator('.part.editor .monaco-editor .view-lines').last();
    await editor.waitFor();
    await s.page.locator('.part.editor .view-lines', { hasText: '"trueLabel"' }).first().waitFor({ timeout: 30_000 });
    assert.match(await view.waitForDescription(/^v1$/, /1 requests/), /production/);
    await s.workbench.screenshot('test-request');
  });

  test('deploying a second run adds version 2 as candidate; Promote makes it production; Roll Back returns to v1', async () => {
    await s.workbench.palette.run('View: Close All Editors');
    await s.workbench.palette.run('ML Loop: Deploy Run');
    await s.workbench.palette.pick(runs[1]);
    await toasts.waitFor(/is version 2 of digits/, 60_000);
    assert.match(await view.waitForDescription(/^v2$/, new RegExp(`candidate · run ${runs[1]}`)), /0 requests/);
    await s.workbench.screenshot('second-version');
    await s.workbench.palette.run('ML Loop: Promote to Production');
    await s.workbench.palette.pick('v2');
    await toasts.waitFor('digits v2 is now production');
    await view.waitForDescription('digits', /^production v2$/);
    await view.waitForDescription(/^v2$/, /^production · run/);
    const res = await (await fetch(`${url}/v2/models/digits/ready`)).json();
    assert.equal(res.version, '2');
    await s.workbench.screenshot('promoted');
    await s.workbench.palette.run('ML Loop: Roll Back Production');
    await toasts.waitFor('digits rolled back to v1');
    await view.waitForDescription('digits', /^production v1 · candidate v2$/);
    assert.equal((await (await fetch(`${url}/v2/models/digits/ready`)).json()).version, '1');
    await s.workbench.screenshot('rolled-back');
  });

  test('Stop ends the server process', async () => {
    await s.workbench.palette.run('ML Loop: Stop Inference Server');
    await toasts.waitFor(/stopped the inference server/);
    const refused = await fetch(`${url}/v2/health/live`).catch((e: Error) => e);
    assert.ok(refused instanceof Error, 'the server no longer answers');
    await s.workbench.screenshot('stopped');
  });
});
