// Retrain with Production Data for an image deployment: the labelled production pictures join
// training as image files of a new data version (not pixels in a CSV), the held-out ones are listed,
// and both models are compared on dev and on the held-out pictures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadSplitDataset } from '../../../src/core/data/dataset';
import { loadDataVersion, readRecipe, readVersionImages } from '../../../src/core/data/dataVersions';
import { trainExperiment } from '../../../src/core/experiment/trainExperiment';
import { deploymentDir, versionsDir } from '../../../src/core/spec/layout';
import { HOLDOUT_IMAGES_FILE, retrainWithProductionData } from '../../../src/core/update/retrain';
import { readProductionExamples } from '../../../src/core/update/productionData';
import { imageProject, imageSpec } from '../data/images/imageFixture';
import { nodeScript } from '../scripts/fixtures';
import { embeddingImageModel, writeImageLog } from '../monitor/imageFixture';

const CLASSES = ['a', 'b', 'c'];

test('retraining an image deployment adds its labelled production pictures as files of a new data version', async (t) => {
  const p = await imageProject(
    imageSpec({ imageSize: [16, 16], channels: 1, split: { dev: 0.3, test: 0.3, seed: 0 } }),
    CLASSES,
    12,
  );
  t.after(() => p.cleanup());
  writeFileSync(p.path('fixture.onnx'), embeddingImageModel({ channels: 1, height: 16, width: 16 }, 3));
  const spec = JSON.parse(readFileSync(p.projectFile, 'utf8'));
  spec.experiments = {
    s: {
      command: nodeScript(
        p.dir,
        'm.js',
        `require('fs').copyFileSync(process.env.MODEL_SRC, require('path').join(process.env.MLLOOP_RUN_DIR, 'model.onnx'));`,
      ),
      env: { MODEL_SRC: p.path('fixture.onnx') },
    },
  };
  writeFileSync(p.projectFile, JSON.stringify(spec));
  const production = await trainExperiment({ projectDir: p.dir, experimentName: 's' });
  assert.equal(production.status, 'completed', JSON.stringify(production.error));
  const dataset = await loadSplitDataset(p.dir);

  // Production: darkened copies of the test pictures, each labelled by feedback with its true class.
  const files = dataset.test.images!.files;
  const sent = await Promise.all(files.map((f) => sharp(p.path(f)).linear(0.4, 0).png().toBuffer()));
  const truth = Array.from(dataset.test.y, (y) => CLASSES[y]);
  const logDir = deploymentDir(p.dir, 'shop');
  const start = Date.parse('2026-12-01T10:00:00Z');
  writeImageLog(logDir, production.runId, sent, start);
  writeFileSync(
    join(logDir, 'feedback-1.jsonl'),
    truth
      .map((label, i) => JSON.stringify({ time: '2026-12-01T12:00:00Z', id: `req-${start}-${i}`, label }))
      .join('\n') + '\n',
  );

  const examples = await readProductionExamples(logDir, dataset.schema);
  assert.equal(examples.rows.features.n, sent.length);
  assert.equal(examples.rows.images!.pixels.length, sent.length * 16 * 16);
  assert.ok(examples.rows.images!.files.every((f) => f.startsWith(join('.mlloop', 'deployments', 'shop', 'images'))));

  const result = await retrainWithProductionData({
    projectDir: p.dir,
    deployment: 'shop',
    productionRun: production.runId,
  });
  assert.equal(result.error, undefined);
  assert.equal(result.production.train + result.production.heldOut, sent.length);
  assert.ok(result.production.train > 0 && result.production.heldOut > 0);
  const recipe = (await readRecipe(p.dir, result.dataVersion))!;
  assert.equal(recipe.images, true);
  assert.equal(recipe.rows, result.production.train);
  const versionDir = join(versionsDir(p.dir), result.dataVersion);
  assert.equal(existsSync(join(versionDir, 'rows.csv')), false, 'no pixels in a CSV');
  // Each added file is a logged picture, byte for byte, with its feedback label and provenance.
  const sentBySha = new Map(sent.map((b, i) => [createHash('sha256').update(b).digest('hex'), i]));
  for (const img of await readVersionImages(p.dir, result.dataVersion)) {
    const k = sentBySha.get(img.hash);
    assert.ok(k !== undefined, img.file);
    assert.deepEqual(readFileSync(join(versionDir, img.file)), sent[k]);
    assert.equal(img.label, truth[k]);
    assert.ok(img.source?.file.includes(img.hash));
  }
  const held = JSON.parse(readFileSync(join(versionDir, HOLDOUT_IMAGES_FILE), 'utf8')).images;
  assert.equal(held.length, result.production.heldOut);
  const grown = await loadDataVersion(p.dir, result.dataVersion);
  assert.equal(grown.train.features.n, dataset.train.features.n + result.production.train);
  assert.equal(grown.train.images!.pixels.length, grown.train.features.n * 16 * 16);
  // The gate compared both models on dev and on the held-out production pictures.
  assert.deepEqual(
    result.comparison!.groups.filter((g) => g.kind === 'overall').map((g) => g.set),
    ['dev', 'production'],
  );
});
