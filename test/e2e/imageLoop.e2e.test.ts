// The image loop with ML Loop's own CNN in a real VS Code, on a copy of the fashion sample: train the
// built-in CNN from the tree (its curves drawn live) → Error Analysis → tag errors → Augment… shows the
// proposed transforms and a preview grid before anything is written → write the images → train on the
// new version from the notification → Compare shows the tag's errors before and after.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readVersionImages } from '../../src/core/data/dataVersions';
import { startDemo } from '../runners/demo.mjs';
import { fashionProject, runLabel } from './fashionProject';
import { ErrorAnalysisPage } from './pages/errorAnalysis';
import { ExperimentsView, PanelFrame } from './pages/experiments';
import { ImageLoopPage } from './pages/imageLoop';
import { Notifications } from './pages/notifications';
import { openSession, screenshotDir, type Session } from './session';

let folder = '';
const TAG = 'dark';
const EXPERIMENT = 'builtin-cnn';
/** The built-in CNN's epochs in the quick copy of the sample (./fashionProject.ts). */
const EPOCHS = 20;
const label = (runId: string) => runLabel(EXPERIMENT, runId);

function runsOn(version: string): { runId: string; status: string } | undefined {
  const dir = join(folder, '.mlloop', 'runs');
  return readdirSync(dir)
    .filter((r) => existsSync(join(dir, r, 'run.json')))
    .map((r) => JSON.parse(readFileSync(join(dir, r, 'run.json'), 'utf8')))
    .find((r) => r.dataVersion?.id === version && r.status === 'completed');
}

describe('the built-in CNN and augmentation aimed at a tag of image errors in a real VS Code', () => {
  let s: Session;
  let runId = '';
  let version = '';
  let secondRun = '';
  const ea = () => new ErrorAnalysisPage(s.page);

  before(async () => {
    ({ folder } = await fashionProject('augment'));
    const demo = await startDemo({ folder });
    s = await openSession(demo, demo.openUrl, 'imageloop');
    await s.workbench.waitReady();
    await s.workbench.sidebar.open('ML Loop');
  });
  after(async () => {
    await s?.close();
  });
  afterEach(async (t) => {
    await s?.workbench.screenshot(`end-${t.name.slice(0, 40).replace(/\W+/g, '-')}`).catch(() => undefined);
  });

  test('train the built-in CNN from the tree: its curves grow in the Training panel while it trains', async () => {
    await new ExperimentsView(s.page).experimentAction(EXPERIMENT, 'Train Experiment');
    const panel = new PanelFrame(s.page, 'training');
    const seen: number[] = [];
    const trace: string[] = [];
    for (const deadline = Date.now() + 180_000; Date.now() < deadline;) {
      const root = await panel.waitFor('[data-ready="true"]', 120_000);
      const { status, points } = await root.evaluate((el: HTMLElement) => ({
        status: el.dataset.status,
        points: Number(el.dataset.points),
      }));
      if (trace.at(-1) !== `${status}:${points}`) trace.push(`${status}:${points}`);
      // Before the run starts the panel may have no status yet: wait for its end, not for 'running' to stop.
      if (status === 'completed' || status === 'failed' || status === 'cancelled') break;
      if (status === 'running' && points > 0 && points !== seen.at(-1)) {
        seen.push(points);
        await s.workbench.screenshot(`imageloop-cnn-training-${points}`);
      }
      await s.page.waitForTimeout(150);
    }
    assert.ok(
      seen.some((p) => p < EPOCHS),
      `the curve did not grow while the CNN trained (points seen while running: ${seen}; panel states: ${trace})`,
    );
    const root = await panel.waitFor('[data-status="completed"]', 180_000);
    assert.equal(await root.getAttribute('data-points'), String(EPOCHS), 'a point per epoch');
    assert.ok((await panel.paintedPixels(root, '#loss-chart')) > 500, 'the loss chart is blank');
    assert.match(await root.locator('tr[data-split="dev"]').innerText(), /dev\s+\d+\.\d%/);
    await s.workbench.screenshot('imageloop-cnn-trained');
    const runs = join(folder, '.mlloop', 'runs');
    runId = readdirSync(runs).find((r) => existsSync(join(runs, r, 'run.json')))!;
    assert.ok(runId, 'no run folder of the built-in CNN');
  });

  test('tag errors, Augment… previews the transforms and images before writing anything', async () => {
    await ea().openFromTree(label(runId), runId);
    await ea().open(runId);
    await s.page.keyboard.press('Control+B'); // room for the list and the side panels
    // Frames are found by position among the open webviews: look the panel up again after the layout change.
    await s.page.waitForTimeout(500);
    const { frame } = await ea().open(runId);
    await ea().tag(frame, [0, 1, 2], TAG);
    await ea().tagRow(frame, TAG).waitFor({ timeout: 20_000 });
    const loop = new ImageLoopPage(s.page, frame);
    const preview = await loop.augmentTag(TAG, 120);
    assert.equal(await loop.waitForPreviewImages(), 16);
    // A brightness change is proposed, with why: measured against the training images when the tagged
    // images differ (the factor goes their way), else from the tag's word "dark" (a factor below 1).
    const brightness = preview.locator('[data-role="proposals"] li', {
      has: frame.locator('[data-op="brightness"]'),
    });
    const proposal = await brightness.innerText();
    const m = /brightness ×(\d\.\d\d)–(\d\.\d\d).*— (darker images|brighter images|the tag's words)/.exec(proposal);
    assert.ok(m, proposal);
    assert.equal(Number(m[2]) < 1, m[3] !== 'brighter images', proposal);
    assert.ok(!existsSync(join(folder, '.mlloop', 'data')), 'nothing is written by the preview');
    // The new images are drawn (non-empty canvases).
    const painted = await frame.locator('[data-role="preview-after"]').evaluateAll(
      (cs) =>
        cs.filter((c) => {
          const d = (c as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, 28, 28).data;
          return d.some((v, i) => i % 4 === 3 && v > 0);
        }).length,
    );
    assert.equal(painted, 16);
    await preview.scrollIntoViewIfNeeded();
    await s.workbench.screenshot('augment-preview');
    await preview.screenshot({ path: join(screenshotDir, 'imageloop-augment-preview-section.png') });
  });

  test('writing the images makes a data version of files with provenance; training on it from the notification', async () => {
    const { frame } = await ea().open(runId);
    await frame.locator('[data-action="augment-write"]').click();
    const message = await new Notifications(s.page).waitFor(
      /Data version [0-9a-f]{12}: 120 × new images of tag "dark"/,
      120_000,
    );
    version = /Data version ([0-9a-f]{12})/.exec(message)![1];
    const images = await readVersionImages(folder, version);
    assert.equal(images.length, 120);
    assert.ok(images.every((i) => i.source?.file.startsWith('images/') && i.transforms?.length));
    await frame.locator(`[data-role="versions"] tr[data-version="${version}"]`).waitFor({ timeout: 20_000 });
    await s.page
      .locator('.notifications-toasts .notification-toast', { hasText: version })
      .locator('.monaco-button', { hasText: `Train ${EXPERIMENT} on it` })
      .click();
    const deadline = Date.now() + 300_000;
    for (;;) {
      const done = runsOn(version);
      if (done) {
        secondRun = done.runId;
        break;
      }
      if (Date.now() > deadline) throw new Error('no completed run on the augmented version');
      await s.page.waitForTimeout(1000);
    }
  });

  test("Compare shows the tag's errors before and after the augmentation", async () => {
    await s.page.keyboard.press('Control+B');
    const tree = new ExperimentsView(s.page);
    await tree.runRow(label(secondRun)).waitFor({ timeout: 30_000 });
    for (
      const deadline = Date.now() + 60_000;
      !/^dev acc/.test(await tree.description(tree.runRow(label(secondRun))));
    ) {
      if (Date.now() > deadline) throw new Error('the new run is not shown as completed');
      await s.page.waitForTimeout(250);
    }
    const compare = new PanelFrame(s.page, 'compare');
    await tree.contextAction([label(runId), label(secondRun)], 'Compare Selected Runs', (ms) => compare.root(ms));
    const compared = await compare.waitFor('[data-ready="true"]');
    const tagLine = compared.locator(`#error-changes tr[data-kind="tag"][data-name="${TAG}"]`);
    await tagLine.waitFor({ timeout: 120_000 });
    const counts = await tagLine.locator('td').allInnerTexts();
    assert.equal(counts[0], '3', 'the tagged errors of the first run');
    assert.equal(Number(counts[2]), Number(counts[1]) - 3, 'change = after − before');
    await compared.locator('#error-changes').scrollIntoViewIfNeeded();
    await s.workbench.screenshot('imageloop-compare');
  });
});
