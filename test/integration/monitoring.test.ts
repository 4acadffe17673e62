// The monitoring and update loop inside a real extension host, on the digits sample: deploy a run with
// request logging (after consent); send dev examples (no drift); send shifted examples (drift on the
// shifted pixels, one alert notification, a Problems entry); send feedback labels (live accuracy);
// Retrain with Production Data; promote the candidate through the gate while requests keep coming
// (none fails); roll back.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { loadSplitDataset } from '../../src/core/data/dataset';
import type { SplitDataset } from '../../src/core/data/types';
import type { RetrainResult } from '../../src/core/update/retrain';
import { readReviewQueue, type ReviewResult } from '../../src/core/update/reviewQueue';
import type { MonitoringPanelState } from '../../src/protocol/monitoring';
import { activatedExtension, waitFor, workspaceRoot } from './helpers';

const projectDir = () => workspaceRoot().fsPath;
type Loaded = Extract<MonitoringPanelState, { status: 'loaded' }>;

function train(): string {
  const cli = path.join(vscode.extensions.getExtension('ml-loop.ml-loop')!.extensionPath, 'dist', 'cli.js');
  const out = execFileSync(process.execPath, [cli, 'train', projectDir(), '--experiment', 'softmax', '--json'], { encoding: 'utf8', env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } });
  return JSON.parse(out).runId as string;
}

/** Row i of a split as a /predict instance; `shift` brightens pixels 12–51 (40 of 64: more than half the features drift). */
function instance(data: SplitDataset, rows: 'dev' | 'test' | 'train', i: number, shift = false): Record<string, number> {
  const F = data.schema.numeric.length;
  return Object.fromEntries(data.schema.numeric.map((f, j) => [f, shift && j >= 12 && j < 52 ? Math.min(16, data[rows].features.numeric[i * F + j] + 12) : data[rows].features.numeric[i * F + j]]));
}

async function predict(url: string, id: string, inst: Record<string, number>): Promise<Response> {
  return fetch(`${url}/v2/models/digits/predict`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Request-Id': id }, body: JSON.stringify({ instances: [inst] }) });
}

describe('Monitoring and the update loop', function () {
  this.timeout(600_000);
  const warnings: { message: string; modal: boolean; detail?: string }[] = [];
  let promoteAnswer: string | undefined = 'Promote Anyway';
  const original = { warn: vscode.window.showWarningMessage, pick: vscode.window.showQuickPick };
  let data: SplitDataset;
  let url = '';
  let panel: { state(): MonitoringPanelState };
  const ref = () => ({ projectDir: projectDir(), deployment: 'digits' });

  before(async () => {
    await activatedExtension();
    // The workspace is the repository's sample: logs of earlier runs (this suite's, the deploy suite's) would be in the window.
    rmSync(path.join(projectDir(), '.mlloop', 'deployments', 'digits'), { recursive: true, force: true });
    rmSync(path.join(projectDir(), '.mlloop', 'review-queue.json'), { force: true });
    data = await loadSplitDataset(projectDir());
    const monitor = vscode.workspace.getConfiguration('mlLoop.monitor');
    await monitor.update('window', 150, vscode.ConfigurationTarget.Workspace);
    await monitor.update('refreshSeconds', 2, vscode.ConfigurationTarget.Workspace);
    await vscode.workspace.getConfiguration('mlLoop.deploy').update('logRequests', true, vscode.ConfigurationTarget.Workspace);
    (vscode.window as { showWarningMessage: unknown }).showWarningMessage = async (message: string, ...rest: unknown[]) => {
      const options = typeof rest[0] === 'object' ? (rest[0] as { modal?: boolean; detail?: string }) : undefined;
      const modal = !!options?.modal;
      warnings.push({ message, modal, detail: options?.detail });
      if (message.startsWith('Log the requests')) return 'Log Requests';
      if (modal && message.startsWith('Promote')) return promoteAnswer;
      return undefined;
    };
  });

  after(async () => {
    (vscode.window as { showWarningMessage: unknown }).showWarningMessage = original.warn;
    (vscode.window as { showQuickPick: unknown }).showQuickPick = original.pick;
    await vscode.commands.executeCommand('mlLoop.stopServer').then(undefined, () => undefined);
    await vscode.workspace.getConfiguration('mlLoop.deploy').update('logRequests', undefined, vscode.ConfigurationTarget.Workspace);
    const monitor = vscode.workspace.getConfiguration('mlLoop.monitor');
    await monitor.update('window', undefined, vscode.ConfigurationTarget.Workspace);
    await monitor.update('refreshSeconds', undefined, vscode.ConfigurationTarget.Workspace);
    // Leave no feedback or request log behind for the suites that read the deployment folder.
    rmSync(path.join(projectDir(), '.mlloop', 'deployments', 'digits'), { recursive: true, force: true });
  });

  const loaded = () => panel.state() as Loaded;

  it('deploys with logging, reports no drift on dev examples, then drift on shifted ones with one alert', async () => {
    const runId = train();
    const d = await vscode.commands.executeCommand<{ url: string; version: string }>('mlLoop.deployRun', { projectDir: projectDir(), runId });
    assert.ok(d, 'deployRun returned nothing');
    url = d.url;
    assert.ok(warnings.some((w) => w.message.startsWith('Log the requests')), 'logging needs consent');
    for (let i = 0; i < 150; i++) assert.equal((await predict(url, `dev-${i}`, instance(data, 'dev', i % data.dev.features.n))).status, 200);
    panel = (await vscode.commands.executeCommand('mlLoop.openMonitoring', ref())) as typeof panel;
    assert.ok(panel, 'openMonitoring returned no panel');
    const quiet = await waitFor(() => {
      const r = loaded().report;
      return r && r.window.requests >= 150 && r;
    }, 'a report over the dev requests', 60_000);
    assert.equal(quiet.dataset.drift, false, `dev examples drifted: ${quiet.features.filter((f) => f.drifted).map((f) => f.name).join(', ')}`);
    assert.equal(warnings.filter((w) => /drift/.test(w.message)).length, 0);
    // The last dev request more than a second before the first shifted one: a window that starts
    // after sentAt - 1000 then holds shifted requests only. (Without the pause, a report taken while
    // the shifted requests arrived could hold a few dev ones too; its statistics then differ from
    // those of the 150 shifted rows, and edge pixels flagged by chance went over the limit below.)
    await new Promise((r) => setTimeout(r, 1500));
    const sentAt = Date.now();
    for (let i = 0; i < 150; i++) assert.equal((await predict(url, `shift-${i}`, instance(data, 'test', i % data.test.features.n, true))).status, 200);
    const doneAt = Date.now();
    // A report over the shifted requests only, read once all of them were logged (not one taken
    // while they were still arriving).
    const drifted = await waitFor(() => {
      const r = loaded().report;
      const { from, to, requests } = r?.window ?? {};
      return r && from !== undefined && to !== undefined && Date.parse(from) >= sentAt - 1000 && Date.parse(to) >= doneAt - 1000 && (requests ?? 0) >= 150 ? r : undefined;
    }, 'a report over the shifted requests only', 60_000);
    assert.equal(drifted.dataset.drift, true);
    const names = new Set(drifted.features.filter((f) => f.drifted).map((f) => f.name));
    const shifted = (n: string) => Number(n.slice(2)) >= 12 && Number(n.slice(2)) < 52;
    assert.ok([...names].filter(shifted).length >= 20, `too few shifted pixels flagged: ${[...names].join(', ')}`);
    assert.ok([...names].filter((n) => !shifted(n)).length <= 3, `unshifted pixels flagged: ${[...names].join(', ')}`);
    await waitFor(() => warnings.some((w) => /data drift/.test(w.message)), 'the drift alert');
    const problems = vscode.languages.getDiagnostics(vscode.Uri.file(path.join(projectDir(), 'mlloop.json'))).filter((x) => x.source === 'ML Loop monitoring');
    assert.ok(problems.some((p) => /data drift/.test(p.message)), 'a Problems entry for the drift');
    // More shifted requests: a new report over a window that overlaps the alerted one — no second notification.
    for (let i = 0; i < 20; i++) await predict(url, `shift-more-${i}`, instance(data, 'test', i, true));
    const before = loaded().refreshedAt;
    await waitFor(() => loaded().refreshedAt !== before && loaded().report!.operational.requests >= 150 && true, 'the next report');
    assert.equal(warnings.filter((w) => /data drift/.test(w.message)).length, 1, 'the drift alert is notified once per window');
    // The drifted requests go to the review queue for tagging (the offer to tag is declined here).
    const info = vscode.window.showInformationMessage;
    (vscode.window as { showInformationMessage: unknown }).showInformationMessage = async () => undefined;
    try {
      const review = await vscode.commands.executeCommand<ReviewResult>('mlLoop.sendToErrorAnalysis', ref());
      assert.ok(review && review.selected > 0, 'drifted requests are queued');
      assert.ok(review.items.every((i) => i.requestId.startsWith('shift-')), 'the window holds shifted requests only');
      assert.ok(review.items.some((i) => i.reasons.includes('drift')), 'queued for drift');
      assert.equal((await readReviewQueue(projectDir())).length, review.queued);
    } finally {
      (vscode.window as { showInformationMessage: unknown }).showInformationMessage = info;
    }
  });

  it('shows live accuracy from feedback, retrains with production data and promotes through the gate with no failed request', async () => {
    const labels = Array.from({ length: 150 }, (_, i) => ({ id: `shift-${i}`, label: data.schema.classes![data.test.y[i % data.test.features.n]] }));
    const fb = await fetch(`${url}/v2/models/digits/feedback`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ feedback: labels }) });
    assert.equal(fb.status, 200, await fb.text());
    const live = await waitFor(() => (loaded().report?.live?.labelled ? loaded().report!.live : undefined), 'live accuracy from the feedback', 60_000);
    assert.equal(live.metric, 'accuracy');
    assert.ok(live.labelled >= 100);
    (vscode.window as { showQuickPick: unknown }).showQuickPick = async (items: Array<{ label: string }>) => (await items).find((i) => i.label === 'softmax');
    const result = await vscode.commands.executeCommand<RetrainResult>('mlLoop.retrainWithProductionData', ref());
    assert.ok(result, 'retrain returned nothing (see the ML Loop log)');
    assert.equal(result.candidateStatus, 'completed');
    assert.equal(result.production.train + result.production.heldOut, 150);
    const sets = result.comparison!.groups.filter((g) => g.kind === 'overall').map((g) => g.set);
    assert.deepEqual(sets, ['dev', 'production']);
    const gate = await waitFor(() => loaded().gate, 'the gate in the panel');
    assert.equal(gate.candidateRunId, result.candidateRunId);
    assert.equal(loaded().deployment.candidate, gate.candidateVersion);
    // Requests keep coming while production switches to the candidate.
    let stop = false;
    let ok = 0;
    const failures: string[] = [];
    const load = Promise.all(
      Array.from({ length: 4 }, async (_, w) => {
        for (let k = 0; !stop; k++) {
          try {
            const res = await predict(url, `load-${w}-${k}`, instance(data, 'dev', k % data.dev.features.n));
            if (res.status === 200) ok++;
            else failures.push(`${res.status} ${await res.text()}`);
          } catch (e) {
            failures.push(String(e));
          }
        }
      }),
    );
    await new Promise((r) => setTimeout(r, 300));
    const modalsBefore = warnings.filter((w) => w.modal && w.message.startsWith('Promote')).length;
    assert.equal(await vscode.commands.executeCommand('mlLoop.promoteCandidate', ref()), true);
    const asked = warnings.filter((w) => w.modal && w.message.startsWith('Promote')).length > modalsBefore;
    assert.equal(asked, result.comparison!.needsConfirmation, 'the gate asks exactly when the comparison needs confirmation');
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await load;
    assert.deepEqual(failures, [], 'no request fails during the swap');
    assert.ok(ok > 0);
    const aliases = (await (await fetch(`${url}/v2/models/digits/aliases`)).json()) as { production: string };
    assert.equal(aliases.production, gate.candidateVersion);
    const served = (await (await predict(url, 'after-promote', instance(data, 'dev', 0))).json()) as { model_version: string };
    assert.equal(served.model_version, gate.candidateVersion);
    await vscode.commands.executeCommand('mlLoop.rollbackModel');
    assert.equal(((await (await fetch(`${url}/v2/models/digits/aliases`)).json()) as { production: string }).production, '1');
  });

  it('the gate asks before promoting a candidate that is worse on a tracked tag, and Cancel keeps production', async () => {
    // A second retrain gives a new candidate; then the user tags the dev examples production gets right
    // and the candidate gets wrong, and the comparison is made again with that tag tracked.
    (vscode.window as { showQuickPick: unknown }).showQuickPick = async (items: Array<{ label: string }>) => (await items).find((i) => i.label === 'softmax');
    const result = await vscode.commands.executeCommand<RetrainResult>('mlLoop.retrainWithProductionData', ref());
    assert.equal(result?.candidateStatus, 'completed');
    const aliases = async () => (await (await fetch(`${url}/v2/models/digits/aliases`)).json()) as { production: string; candidate: string };
    const before = await aliases();
    const { OnnxPredictor } = await import('../../src/core/onnx/onnxPredictor');
    const { writeTags } = await import('../../src/core/analysis/tags');
    const { evaluateForPromotion, readHoldout, PROMOTION_FILE } = await import('../../src/core/update/retrain');
    const { writeFileSync } = await import('node:fs');
    const productionModel = path.join(projectDir(), '.mlloop', 'runs', result.productionRunId, 'model.onnx');
    const predict = async (model: string) => {
      const p = await OnnxPredictor.load(model, data.schema);
      try {
        return (await p.predict(data.dev.features)).classIndex!;
      } finally {
        await p.release();
      }
    };
    const [prod, cand] = [await predict(productionModel), await predict(result.candidateModel!)];
    const flipped = data.dev.ids.filter((_, i) => prod[i] === data.dev.y[i] && cand[i] !== data.dev.y[i]);
    assert.ok(flipped.length > 0, 'the candidate gets some dev example wrong that production gets right');
    await writeTags(projectDir(), Object.fromEntries(flipped.map((id) => [id, ['flipped']])));
    const heldOut = await readHoldout(projectDir(), data, result.dataVersion);
    const comparison = await evaluateForPromotion({ projectDir: projectDir(), dataset: data, heldOut, productionModel, candidateModel: result.candidateModel!, gate: { margin: 0.02, minSupport: 1 } });
    assert.ok(comparison.regressions.some((g) => g.kind === 'tag' && g.key === 'flipped' && g.production === 1 && g.candidate === 0));
    writeFileSync(path.join(projectDir(), '.mlloop', 'runs', result.candidateRunId, PROMOTION_FILE), JSON.stringify({ ...result, comparison }));
    promoteAnswer = undefined; // Cancel
    assert.equal(await vscode.commands.executeCommand('mlLoop.promoteCandidate', ref()), false);
    const asked = warnings.filter((w) => w.modal && w.message.startsWith('Promote')).pop();
    assert.match(asked?.detail ?? '', /tag: flipped \(dev, \d+ examples\): accuracy 100\.0 % → 0\.0 %/);
    assert.equal((await aliases()).production, before.production, 'Cancel keeps production');
    promoteAnswer = 'Promote Anyway';
    assert.equal(await vscode.commands.executeCommand('mlLoop.promoteCandidate', ref()), true);
    assert.equal((await aliases()).production, before.candidate);
    await writeTags(projectDir(), {});
  });
});
