// Error Analysis slices of an image project read from a manifest: its metadata columns (here `camera`
// and `source`) are slice candidates beside the image properties, and a planted camera that holds
// every error is the top slice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadSplitDataset } from '../../../src/core/data/dataset';
import { buildErrorTable } from '../../../src/core/analysis/errorTable';
import { imageSliceView } from '../../../src/core/analysis/imageSlices';
import { findSlices, inSlice, parseSliceKey } from '../../../src/core/analysis/slices';
import { imageSpec, patternPng } from '../data/images/imageFixture';
import { tempProject } from '../data/fixture';

test('a manifest: its metadata columns are slices, and the camera holding the errors ranks first', async () => {
  const files: Record<string, Buffer | string> = {};
  const lines = ['file,label,fold,camera,source'];
  const cameras = ['canon', 'nikon', 'phone', 'scanner'];
  for (let i = 0; i < 88; i++) {
    files[`data/pics/${i}.png`] = await patternPng(i % 2, i);
    lines.push(
      `pics/${i}.png,${i % 2 ? 'b' : 'a'},${i < 8 ? 'train' : 'dev'},${cameras[i % 4]},${i % 3 ? 'web' : 'studio'}`,
    );
  }
  files['data/labels.csv'] = lines.join('\n') + '\n';
  const spec = imageSpec({
    images: undefined,
    path: 'data/labels.csv',
    target: 'label',
    imageColumn: 'file',
    split: { column: 'fold' },
  });
  const p = tempProject(spec, files);
  try {
    const ds = await loadSplitDataset(p.dir);
    assert.equal(ds.dev.features.n, 80);
    assert.deepEqual(ds.dev.images!.metadata!.columns, ['camera', 'source']);
    const view = await imageSliceView(ds, p.dir);
    assert.deepEqual(view.schema.categorical, ['folder', 'camera', 'source']);
    // The model errs on every "phone" picture and on nothing else.
    const n = ds.dev.features.n;
    const classIndex = new Int32Array(n);
    const probabilities = new Float32Array(n * 2);
    ds.dev.images!.files.forEach((file, i) => {
      const row = Number(/(\d+)\.png$/.exec(file)![1]);
      const truth = ds.dev.y[i];
      const c = cameras[row % 4] === 'phone' ? 1 - truth : truth;
      classIndex[i] = c;
      probabilities[i * 2 + c] = 0.9;
      probabilities[i * 2 + 1 - c] = 0.1;
    });
    const table = buildErrorTable(ds.schema, ds.dev, { classIndex, probabilities });
    assert.equal(table.errorCount, 20);
    const slices = findSlices(view.schema, view.rows, table);
    const top = slices[0];
    assert.equal(top.label, 'camera = phone');
    assert.equal(top.errors, 20);
    assert.equal(top.support, 20);
    // The key selects those rows again (the panel's slice filter).
    const rows = Array.from({ length: n }, (_, i) => i).filter((i) =>
      inSlice(view.schema, view.rows, i, parseSliceKey(top.key)),
    );
    assert.deepEqual(
      rows,
      Array.from(table.wrong.keys()).filter((i) => table.wrong[i]),
    );
  } finally {
    p.cleanup();
  }
});

test('image folders have no metadata columns: the folder is the only categorical slice column', async () => {
  const files: Record<string, Buffer> = {};
  for (let i = 0; i < 12; i++) files[`images/${i % 2 ? 'b' : 'a'}/${i}.png`] = await patternPng(i % 2, i);
  const p = tempProject(imageSpec({ split: { dev: 0.5, seed: 0 } }), files);
  try {
    const ds = await loadSplitDataset(p.dir);
    assert.equal(ds.dev.images!.metadata, undefined);
    assert.deepEqual((await imageSliceView(ds, p.dir)).schema.categorical, ['folder']);
  } finally {
    p.cleanup();
  }
});
