// The Monitoring panel's picture tiles of an image deployment: logged files under the deployment's
// log folder, training samples under the project, captions with the prediction (and the truth when
// the feedback says it was wrong).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { imagesViewOf } from '../../../src/extension/monitoring/imageTiles';
import { report } from '../monitor/fixtures';

test('imagesViewOf: window, worst and training tiles as URIs of the files, captions and hover text', () => {
  const shot = { file: 'images/ab.png', id: 'r1', row: 0, time: '2026-12-01T10:00:00.000Z' };
  const r = report({
    images: {
      images: 2,
      missing: 0,
      samples: [{ ...shot, label: 'shirt', confidence: 0.624 }],
      worst: [{ ...shot, id: 'r2', label: 'shirt', confidence: 0.9, truth: 'coat' }],
      reference: ['images/coat/img_001.png'],
    },
  });
  const v = imagesViewOf(r, '/p', 'shop', (f) => `uri:${f}`)!;
  assert.deepEqual(v.samples, [
    {
      src: `uri:${join('/p', '.mlloop', 'deployments', 'shop', 'images', 'ab.png')}`,
      caption: 'shirt 62 %',
      title: 'request r1 · 2026-12-01T10:00:00.000Z · images/ab.png',
    },
  ]);
  assert.equal(v.worst[0].caption, 'shirt 90 % (is coat)');
  assert.equal(v.worst[0].wrong, true);
  assert.deepEqual(v.reference, [
    { src: `uri:${join('/p', 'images', 'coat', 'img_001.png')}`, caption: 'coat', title: 'images/coat/img_001.png' },
  ]);
  assert.equal(imagesViewOf(report(), '/p', 'shop', String), undefined, 'a tabular report has no pictures');
});
