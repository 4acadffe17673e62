// The image keys of mlloop.json (images, imageColumn, imageSize, channels, "split": "folders"): valid
// layouts parse, wrong values and combinations are problems at their own line, and the layout's
// problems (no images, a missing folder) are located at data.images.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProjectText } from '../../../src/core/spec/parse';
import { loadProject } from '../../../src/core/check/loadProject';
import { positionOf, tempProject } from '../data/fixture';
import { imageProject, imageSpec } from '../data/images/imageFixture';

const text = (data: object) =>
  JSON.stringify({ name: 'x', task: 'classification', metric: 'accuracy', experiments: {}, data }, null, 2);

test('the three image layouts parse; image folders get the class column "label"', () => {
  const folders = parseProjectText(
    text({ images: 'images', imageSize: [28, 28], channels: 1, split: { dev: 0.1, test: 0.1, seed: 0 } }),
    'mlloop.json',
  );
  assert.deepEqual(folders.problems, []);
  assert.equal(folders.spec!.data.target, 'label');
  assert.deepEqual(parseProjectText(text({ images: 'images', split: 'folders' }), 'mlloop.json').problems, []);
  const manifest = parseProjectText(
    text({ path: 'labels.csv', target: 'label', imageColumn: 'file', split: { column: 'split' } }),
    'mlloop.json',
  );
  assert.deepEqual(manifest.problems, []);
  assert.equal(manifest.spec!.data.images, undefined);
});

test('wrong image values are problems at their line: imageSize not [h, w], channels 2, a split string other than "folders", no path nor images', () => {
  const t = text({ images: 'images', imageSize: [28], channels: 2 });
  const { problems } = parseProjectText(t, 'mlloop.json');
  const size = problems.find((p) => p.message.includes('data.imageSize'))!;
  assert.equal(size.line, positionOf(t, '"imageSize"').line);
  const channels = problems.find((p) => p.message.includes('data.channels'))!;
  assert.match(channels.message, /must be one of: 1, 3/);
  assert.ok(parseProjectText(text({ images: 'images', split: 'random' }), 'mlloop.json').problems.length > 0);
  const none = parseProjectText(text({ imageSize: [8, 8] }), 'mlloop.json').problems;
  assert.ok(
    none.some((p) => p.message.includes('missing the required property "path"')),
    JSON.stringify(none),
  );
});

test('data.unlabelled: valid in an image project; a missing folder, one inside data.images, or a table project are problems at its line', async () => {
  assert.deepEqual(parseProjectText(text({ images: 'images', unlabelled: 'incoming/' }), 'mlloop.json').problems, []);
  const table = tempProject(
    JSON.stringify(
      {
        name: 'x',
        task: 'classification',
        metric: 'accuracy',
        experiments: {},
        data: { path: 'd.csv', target: 'y', unlabelled: 'incoming' },
      },
      null,
      2,
    ),
    { 'd.csv': 'a,y\n1,p\n2,q\n3,p\n4,q\n5,p\n6,q\n' },
  );
  try {
    const p = (await loadProject(table.dir)).problems.find((x) => x.code === 'unlabelled-without-images')!;
    assert.equal(p.line, positionOf(table.text, '"unlabelled"').line);
  } finally {
    table.cleanup();
  }
  const missing = await imageProject(imageSpec({ unlabelled: 'incoming' }), ['a', 'b'], 3);
  try {
    const p = (await loadProject(missing.dir)).problems.find((x) => x.code === 'unlabelled-not-found')!;
    assert.equal(p.severity, 'warning');
    assert.equal(p.line, positionOf(missing.text, '"unlabelled"').line);
  } finally {
    missing.cleanup();
  }
  const inside = await imageProject(imageSpec({ unlabelled: 'images/new' }), ['a', 'b'], 3);
  try {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(inside.path('images/new'));
    const p = (await loadProject(inside.dir)).problems.find((x) => x.code === 'unlabelled-inside-images')!;
    assert.equal(p.severity, 'error');
    assert.equal(p.line, positionOf(inside.text, '"unlabelled"').line);
  } finally {
    inside.cleanup();
  }
});

test('loadProject: images and path together, and a missing images folder, at their keys; no images at data.images', async () => {
  const both = tempProject(imageSpec({ path: 'x.csv' }));
  try {
    const problems = (await loadProject(both.dir)).problems;
    const p = problems.find((x) => x.code === 'images-and-path')!;
    assert.equal(p.line, positionOf(both.text, '"path"').line);
    const missing = problems.find((x) => x.code === 'images-not-found')!;
    assert.equal(missing.line, positionOf(both.text, '"images":').line);
  } finally {
    both.cleanup();
  }
  const empty = tempProject(imageSpec({}), { 'images/cat/a.txt': 'x' });
  try {
    const p = (await loadProject(empty.dir)).problems.find((x) => x.code === 'images-none')!;
    assert.equal(p.line, positionOf(empty.text, '"images":').line);
  } finally {
    empty.cleanup();
  }
  const ok = await imageProject(imageSpec({}), ['a', 'b'], 3);
  try {
    assert.deepEqual((await loadProject(ok.dir)).problems, []);
  } finally {
    ok.cleanup();
  }
});

test('a cnn whose blocks pool the images below 1×1 is an error at its "channels": imageSize given, or the size the data gives', async () => {
  const given = tempProject(
    imageSpec({ imageSize: [8, 8] }, { experiments: { small: { model: 'cnn', params: { channels: [4, 4, 4, 4] } } } }),
  );
  try {
    const p = (await loadProject(given.dir, { checkData: false })).problems.find((x) => x.code === 'cnn-shape')!;
    assert.match(p.message, /4 convolution block\(s\) pool a 8×8 image below 1×1 .*use at most 3 block/);
    assert.equal(p.line, positionOf(given.text, '"channels"').line);
  } finally {
    given.cleanup();
  }
  // patternPng images are 16 × 16: the default two blocks fit, five do not.
  const fromData = await imageProject(
    imageSpec(
      {},
      { experiments: { ok: { model: 'cnn' }, deep: { model: 'cnn', params: { channels: [2, 2, 2, 2, 2] } } } },
    ),
    ['a', 'b'],
    6,
  );
  try {
    const problems = (await loadProject(fromData.dir)).problems.filter((x) => x.code === 'cnn-shape');
    assert.equal(problems.length, 1, JSON.stringify(problems));
    assert.match(problems[0].message, /16×16 image below 1×1/);
    assert.equal(problems[0].line, positionOf(fromData.text, '"channels"').line);
  } finally {
    fromData.cleanup();
  }
});

test('a cnn in a table project, and a table model in an image project, are errors at their "model"', async () => {
  const images = tempProject(imageSpec({ imageSize: [28, 28] }, { experiments: { m: { model: 'mlp' } } }));
  try {
    const p = (await loadProject(images.dir, { checkData: false })).problems.find(
      (x) => x.code === 'model-needs-features',
    )!;
    assert.match(p.message, /The mlp model takes feature columns; an image project's model takes the image: use "cnn"/);
    assert.equal(p.line, positionOf(images.text, '"mlp"').line);
  } finally {
    images.cleanup();
  }
  const table = tempProject({
    name: 't',
    task: 'classification',
    metric: 'accuracy',
    data: { path: 'data.csv', target: 'y' },
    experiments: { c: { model: 'cnn' } },
  });
  try {
    const p = (await loadProject(table.dir, { checkData: false })).problems.find(
      (x) => x.code === 'model-needs-images',
    )!;
    assert.match(p.message, /The cnn model takes images/);
    assert.equal(p.line, positionOf(table.text, '"cnn"').line);
  } finally {
    table.cleanup();
  }
});
