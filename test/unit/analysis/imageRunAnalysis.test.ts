// Error Analysis of a script run on images: planted mislabelled images (plainly "left" pictures in
// the dev/right folder) are the likely label errors found from the model's dev predictions, which
// are out-of-sample (a script model never trains on dev); and the closest training images of each
// class come from the analysis' neighbour index, searched in the error-analysis worker.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../../../src/core/data/prng';
import { analyseRun, labelIssuesOfRun } from '../../../src/core/analysis/analysis';
import { neighboursInWorker } from '../../../src/core/analysis/analysisWorker';
import { nearestOfEachClass } from '../../../src/core/analysis/imageNeighbours';
import { OnnxGraphBuilder } from '../../../src/core/onnx/builder';
import { createRun, finishRun } from '../../../src/core/train/runStore';
import { greyPng, imageSpec } from '../data/images/imageFixture';
import { tempProject, type TempProject } from '../data/fixture';

/** image [N, 1, 16, 16] → scores [N, 2]: 6 × the mean of the left half, 6 × the mean of the right half. */
function halvesModel(): Uint8Array {
  const b = new OnnxGraphBuilder();
  const input = b.addInput('image', 'float', ['N', 1, 16, 16]);
  const w = b.addInitializer(
    'W',
    Float32Array.from({ length: 512 }, (_, i) => (Math.floor(i / 2) % 16 < 8 === (i % 2 === 0) ? 6 / 128 : 0)),
    [256, 2],
  );
  const [flat] = b.addNode('Flatten', [input], 1, { axis: 1 });
  b.addNode('MatMul', [flat, w], ['scores']);
  b.addOutput('scores', 'float', ['N', 2]);
  return b.build();
}

/** A 16×16 picture bright on one half: `bright` and `dark` levels plus pixel noise. */
function halfPng(side: 'left' | 'right', bright: number, dark: number, seed: number): Promise<Buffer> {
  const rand = mulberry32(seed);
  return greyPng(16, 16, (x) => (x < 8 === (side === 'left') ? bright : dark) + (rand() - 0.5) * 30);
}

const PLANTED = ['images/dev/right/planted_0.png', 'images/dev/right/planted_1.png', 'images/dev/right/planted_2.png'];
let p: TempProject;
let runId = '';

before(async () => {
  const files: Record<string, Buffer> = {};
  let seed = 1;
  for (const split of ['train', 'dev'])
    for (const side of ['left', 'right'] as const)
      for (let k = 0; k < 10; k++) {
        const rand = mulberry32(seed * 7919);
        files[`images/${split}/${side}/${k}.png`] = await halfPng(side, 150 + 40 * rand(), 40 + 40 * rand(), seed++);
      }
  // Plainly left pictures (brighter and darker than any other), labelled "right".
  for (const [k, file] of PLANTED.entries()) files[file] = await halfPng('left', 235, 15, 1000 + k);
  p = tempProject(
    imageSpec({ split: 'folders' }, { experiments: { halves: { command: ['python3', 'train.py'] } } } as never),
    files,
  );
  const run = createRun(p.dir, { experiment: 'halves', model: 'script' });
  finishRun(run, { status: 'completed', model: halvesModel() });
  runId = run.runId;
});

after(() => p.cleanup());

test("a script run's likely label errors: the planted images, from its dev predictions, shown with given and suggested class", async () => {
  const r = await labelIssuesOfRun({ projectDir: p.dir, run: runId });
  assert.equal(r.folds, 0);
  assert.equal(r.cached, false);
  const analysis = await analyseRun({ projectDir: p.dir, run: runId, historyRuns: 0 });
  const fileOf = new Map(analysis.dataset.dev.ids.map((id, i) => [id, analysis.dataset.dev.images!.files[i]]));
  assert.deepEqual(r.issues.map((x) => fileOf.get(x.id)).sort(), PLANTED, JSON.stringify(r.issues));
  const classes = analysis.dataset.schema.classes!;
  for (const x of r.issues) {
    assert.equal(x.split, 'dev');
    assert.equal(classes[x.given], 'right');
    assert.equal(classes[x.suggested], 'left');
  }
  // Cached in the run folder.
  assert.equal((await labelIssuesOfRun({ projectDir: p.dir, run: runId })).cached, true);
});

test('the closest training images of each class: the pixel index, searched in the worker as in-process', async () => {
  const a = await analyseRun({ projectDir: p.dir, run: runId, historyRuns: 0 });
  const index = a.neighbours!;
  assert.equal(index.kind, 'pixels');
  assert.equal(index.metric, 'l2');
  assert.equal(index.train.n, 20);
  assert.equal(index.dev.n, 23);
  assert.equal(index.train.dim, 256);
  assert.ok(index.train.rows.buffer instanceof SharedArrayBuffer);
  const { train, dev, schema } = a.dataset;
  const left = schema.classes!.indexOf('left');
  const devRow = dev.images!.files.indexOf(PLANTED[0]);
  const classOf = Int32Array.from(train.y);
  const local = nearestOfEachClass(index, devRow, classOf, 2, 3);
  const worker = await neighboursInWorker({ index, devRow, classOf, classes: 2, k: 3 });
  assert.deepEqual(worker, local);
  assert.equal(worker.length, 2);
  for (const [c, list] of worker.entries()) {
    assert.equal(list.length, 3);
    assert.ok(list.every((x) => train.y[x.row] === c));
  }
  // A left picture labelled right: its closest left training images are nearer than any right one.
  assert.ok(worker[left][2].distance < worker[1 - left][0].distance, JSON.stringify(worker));
});
