// The image audit on planted images: an exact copy across splits, a darkened copy and a blurred copy
// (near duplicates across splits, dark, blurry), a corrupt file; the perceptual-hash search against
// brute force; per-class counts and class balance per split; the profile of an image project.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import sharp from 'sharp';
import { profileFindingsToProblems, profileProject } from '../../../../src/core/data/profile';
import { nearDuplicatePairs } from '../../../../src/core/data/images/audit';
import { hammingDistance } from '../../../../src/core/data/images/properties';
import { mulberry32 } from '../../../../src/core/data/prng';
import { imageSpec } from './imageFixture';
import { positionOf, tempProject } from '../fixture';

/** A 32×32 picture: a few soft-edged rectangles on a textured background, different per seed; grey,
 *  or tinted in colour (red up, blue down). */
function picture(seed: number, colour = false): Promise<Buffer> {
  const rand = mulberry32(seed);
  const grey = new Uint8Array(32 * 32);
  const rects = Array.from({ length: 4 }, () => [
    rand() * 24,
    rand() * 24,
    4 + rand() * 12,
    4 + rand() * 12,
    60 + rand() * 160,
  ]);
  for (let y = 0; y < 32; y++) {
    for (let x = 0; x < 32; x++) {
      let v = 90 + 12 * rand();
      for (const [rx, ry, rw, rh, c] of rects) if (x >= rx && x < rx + rw && y >= ry && y < ry + rh) v = c + 6 * rand();
      grey[y * 32 + x] = v;
    }
  }
  if (!colour)
    return sharp(grey, { raw: { width: 32, height: 32, channels: 1 } })
      .toColourspace('b-w')
      .png()
      .toBuffer();
  const rgb = new Uint8Array(32 * 32 * 3);
  grey.forEach((v, p) => rgb.set([Math.min(255, v * 1.2), v, v * 0.7], p * 3));
  return sharp(rgb, { raw: { width: 32, height: 32, channels: 3 } })
    .png()
    .toBuffer();
}

async function plantedProject() {
  const files: Record<string, Buffer | string> = {};
  let seed = 1;
  for (const cls of ['a', 'b']) {
    for (let i = 0; i < 12; i++) files[`images/train/${cls}/t${i}.png`] = await picture(seed++);
    for (let i = 0; i < 4; i++) files[`images/dev/${cls}/d${i}.png`] = await picture(seed++);
  }
  const source = files['images/train/a/t0.png'] as Buffer;
  files['images/dev/a/copy.png'] = source;
  files['images/dev/b/dark.png'] = await sharp(files['images/train/b/t1.png'] as Buffer)
    .linear(0.2, 0)
    .toColourspace('b-w')
    .png()
    .toBuffer();
  files['images/dev/a/blurred.png'] = await sharp(files['images/train/a/t2.png'] as Buffer)
    .blur(1)
    .toColourspace('b-w')
    .png()
    .toBuffer();
  files['images/train/b/corrupt.png'] = (files['images/train/b/t3.png'] as Buffer).subarray(0, 60);
  return tempProject(imageSpec({ split: 'folders' }), files);
}

test('planted images: the copy across splits is exact leakage, the darkened and blurred copies near-duplicate leakage, dark and blurry; the corrupt file is named', async () => {
  const p = await plantedProject();
  try {
    const profile = await profileProject(p.dir);
    const audit = profile.images!;
    const find = (code: string, severity?: string) =>
      audit.findings.find((f) => f.code === code && (!severity || f.severity === severity));
    const exact = find('image-exact-duplicate', 'error')!;
    assert.deepEqual(
      exact.pairs!.map((x) => [x.a, x.b].sort()),
      [['images/dev/a/copy.png', 'images/train/a/t0.png']],
    );
    const near = find('image-near-duplicate', 'warning')!;
    const nearPairs = near.pairs!.map((x) => [x.a, x.b].sort().join(' ~ '));
    assert.ok(nearPairs.includes('images/dev/b/dark.png ~ images/train/b/t1.png'), nearPairs.join('\n'));
    assert.ok(nearPairs.includes('images/dev/a/blurred.png ~ images/train/a/t2.png'), nearPairs.join('\n'));
    assert.equal(near.count, 2, nearPairs.join('\n'));
    assert.deepEqual(find('image-dark')!.files, ['images/dev/b/dark.png']);
    assert.deepEqual(find('image-blurry')!.files, ['images/dev/a/blurred.png']);
    assert.equal(find('image-light'), undefined);
    const unreadable = find('image-unreadable')!;
    assert.deepEqual(unreadable.files, ['images/train/b/corrupt.png']);
    assert.equal(audit.unreadable, 1);
    // Per class and per split.
    assert.deepEqual(profile.classBalance, [
      { class: 'a', total: 18, train: 12, dev: 6, test: 0 },
      { class: 'b', total: 17, train: 12, dev: 5, test: 0 },
    ]);
    assert.equal(
      audit.classes[0].brightness.counts.reduce((s, v) => s + v, 0),
      18,
    );
    assert.deepEqual(audit.classes[1].sizes, [{ size: '32x32', count: 17 }]);
    assert.equal(audit.classes[0].samples.length, 8);
    assert.deepEqual(audit.modes, { grey: 35 });
    assert.equal(profile.leakageRows, 3);
    // What the Data panel draws: examples per class, and the images each finding names.
    assert.deepEqual(
      profile.imageSamples!.byClass.map((k) => [k.class, k.pixels.length, k.pixels[0].length]),
      [
        ['a', 8, 1024],
        ['b', 8, 1024],
      ],
    );
    const previews = audit.previews!;
    assert.deepEqual([previews.width, previews.height, previews.channels], [32, 32, 1]);
    for (const f of [
      'images/dev/a/copy.png',
      'images/train/a/t0.png',
      'images/dev/b/dark.png',
      'images/dev/a/blurred.png',
    ])
      assert.equal(previews.byFile[f]?.length, 1024, f);
    assert.equal(previews.byFile['images/train/b/corrupt.png'], undefined);
    // As Problems on mlloop.json: the leakage findings at "images" (information-level ones left out).
    const problems = profileFindingsToProblems(profile, p.projectFile, p.text);
    assert.deepEqual(problems.map((x) => [x.code, x.severity]).sort(), [
      ['image-exact-duplicate', 'error'],
      ['image-near-duplicate', 'warning'],
      ['image-unreadable', 'warning'],
    ]);
    assert.ok(problems.every((x) => x.line === positionOf(p.text, '"images":').line));
    // From the cache the second time, with the same findings.
    const again = await profileProject(p.dir);
    assert.equal(again.images!.cacheHit, true);
    assert.deepEqual(again.images!.findings, audit.findings);
    assert.deepEqual(again.images!.previews, audit.previews);
  } finally {
    p.cleanup();
  }
});

test('a light copy and a uniform image: light and low information; a grey image in an RGB set', async () => {
  const files: Record<string, Buffer> = {};
  for (let i = 0; i < 16; i++) {
    files[`images/${i % 2 ? 'x' : 'y'}/c${i}.png`] = await picture(100 + i, true);
  }
  files['images/x/light.png'] = await sharp(files['images/x/c1.png']).linear(0.2, 200).png().toBuffer();
  files['images/y/flat.png'] = await sharp({
    create: { width: 32, height: 32, channels: 3, background: { r: 120, g: 100, b: 90 } },
  })
    .png()
    .toBuffer();
  files['images/y/grey.png'] = await picture(999);
  const p = tempProject(imageSpec({ split: { dev: 0.25, seed: 0 } }), files);
  try {
    const audit = (await profileProject(p.dir)).images!;
    const files = (code: string) => audit.findings.find((f) => f.code === code)?.files;
    assert.deepEqual(files('image-light'), ['images/x/light.png']);
    assert.deepEqual(files('image-low-information'), ['images/y/flat.png']);
    assert.deepEqual(files('image-grayscale'), ['images/y/grey.png']);
    assert.equal(audit.settings.channels, 3);
  } finally {
    p.cleanup();
  }
});

test('near-duplicate search by hash bands finds exactly the pairs brute force finds', () => {
  const rand = mulberry32(7);
  const n = 400;
  const hi = new Uint32Array(n);
  const lo = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    if (i % 4 === 3) {
      // A near copy of an earlier hash: a few bits flipped.
      const j = Math.floor(rand() * i);
      hi[i] = hi[j];
      lo[i] = lo[j];
      const flips = Math.floor(rand() * 7);
      for (let f = 0; f < flips; f++) {
        const bit = Math.floor(rand() * 64);
        if (bit < 32) hi[i] ^= 1 << bit;
        else lo[i] ^= 1 << (bit - 32);
      }
    } else {
      hi[i] = Math.floor(rand() * 2 ** 32);
      lo[i] = Math.floor(rand() * 2 ** 32);
    }
  }
  const brute: string[] = [];
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) if (hammingDistance(hi[i], lo[i], hi[j], lo[j]) <= 4) brute.push(`${i}-${j}`);
  assert.ok(brute.length > 20);
  assert.deepEqual(
    nearDuplicatePairs(hi, lo)
      .map(([i, j]) => `${i}-${j}`)
      .sort(),
    brute.sort(),
  );
});
