// Production requests into Error Analysis inside a real extension host: a digits run served (in this
// process) with request logging, single-row requests and one request of three rows, feedback labels
// for some; the Monitoring panel's Send to Error Analysis queues the low-confidence ones (`ml-loop
// review` in a child process) and opens the run's Error Analysis panel on its Production source;
// tagging a production example there writes its id to .mlloop/tags.json, counts it in the tag table,
// and augmenting the tag makes a data version from its training neighbours. The webviews' messages
// are delivered through the extension's panel probes, validated and handled as the webviews' would be.
import * as assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { loadSplitDataset } from '../../src/core/data/dataset';
import type { SplitDataset } from '../../src/core/data/types';
import { readTags, updateTags } from '../../src/core/analysis/tags';
import { InferenceServer } from '../../src/core/serve/server';
import { trainExperiment } from '../../src/core/experiment/trainExperiment';
import { readReviewQueue } from '../../src/core/update/reviewQueue';
import type { PanelProbe } from '../../src/extension/webviewHost/panel';
import { activatedExtension, channelText, loadedErrorAnalysis as loaded, waitFor, workspaceRoot } from './helpers';
import { REVIEW_QUEUE_FILE, deploymentDir } from '../../src/core/spec/layout';


describe('Production requests in Error Analysis', function () {
  this.timeout(300_000);
  let dir = '';
  let runId = '';
  let data: SplitDataset;
  let server: InferenceServer | undefined;
  const info = vscode.window.showInformationMessage;
  const messages: string[] = [];

  async function probe(viewType: string, title: string): Promise<PanelProbe> {
    const { exports } = await activatedExtension();
    return waitFor(() => exports.panels().find((p) => p.viewType === viewType && p.title === title), `the panel "${title}"`, 60_000);
  }
  const instance = (i: number): Record<string, number> => {
    const F = data.schema.numeric.length;
    return Object.fromEntries(data.schema.numeric.map((f, j) => [f, data.test.features.numeric[i * F + j]]));
  };
  const post = async (path: string, body: unknown, id?: string) => {
    const res = await fetch(`${server!.url}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...(id ? { 'X-Request-Id': id } : {}) }, body: JSON.stringify(body) });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    return JSON.parse(text) as unknown;
  };

  before(async () => {
    await activatedExtension();
    dir = mkdtempSync(join(tmpdir(), 'mlloop-it-production-'));
    cpSync(workspaceRoot().fsPath, dir, { recursive: true, filter: (src) => !src.includes('.mlloop') });
    const run = await trainExperiment({ projectDir: dir, experimentName: 'softmax' });
    assert.equal(run.status, 'completed', run.error?.message);
    runId = run.runId;
    data = await loadSplitDataset(dir);
    server = new InferenceServer({ port: 0, processMetrics: false, name: 'softmax', requestLog: { dir: deploymentDir(dir, 'softmax'), flushIntervalMs: 20 } });
    await server.registry.addVersion('softmax', { path: run.model!, runId }, { alias: 'production' });
    await server.listen();
    // Every request below the top-class probability 1 is "low confidence": all but the surest are queued.
    await vscode.workspace.getConfiguration('mlLoop.monitor').update('lowConfidence', 1, vscode.ConfigurationTarget.Workspace);
    (vscode.window as { showInformationMessage: unknown }).showInformationMessage = async (m: string) => {
      messages.push(m);
      return undefined;
    };
  });

  after(async () => {
    (vscode.window as { showInformationMessage: unknown }).showInformationMessage = info;
    await vscode.workspace.getConfiguration('mlLoop.monitor').update('lowConfidence', undefined, vscode.ConfigurationTarget.Workspace);
    await server?.close();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('Send to Error Analysis in the Monitoring panel queues the requests and lists them under Production, every row of a request of several rows', async () => {
    for (let i = 0; i < 20; i++) await post('/v2/models/softmax/predict', { instances: [instance(i)] }, `p-${i}`);
    await post('/v2/models/softmax/predict', { instances: [instance(20), instance(21), instance(22)] }, 'batch');
    const cls = (i: number) => data.schema.classes![data.test.y[i]];
    await post('/v2/models/softmax/feedback', { feedback: [{ id: 'p-0', label: cls(0) }, { id: 'batch', label: [cls(20), cls(21), cls(22)] }] });
    server!.log!.flush();

    await vscode.commands.executeCommand('mlLoop.openMonitoring', { projectDir: dir, deployment: 'softmax' });
    const monitoring = await probe('mlLoop.monitoring', 'Monitoring: softmax');
    await monitoring.deliver({ type: 'action', action: 'sendToErrorAnalysis' });
    const queue = await readReviewQueue(dir);
    assert.ok(queue.length >= 10, `${queue.length} requests queued`);
    assert.ok(queue.every((q) => q.run === runId && q.reasons.includes('low-confidence')));
    assert.ok(messages.some((m) => /queued for tagging .*listed under Production in Error Analysis/.test(m)), messages.join('\n'));

    const panel = await probe('mlLoop.errorAnalysis', `Errors: softmax ${runId.slice(-6)}`);
    const s = await loaded(panel, (x) => x.filter?.source === 'production' && x.view.production.ids.length > 0, 'the Production source');
    const p = s.view.production;
    assert.deepEqual(p.ids, queue.map((q) => q.id), 'the queue, in its order');
    assert.equal(p.hidden, 0);
    const batchRows = p.refs.filter((r) => r.startsWith('batch#'));
    assert.ok(batchRows.length >= 1, `rows of the three-row request: ${p.refs.join(', ')}`);
    for (const ref of batchRows) {
      const r = p.refs.indexOf(ref);
      assert.equal(p.truth[r], data.test.y[20 + Number(ref.slice('batch#'.length))], `${ref} carries its row's feedback label`);
    }
    for (let r = 0; r < p.ids.length; r++) {
      assert.ok(p.predicted[r] !== null && p.confidence[r] !== null, `row ${r} has the served prediction and confidence`);
      // (A few pixels may drift by chance on a window this small: their values are named after it.)
      assert.match(p.reasons[r], /^low confidence/);
    }
    const labelled = p.refs.indexOf('p-0');
    if (labelled >= 0) assert.equal(p.truth[labelled], data.test.y[0]);
    assert.ok(p.truth.filter((t) => t === null).length > 0, 'the unlabelled requests have no feedback');
    assert.match(await channelText(), new RegExp(`review queue: \\d+ requests of softmax selected`));
  });

  it('a production example tagged in the panel is stored by its example id in tags.json, counted under production, and its tag augments', async () => {
    const panel = await probe('mlLoop.errorAnalysis', `Errors: softmax ${runId.slice(-6)}`);
    const { view } = await loaded(panel, (x) => x.view.production.ids.length > 0, 'the Production source');
    const id = view.production.ids[0];
    await panel.deliver({ type: 'tag', ids: [id], tag: 'faint production scan' });
    const tagged = await loaded(panel, (x) => x.view.tagTable.some((r) => r.tag === 'faint production scan'), 'the tag in the tag table');
    assert.deepEqual(tagged.view.tags[id], ['faint production scan']);
    const row = tagged.view.tagTable.find((r) => r.tag === 'faint production scan')!;
    assert.equal(row.production, 1);
    assert.equal(row.tagged, 0, 'no dev example carries it');
    assert.deepEqual((await readTags(dir))[id], ['faint production scan']);
    await panel.deliver({ type: 'augment', source: { tag: 'faint production scan' }, count: 10, seed: 1 });
    const after = await loaded(panel, (x) => x.view.versions.length === 1 && !x.busy, 'the augmented data version');
    const v = after.view.versions[0];
    assert.equal(v.kind, 'augment');
    assert.equal(v.rows, 10);
    const recipe = JSON.parse(readFileSync(join(dir, '.mlloop', 'data', v.id, 'recipe.json'), 'utf8')) as { details: { sourceRows: number } };
    assert.equal(recipe.details.sourceRows, 5, "the production example's five nearest training rows");
  });

  it('tags and the review queue changed outside the panel (the CLI, another window) show in it without a refresh', async () => {
    const panel = await probe('mlLoop.errorAnalysis', `Errors: softmax ${runId.slice(-6)}`);
    const { view } = await loaded(panel, (x) => x.view.production.ids.length > 1, 'the Production source');
    const devId = view.dev.ids[view.dev.wrong.indexOf(1)];
    assert.ok(devId, 'a dev error to tag');
    await updateTags(dir, [devId], 'tagged elsewhere');
    const tagged = await loaded(panel, (x) => (x.view.tags[devId] ?? []).includes('tagged elsewhere'), 'the tag written to tags.json by another process');
    assert.equal(tagged.view.tagTable.find((r) => r.tag === 'tagged elsewhere')?.tagged, 1);
    // The queue is rewritten as `ml-loop review` does (temporary file, then rename), one item fewer.
    const queue = await readReviewQueue(dir);
    const file = join(dir, REVIEW_QUEUE_FILE);
    writeFileSync(`${file}.tmp`, JSON.stringify({ items: queue.slice(1) }));
    renameSync(`${file}.tmp`, file);
    const shorter = await loaded(panel, (x) => x.view.production.ids.length === queue.length - 1, 'the shorter review queue');
    assert.deepEqual(shorter.view.production.ids, queue.slice(1).map((q) => q.id));
    assert.match(await channelText(), /tags of 1 example\(s\) changed on disk/);
  });
});
