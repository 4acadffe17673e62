// "Find more like these": the images nearest to failing ones by the run's embedding, in train, dev and
// the unlabelled folder, checked against a brute-force ranking of every image; a model without an
// `embedding` output is a clear error; labelled picks become a new data version (dev/test images refused).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { mulberry32 } from '../../../src/core/data/prng';
import { loadDataVersion, readVersionImages } from '../../../src/core/data/dataVersions';
import { addLabelledImages, similarImagesOfRun } from '../../../src/core/analysis/similarImages';
import { writeTags } from '../../../src/core/analysis/tags';
import { OnnxGraphBuilder } from '../../../src/core/onnx/builder';
import { createRun, finishRun } from '../../../src/core/train/runStore';
import { greyPng, imageSpec } from '../data/images/imageFixture';
import { tempProject, type TempProject } from '../data/fixture';

/** image [N, 1, 16, 16] → embedding [N, 2] = (mean of the left half, mean of the right half); scores = 6 × embedding. */
function halvesModel(withEmbedding: boolean): Uint8Array {
  const b = new OnnxGraphBuilder();
  const input = b.addInput('image', 'float', ['N', 1, 16, 16]);
  const w = b.addInitializer(
    'W',
    Float32Array.from({ length: 512 }, (_, i) => (Math.floor(i / 2) % 16 < 8 === (i % 2 === 0) ? 1 / 128 : 0)),
    [256, 2],
  );
  const six = b.addInitializer('six', Float32Array.from([6]), []);
  const [flat] = b.addNode('Flatten', [input], 1, { axis: 1 });
  b.addNode('MatMul', [flat, w], ['embedding']);
  b.addNode('Mul', ['embedding', six], ['scores']);
  b.addOutput('scores', 'float', ['N', 2]);
  if (withEmbedding) b.addOutput('embedding', 'float', ['N', 2]);
  return b.build();
}

/** 16×16, the left half at `left`, the right half at `right`, plus noise. */
function halves(left: number, right: number, seed: number): Promise<Buffer> {
  const rand = mulberry32(seed);
  return greyPng(16, 16, (x) => (x < 8 ? left : right) + (rand() - 0.5) * 20);
}

let p: TempProject;
let runId = '';
let plainRunId = '';

before(async () => {
  const files: Record<string, Buffer> = {};
  let seed = 1;
  for (const split of ['train', 'dev'])
    for (const side of ['left', 'right'])
      for (let k = 0; k < 8; k++) {
        const strong = 120 + 15 * k;
        files[`images/${split}/${side}/${k}.png`] = await (side === 'left'
          ? halves(strong, 40, seed++)
          : halves(40, strong, seed++));
      }
  // Unlabelled: two plainly left, two plainly right, one even, one not an image.
  files['incoming/a.png'] = await halves(230, 20, 100);
  files['incoming/b.png'] = await halves(200, 30, 101);
  files['incoming/sub/c.png'] = await halves(20, 230, 102);
  files['incoming/d.png'] = await halves(25, 210, 103);
  files['incoming/e.png'] = await halves(120, 120, 104);
  files['incoming/broken.png'] = Buffer.from('not a png');
  p = tempProject(
    imageSpec({ split: 'folders', unlabelled: 'incoming' }, {
      experiments: { halves: { command: ['python3', 'train.py'] } },
    } as never),
    files,
  );
  const run = createRun(p.dir, { experiment: 'halves', model: 'script' });
  finishRun(run, { status: 'completed', model: halvesModel(true) });
  runId = run.runId;
  const plain = createRun(p.dir, { experiment: 'halves', model: 'script', runId: `${runId}-plain` });
  finishRun(plain, { status: 'completed', model: halvesModel(false) });
  plainRunId = plain.runId;
});

after(() => p.cleanup());

/** Brute force: every image's (left, right) means as the model computes them, cosine distance to the anchors' mean unit vector. */
function bruteForce(vectors: [number, number][], anchors: [number, number][]): number[] {
  const unit = ([a, b]: [number, number]) => {
    const n = Math.hypot(a, b) || 1;
    return [a / n, b / n];
  };
  const q = anchors.map(unit).reduce((s, v) => [s[0] + v[0], s[1] + v[1]], [0, 0]);
  const qn = Math.hypot(q[0], q[1]);
  return vectors.map((v) => {
    const u = unit(v);
    return 1 - (u[0] * q[0] + u[1] * q[1]) / qn;
  });
}

function halfMeans(pixels: Uint8Array, row: number): [number, number] {
  let l = 0;
  let r = 0;
  for (let y = 0; y < 16; y++)
    for (let x = 0; x < 16; x++) {
      const v = pixels[row * 256 + y * 16 + x] / 255;
      if (x < 8) l += v;
      else r += v;
    }
  return [l / 128, r / 128];
}

test('from a dev image: the nearest train, dev and unlabelled images by the embedding, as brute force ranks them', async () => {
  const ds = await loadDataVersion(p.dir);
  const anchorRow = ds.dev.images!.files.findIndex((f) => f.endsWith('left/3.png'));
  const anchorId = ds.dev.ids[anchorRow];
  const r = await similarImagesOfRun({ projectDir: p.dir, run: runId, source: { ids: [anchorId] }, k: 5 });
  assert.deepEqual(r.classes, ['left', 'right']);
  const anchorVec = halfMeans(ds.dev.images!.pixels, anchorRow);
  for (const split of ['train', 'dev'] as const) {
    const rows = ds[split];
    const d = bruteForce(
      Array.from({ length: rows.features.n }, (_, i) => halfMeans(rows.images!.pixels, i)),
      [anchorVec],
    );
    const want = d
      .map((distance, row) => ({ row, distance }))
      .filter((x) => !(split === 'dev' && x.row === anchorRow))
      .sort((a, b) => a.distance - b.distance || a.row - b.row)
      .slice(0, 5);
    assert.deepEqual(
      r.results[split].map((x) => x.row),
      want.map((x) => x.row),
      split,
    );
    r.results[split].forEach((x, i) => assert.ok(Math.abs(x.distance - want[i].distance) < 1e-4));
    assert.ok(
      r.results[split].every((x) => x.label === 0 && x.file.includes('/left/')),
      split,
    );
  }
  assert.ok(!r.results.dev.some((x) => x.id === anchorId), 'the anchor itself is left out');
  // Unlabelled: the two plainly left images first; the broken file is skipped and named.
  assert.deepEqual(
    r.results.unlabelled
      .slice(0, 2)
      .map((x) => x.file)
      .sort(),
    ['incoming/a.png', 'incoming/b.png'],
  );
  assert.deepEqual(
    r.results.unlabelled
      .slice(-2)
      .map((x) => x.file)
      .sort(),
    ['incoming/d.png', 'incoming/sub/c.png'],
  );
  assert.deepEqual(
    r.skipped.map((s) => s.file),
    ['incoming/broken.png'],
  );
});

test('from a tag: its images together; only the asked places are searched', async () => {
  const ds = await loadDataVersion(p.dir);
  const rights = ds.dev.ids.filter((_, i) => ds.dev.images!.files[i].includes('/right/')).slice(0, 3);
  await writeTags(p.dir, Object.fromEntries(rights.map((id) => [id, ['right-ish']])));
  const r = await similarImagesOfRun({
    projectDir: p.dir,
    run: runId,
    source: { tag: 'right-ish' },
    k: 3,
    places: ['train', 'unlabelled'],
  });
  assert.deepEqual(r.results.dev, []);
  assert.ok(r.results.train.every((x) => x.label === 1));
  assert.deepEqual(
    r.results.unlabelled
      .slice(0, 2)
      .map((x) => x.file)
      .sort(),
    ['incoming/d.png', 'incoming/sub/c.png'],
  );
  await assert.rejects(
    similarImagesOfRun({ projectDir: p.dir, run: runId, source: { tag: 'nothing' } }),
    /No training or dev image carries the tag "nothing"/,
  );
});

test('a model without an `embedding` output: a clear error naming the run and what to add', async () => {
  const ds = await loadDataVersion(p.dir);
  await assert.rejects(
    similarImagesOfRun({ projectDir: p.dir, run: plainRunId, source: { ids: [ds.dev.ids[0]] } }),
    (e: Error) =>
      e.name === 'NoEmbeddingError' &&
      e.message.includes(plainRunId) &&
      /no "embedding" output \(float32 \[N, D\]\)/.test(e.message) &&
      /train_cnn\.py/.test(e.message),
  );
});

test('labelled picks of the unlabelled folder become a new version; a dev image or an unknown class is refused, nothing written', async () => {
  const before = existsSync(p.path('.mlloop/data')) ? readdirSync(p.path('.mlloop/data')) : [];
  const ds = await loadDataVersion(p.dir);
  await assert.rejects(
    addLabelledImages({ projectDir: p.dir, picks: [{ file: ds.dev.images!.files[0], label: 'left' }] }),
    /already a dev or test image: training on it would leak/,
  );
  await assert.rejects(
    addLabelledImages({ projectDir: p.dir, picks: [{ file: 'incoming/a.png', label: 'up' }] }),
    /"up" is not a class \(left, right\)/,
  );
  writeFileSync(p.path('incoming/broken2.png'), 'nope');
  await assert.rejects(
    addLabelledImages({ projectDir: p.dir, picks: [{ file: 'incoming/broken2.png', label: 'left' }] }),
  );
  assert.deepEqual(existsSync(p.path('.mlloop/data')) ? readdirSync(p.path('.mlloop/data')) : [], before);

  const v = await addLabelledImages({
    projectDir: p.dir,
    picks: [
      { file: 'incoming/a.png', label: 'left' },
      { file: p.path('incoming/sub/c.png'), label: 'right' },
    ],
  });
  assert.equal(v.kind, 'add');
  assert.equal(v.rows, 2);
  const images = await readVersionImages(p.dir, v.id);
  assert.deepEqual(
    images.map((i) => [i.label, i.source!.file]),
    [
      ['left', 'incoming/a.png'],
      ['right', 'incoming/sub/c.png'],
    ],
  );
  const loaded = await loadDataVersion(p.dir, v.id);
  assert.equal(loaded.train.features.n, ds.train.features.n + 2);
  assert.deepEqual(Array.from(loaded.train.y.slice(-2)), [0, 1]);
  assert.ok(existsSync(p.path('incoming/a.png')), 'the picked file stays where it was');
});

test('ml-loop similar: the nearest images as text and JSON, --add FILE=CLASS, usage and embedding errors', async () => {
  const { runCli } = await import('../../../src/cli/main');
  const cli = async (args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(args, { out: (t) => out.push(t), err: (t) => err.push(t), cwd: p.dir });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  const ds = await loadDataVersion(p.dir);
  const id = ds.dev.ids[ds.dev.images!.files.findIndex((f) => f.endsWith('right/5.png'))];
  const text = await cli(['similar', '--run', runId, '--id', id, '--k', '2']);
  assert.equal(text.code, 0, text.err);
  assert.match(text.out, /^train:\n {2}0\.\d{4} {2}images\/train\/right\/\d\.png {2}right$/m);
  assert.match(text.out, /^unlabelled:\n {2}0\.\d{4} {2}incoming\/(d|sub\/c)\.png$/m);
  assert.match(text.out, /skipped incoming\/broken\.png/);
  const json = await cli(['similar', '--run', runId, '--id', id, '--k', '1', '--in', 'dev', '--json']);
  const parsed = JSON.parse(json.out) as { results: Record<string, { file: string }[]> };
  assert.equal(parsed.results.dev.length, 1);
  assert.deepEqual(parsed.results.train, []);
  assert.equal((await cli(['similar', '--run', runId])).code, 2);
  assert.equal((await cli(['similar', '--run', runId, '--id', id, '--in', 'test'])).code, 2);
  assert.equal((await cli(['similar', '--add', 'incoming/e.png'])).code, 2);
  const none = await cli(['similar', '--run', plainRunId, '--id', id]);
  assert.notEqual(none.code, 0);
  assert.match(none.err, /has no "embedding" output/);
  const added = await cli(['similar', '--add', 'incoming/e.png=left', '--json']);
  assert.equal(added.code, 0, added.err);
  assert.equal((JSON.parse(added.out) as { rows: number }).rows, 1);
});
