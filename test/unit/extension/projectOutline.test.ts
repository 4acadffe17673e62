// The outline the sidebar and the inline verdicts read from mlloop.json: an image project (data.images
// or data.imageColumn) is marked, so its verdict's advice is for a network on pixels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readProjectOutline } from '../../../src/extension/project/projectFile';
import { verdictOfRecord } from '../../../src/core/diagnose/recordVerdict';
import type { RunRecord } from '../../../src/core/train/runStore';

const examples = join(__dirname, '..', '..', '..', 'examples');

test('image projects are marked in the outline; their inline verdict gives no feature advice', () => {
  const fashion = readProjectOutline(readFileSync(join(examples, 'fashion', 'mlloop.json'), 'utf8'));
  assert.equal(fashion.images, true);
  assert.equal(readProjectOutline('{ "data": { "path": "labels.csv", "imageColumn": "file" } }').images, true);
  assert.equal(readProjectOutline(readFileSync(join(examples, 'digits', 'mlloop.json'), 'utf8')).images, undefined);
  const record = {
    status: 'completed',
    metrics: { train: { accuracy: 0.99 }, dev: { accuracy: 0.8 } },
  } as unknown as RunRecord;
  const advice = (images?: boolean) =>
    verdictOfRecord({ metric: 'accuracy', baseline: { error: 0.02 }, images }, record)!.recommendations.map(
      (r) => r.id,
    );
  assert.ok(advice().includes('fewerFeatures'));
  assert.ok(!advice(fashion.images).includes('fewerFeatures'));
  assert.ok(advice(fashion.images).includes('smallerNetwork'));
});
