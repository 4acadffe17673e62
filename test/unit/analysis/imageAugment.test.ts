// Augmentation of image projects aimed at a tag or slice: what is proposed for a measured kind of
// image, the seeded plan, the preview, and the data version of PNG files with provenance (the
// project's own images never written; a version that would land outside the project refused).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { augmentToVersion, previewImageAugmentation } from '../../../src/core/analysis/analysis';
import { drawTransforms, proposeTransforms } from '../../../src/core/analysis/imageAugment';
import { writeTags } from '../../../src/core/analysis/tags';
import { loadDataVersion, readVersionImages } from '../../../src/core/data/dataVersions';
import { mulberry32 } from '../../../src/core/data/prng';
import { greyPng, imageSpec } from '../data/images/imageFixture';
import { tempProject, type TempProject } from '../data/fixture';

const normal = { brightness: 0.5, contrast: 0.2, sharpness: 10 };

test('a darker kind gets brightness below 1 in the ratio measured; a blurrier one blur; words add rotations', () => {
  const dark = proposeTransforms({ ...normal, brightness: 0.2 }, normal, 'dark');
  const b = dark.find((p) => p.op === 'brightness')!;
  assert.ok(b.range![0] < 0.4 && b.range![1] < 0.5 && b.range![0] > 0.3, JSON.stringify(b));
  assert.match(b.why, /darker.*0\.20 vs 0\.50/);
  assert.ok(!dark.some((p) => p.op === 'blur'));
  const blurry = proposeTransforms({ ...normal, sharpness: 3 }, normal, 'x');
  assert.deepEqual(blurry.find((p) => p.op === 'blur')?.range, [1, 2]);
  const rotated = proposeTransforms(normal, normal, 'rotated shoes');
  assert.deepEqual(rotated.find((p) => p.op === 'rotate')?.range, [0, 25]);
  assert.match(rotated.find((p) => p.op === 'rotate')!.why, /words/);
  // Nothing measured and no words: only mild variety.
  assert.deepEqual(
    proposeTransforms(normal, normal, 'misc').map((p) => p.op),
    ['flip', 'rotate', 'shift'],
  );
  // Brighter and flatter.
  const washed = proposeTransforms({ ...normal, brightness: 0.8, contrast: 0.1 }, normal);
  assert.ok(washed.find((p) => p.op === 'brightness')!.range![0] > 1.3);
  assert.ok(washed.find((p) => p.op === 'contrast')!.range![1] < 0.6);
});

test('each image gets at least one transform, in geometric-then-photometric order, the same for the same seed', () => {
  const proposals = proposeTransforms({ ...normal, brightness: 0.2, sharpness: 3 }, normal, 'noisy');
  const a = Array.from({ length: 50 }, (_, k) => drawTransforms(proposals, mulberry32(k), k));
  const b = Array.from({ length: 50 }, (_, k) => drawTransforms(proposals, mulberry32(k), k));
  assert.deepEqual(a, b);
  const order = ['flip', 'rotate', 'shift', 'crop', 'blur', 'brightness', 'contrast', 'noise'];
  for (const ts of a) {
    assert.ok(ts.length >= 1);
    const idx = ts.map((t) => order.indexOf(t.op));
    assert.deepEqual(
      idx,
      [...idx].sort((x, y) => x - y),
    );
    for (const t of ts) {
      if (t.op === 'brightness') assert.ok(t.factor >= 0.34 && t.factor <= 0.47, String(t.factor));
      if (t.op === 'rotate') assert.ok(Math.abs(t.degrees) <= 10);
    }
  }
  // p = 0.9 for the aimed transforms: most images get them.
  assert.ok(a.filter((ts) => ts.some((t) => t.op === 'brightness')).length > 35);
  assert.ok(a.filter((ts) => ts.some((t) => t.op === 'noise')).length > 35);
});

/** Two classes of 20 textured 16×16 images; every 4th image of class "a" dark. */
async function project(): Promise<TempProject> {
  const files: Record<string, Buffer> = {};
  for (const [c, cls] of ['a', 'b'].entries())
    for (let k = 0; k < 20; k++) {
      const dark = cls === 'a' && k % 4 === 0;
      files[`images/${cls}/${cls}${String(k).padStart(2, '0')}.png`] = await greyPng(16, 16, (x, y) => {
        const v = 128 + 100 * Math.sin((x * (c + 1) + y * ((k % 5) + 1)) * 0.7 + k);
        return dark ? v * 0.25 : v;
      });
    }
  return tempProject(imageSpec({ imageSize: [16, 16], channels: 1, split: { dev: 0.3, test: 0.2, seed: 0 } }), files);
}

function hashes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }))
      if (e.isDirectory()) walk(join(d, e.name));
      else
        out[join(d, e.name)] = createHash('sha256')
          .update(readFileSync(join(d, e.name)))
          .digest('hex');
  };
  walk(dir);
  return out;
}

/** Tags the dark dev images "dark" (brightness under 0.25 on the loaded pixels). */
async function tagDarkDev(p: TempProject): Promise<string[]> {
  const ds = await loadDataVersion(p.dir);
  const size = 16 * 16;
  const dark = ds.dev.ids.filter((_, i) => {
    let s = 0;
    for (let k = 0; k < size; k++) s += ds.dev.images!.pixels[i * size + k];
    return s / size / 255 < 0.25;
  });
  assert.ok(dark.length >= 1, 'the split put a dark image in dev');
  await writeTags(p.dir, Object.fromEntries(dark.map((id) => [id, ['dark']])));
  return dark;
}

test('the preview of a dark tag darkens training images of its classes; nothing is written', async () => {
  const p = await project();
  try {
    await tagDarkDev(p);
    const before = readdirSync(p.path('.mlloop'));
    const { plan, previews } = await previewImageAugmentation({
      projectDir: p.dir,
      source: { tag: 'dark' },
      count: 30,
      seed: 4,
      previews: 8,
    });
    assert.equal(plan.items.length, 30);
    assert.equal(plan.sourcesAre, 'classes', 'fewer than 5 dark training images: the classes are the sources');
    assert.ok(
      plan.items.every((i) => i.label === 'a'),
      'the dark examples are all of class a',
    );
    const brightness = plan.proposals.find((x) => x.op === 'brightness');
    assert.ok(brightness && brightness.range![1] < 0.8, JSON.stringify(plan.proposals));
    assert.equal(previews.length, 8);
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    for (const x of previews) {
      assert.equal(x.before.length, 256);
      assert.equal(x.after.length, 256);
      assert.match(x.file, /^images\/a\//);
    }
    const darker = previews.filter((x) => /brightness/.test(x.transforms));
    assert.ok(darker.length >= 4);
    for (const x of darker) assert.ok(mean(x.after) < 0.85 * mean(x.before), x.transforms);
    // The same seed plans the same images.
    const again = await previewImageAugmentation({
      projectDir: p.dir,
      source: { tag: 'dark' },
      count: 30,
      seed: 4,
      previews: 0,
    });
    assert.deepEqual(again.plan.items, plan.items);
    await assert.rejects(
      previewImageAugmentation({ projectDir: p.dir, source: { tag: 'dark' }, count: 3, seed: 0, proposals: [] }),
      /Choose at least one transform/,
    );
    assert.deepEqual(readdirSync(p.path('.mlloop')), before, 'no data version written by a preview');
  } finally {
    p.cleanup();
  }
});

test('augmenting writes PNG files with provenance in a new version that trains on base + new images', async () => {
  const p = await project();
  try {
    await tagDarkDev(p);
    const userImages = hashes(p.path('images'));
    const base = await loadDataVersion(p.dir);
    const recipe = await augmentToVersion({
      projectDir: p.dir,
      recipe: { source: { tag: 'dark' }, count: 12, seed: 1 },
    });
    assert.equal(recipe.kind, 'augment');
    assert.equal(recipe.images, true);
    assert.equal(recipe.rows, 12);
    assert.equal(recipe.details.method, 'transforms');
    const dir = p.path(`.mlloop/data/${recipe.id}`);
    assert.equal(readdirSync(join(dir, 'images')).filter((f) => f.endsWith('.png')).length, 12);
    const manifest = await readVersionImages(p.dir, recipe.id);
    assert.equal(manifest.length, 12);
    for (const img of manifest) {
      assert.equal(img.label, 'a');
      assert.match(img.source!.file, /^images\/a\/a\d\d\.png$/);
      assert.ok(base.train.ids.includes(img.source!.id!), 'the source is a training image');
      assert.ok(img.transforms!.length >= 1 && typeof img.transforms![0].op === 'string');
      assert.equal(
        createHash('sha256')
          .update(readFileSync(join(dir, img.file)))
          .digest('hex'),
        img.hash,
      );
    }
    const v = await loadDataVersion(p.dir, recipe.id);
    assert.equal(v.train.features.n, base.train.features.n + 12);
    assert.equal(v.train.images!.pixels.length, (base.train.features.n + 12) * 256);
    assert.deepEqual(v.dev.ids, base.dev.ids);
    assert.deepEqual(v.test.ids, base.test.ids);
    assert.ok(v.train.images!.files.slice(-12).every((f) => f.startsWith(`.mlloop/data/${recipe.id}/images/`)));
    assert.deepEqual(hashes(p.path('images')), userImages, "the project's images are never written");
    // Same recipe, same version.
    const again = await augmentToVersion({
      projectDir: p.dir,
      recipe: { source: { tag: 'dark' }, count: 12, seed: 1 },
    });
    assert.equal(again.id, recipe.id);
    // A slice over the images' properties works as a source too.
    const slice = await augmentToVersion({
      projectDir: p.dir,
      recipe: { source: { slice: 'brightness<=0.2' }, count: 3, seed: 0 },
    });
    assert.equal(slice.rows, 3);
  } finally {
    p.cleanup();
  }
});

test('an augmentation that would write outside the project is refused and writes nothing', async () => {
  const p = await project();
  const outside = mkdtempSync(join(tmpdir(), 'mlloop-outside-'));
  try {
    await tagDarkDev(p);
    mkdirSync(p.path('.mlloop'), { recursive: true });
    symlinkSync(outside, p.path('.mlloop/data'));
    await assert.rejects(
      augmentToVersion({ projectDir: p.dir, recipe: { source: { tag: 'dark' }, count: 3, seed: 0 } }),
      /outside the project folder.*Nothing was written/,
    );
    assert.deepEqual(readdirSync(outside), []);
    await assert.rejects(
      augmentToVersion({ projectDir: p.dir, recipe: { source: { tag: 'no such tag' }, count: 3, seed: 0 } }),
      /No training or dev image is in the tag "no such tag"/,
    );
    assert.ok(!existsSync(join(outside, 'x')));
  } finally {
    p.cleanup();
    rmSync(outside, { recursive: true, force: true });
  }
});

test('in the image-loop worker: the preview, then the augmentation with progress, as in process', async () => {
  const { inDataJobsWorker } = await import('../../../src/core/analysis/dataJobsWorker');
  const p = await project();
  try {
    await tagDarkDev(p);
    const preview = await inDataJobsWorker({
      job: 'preview',
      projectDir: p.dir,
      source: { tag: 'dark' },
      count: 6,
      seed: 2,
      previews: 3,
    });
    assert.equal(preview.previews.length, 3);
    const progress: number[] = [];
    const v = await inDataJobsWorker(
      {
        job: 'augment',
        projectDir: p.dir,
        source: { tag: 'dark' },
        count: 6,
        seed: 2,
        proposals: preview.plan.proposals,
      },
      undefined,
      (done) => progress.push(done),
    );
    assert.equal(v.rows, 6);
    assert.equal(progress.at(-1), 6);
    const same = await augmentToVersion({ projectDir: p.dir, recipe: { source: { tag: 'dark' }, count: 6, seed: 2 } });
    assert.equal(same.id, v.id, 'the worker writes the version the preview showed');
  } finally {
    p.cleanup();
  }
});

test('ml-loop augment on an image project: --preview prints the plan and writes nothing; then the version of files', async () => {
  const { runCli } = await import('../../../src/cli/main');
  const p = await project();
  try {
    await tagDarkDev(p);
    const cli = async (args: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runCli(args, { out: (t) => out.push(t), err: (t) => err.push(t), cwd: p.dir });
      return { code, out: out.join('\n'), err: err.join('\n') };
    };
    const preview = await cli(['augment', '--tag', 'dark', '--count', '4', '--preview']);
    assert.equal(preview.code, 0, preview.err);
    assert.match(preview.out, /^4 new images from \d+ training images .*nothing written:$/m);
    assert.match(preview.out, /^ {2}brightness 0\.\d+–0\.\d+ on 90% — darker images/m);
    assert.match(preview.out, /^ {2}images\/a\/a\d\d\.png → /m);
    assert.ok(!existsSync(p.path('.mlloop/data')));
    const written = await cli(['augment', '--tag', 'dark', '--count', '4', '--json']);
    assert.equal(written.code, 0, written.err);
    const recipe = JSON.parse(written.out) as { id: string; images: boolean; rows: number };
    assert.deepEqual([recipe.images, recipe.rows], [true, 4]);
    assert.equal(readdirSync(p.path(`.mlloop/data/${recipe.id}/images`)).length, 4);
  } finally {
    p.cleanup();
  }
});
