// Find more like these and the embedding map in a real VS Code, on a copy of the fashion sample with a
// run of its PyTorch CNN (train_cnn.py exports an `embedding` output) and an unlabelled folder: from an
// error, the nearest train, dev and unlabelled images; a labelled pick becomes a data version; a box
// drawn on the embedding map lists its images.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readVersionImages } from '../../src/core/data/dataVersions';
import { startDemo } from '../runners/demo.mjs';
import { fashionProject, hasTorch, PYTHON, runLabel } from './fashionProject';
import { ErrorAnalysisPage } from './pages/errorAnalysis';
import { ImageLoopPage } from './pages/imageLoop';
import { Notifications } from './pages/notifications';
import { openSession, type Session } from './session';

let folder = '';
const label = (runId: string) => runLabel('cnn', runId);

describe(
  'find more like these in a real VS Code',
  { skip: hasTorch ? false : `${PYTHON} has no torch/onnx/numpy` },
  () => {
    let s: Session;
    let runId = '';
    const ea = () => new ErrorAnalysisPage(s.page);

    before(async () => {
      ({ folder, runId } = await fashionProject('similar', 'cnn'));
      const demo = await startDemo({ folder, settings: { 'mlLoop.pythonPath': PYTHON } });
      s = await openSession(demo, demo.openUrl, 'imagesimilar');
      await s.workbench.waitReady();
      await s.workbench.sidebar.open('ML Loop');
    });
    after(async () => {
      await s?.close();
    });
    afterEach(async (t) => {
      await s?.workbench.screenshot(`end-${t.name.slice(0, 40).replace(/\W+/g, '-')}`).catch(() => undefined);
    });

    test('Find More Like These from an error: train, dev and unlabelled images; a labelled pick becomes a version', async () => {
      await ea().openFromTree(label(runId), runId);
      await ea().open(runId);
      await s.workbench.palette.run('View: Close Editors in Other Groups');
      await s.page.keyboard.press('Control+B');
      const panel = (await ea().open(runId)).frame;
      const loop = new ImageLoopPage(s.page, panel);
      await loop.findMoreLikeRow(0);
      await loop.thumbnails('train').first().waitFor({ timeout: 120_000 });
      assert.equal(await loop.thumbnails('train').count(), 8);
      assert.equal(await loop.thumbnails('dev').count(), 8);
      assert.equal(await loop.thumbnails('unlabelled').count(), 6);
      await loop.similar().scrollIntoViewIfNeeded();
      await s.workbench.screenshot('find-more-like-these');
      const file = await loop.labelPick(0, 'shirt');
      await panel.locator('[data-action="add-picked"]').click();
      const message = await new Notifications(s.page).waitFor(
        /Data version [0-9a-f]{12}: 1 labelled image\(s\) added/,
        60_000,
      );
      const added = /Data version ([0-9a-f]{12})/.exec(message)![1];
      const images = await readVersionImages(folder, added);
      assert.deepEqual(
        images.map((i) => [i.label, i.source?.file]),
        [['shirt', file]],
      );
    });

    test('the embedding map: coloured dev images; a drawn box lists its images', async () => {
      const { frame } = await ea().open(runId);
      const loop = new ImageLoopPage(s.page, frame);
      await frame.locator('[data-action="embedding-map"]').click();
      const canvas = frame.locator('[data-role="map-canvas"]');
      await canvas.waitFor({ timeout: 120_000 });
      await canvas.scrollIntoViewIfNeeded();
      await s.page.waitForTimeout(500);
      await loop.brush([0.05, 0.05], [0.6, 0.6]);
      const status = await frame.locator('[data-role="map-selection"]').innerText();
      const n = Number(/^(\d+) image/.exec(status)?.[1]);
      assert.ok(n > 0, status);
      // The list shows the box's images (errors only, as the list's filter says).
      await frame.locator('[data-role="slice-filter"]', { hasText: 'map selection' }).waitFor({ timeout: 10_000 });
      await s.workbench.screenshot('embedding-map');
    });
  },
);
