// Image datasets: the three layouts, seeded stratified splits stored as content-hash ids, the decoded
// cache, and every kind of bad input named with its file(s).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadSplitDataset, resolveProject } from '../../../../src/core/data/dataset';
import { imageCacheDir } from '../../../../src/core/spec/layout';
import { ImageDataError, loadImageCollection } from '../../../../src/core/data/images/imageDataset';
import { storedSplitPath } from '../../../../src/core/data/split';
import { tempProject } from '../fixture';
import { greyPng, imageProject, imageSpec, patternPng } from './imageFixture';

const CLASSES = ['cat', 'dog', 'eel'];

test('class folders: classes from folder names, a seeded stratified split stored as content-hash ids, pixels in [N, C, H, W]', async () => {
  const p = await imageProject(imageSpec({ split: { dev: 0.2, test: 0.2, seed: 3 } }), CLASSES, 10);
  try {
    const ds = await loadSplitDataset(p.dir);
    assert.deepEqual(ds.schema.classes, CLASSES);
    assert.deepEqual(ds.schema.image, { height: 16, width: 16, channels: 1 });
    assert.equal(ds.schema.target, 'label');
    assert.deepEqual([ds.train.features.n, ds.dev.features.n, ds.test.features.n], [18, 6, 6]);
    // Stratified: 2 dev and 2 test images per class.
    for (const rows of [ds.dev, ds.test])
      for (let c = 0; c < 3; c++) assert.equal([...rows.y].filter((y) => y === c).length, 2);
    // Each id is the content hash of the file's bytes; the pixels are the file's.
    const file = ds.dev.images!.files[0];
    const bytes = readFileSync(p.path(file));
    assert.equal(ds.dev.ids[0], createHash('sha256').update(bytes).digest('hex').slice(0, 16));
    const raw = await sharp(bytes).toColourspace('b-w').raw().toBuffer();
    assert.deepEqual([...ds.dev.images!.pixels.subarray(0, 256)], [...raw]);
    assert.equal(ds.dev.images!.pixels.length, 6 * 256);
    const stored = JSON.parse(readFileSync(storedSplitPath(p.dir, ds.version), 'utf8'));
    assert.deepEqual(stored.dev.sort(), [...ds.dev.ids].sort());
    // Same seed, same split and version; another seed, another split.
    const again = await loadSplitDataset(p.dir);
    assert.deepEqual(again.dev.ids, ds.dev.ids);
    assert.equal(again.version.id, ds.version.id);
    writeFileSync(p.projectFile, JSON.stringify(imageSpec({ split: { dev: 0.2, test: 0.2, seed: 4 } })));
    const other = await loadSplitDataset(p.dir);
    assert.notEqual(other.version.id, ds.version.id);
    assert.notDeepEqual(other.dev.ids.slice().sort(), ds.dev.ids.slice().sort());
  } finally {
    p.cleanup();
  }
});

test('split folders: train/dev/test come from the folders; imageSize and channels from mlloop.json resize and convert', async () => {
  const p = await imageProject(imageSpec({ split: 'folders', imageSize: [8, 12], channels: 3 }), ['a', 'b'], 0, {
    train: 4,
    dev: 2,
    test: 1,
  });
  try {
    const ds = await loadSplitDataset(p.dir);
    assert.deepEqual([ds.train.features.n, ds.dev.features.n, ds.test.features.n], [8, 4, 2]);
    assert.ok(ds.dev.images!.files.every((f) => f.startsWith(join('images', 'dev'))));
    assert.deepEqual(ds.schema.image, { height: 8, width: 12, channels: 3 });
    assert.equal(ds.train.images!.pixels.length, 8 * 3 * 8 * 12);
  } finally {
    p.cleanup();
  }
});

test('a manifest: paths relative to the CSV, the split column, other columns kept as metadata; missing files named with their lines', async () => {
  const files: Record<string, Buffer | string> = {};
  const lines = ['file,label,fold,camera'];
  for (let i = 0; i < 8; i++) {
    files[`data/pics/${i}.png`] = await patternPng(i % 2, i);
    lines.push(`pics/${i}.png,${i % 2 ? 'b' : 'a'},${i < 4 ? 'train' : i < 6 ? 'dev' : 'test'},cam${i % 3}`);
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
    const c = await loadImageCollection(await resolveProject(p.dir));
    assert.equal(c.records.length, 8);
    assert.deepEqual(c.records[3].metadata, { camera: 'cam0' });
    assert.equal(c.records[3].line, 5);
    const ds = await loadSplitDataset(p.dir);
    assert.deepEqual([ds.train.features.n, ds.dev.features.n, ds.test.features.n], [4, 2, 2]);
    writeFileSync(
      p.path('data/labels.csv'),
      lines.join('\n') + '\npics/gone.png,a,train,cam1\npics/also-gone.png,b,dev,cam2\n',
    );
    await assert.rejects(loadSplitDataset(p.dir), (e: ImageDataError) => {
      assert.equal(e.problem.code, 'images-missing-files');
      assert.match(e.message, /2 file\(s\) that do not exist: line 10: pics\/gone\.png; line 11: pics\/also-gone\.png/);
      assert.deepEqual(e.problem.specPath, ['data', 'imageColumn']);
      return true;
    });
  } finally {
    p.cleanup();
  }
});

test('the decoded cache: a second load decodes nothing and gives the same data; a changed file is decoded again, alone', async () => {
  const p = await imageProject(imageSpec({ split: { dev: 0.25, seed: 0 } }), CLASSES, 8);
  try {
    const ref = await resolveProject(p.dir);
    const first = await loadImageCollection(ref);
    assert.equal(first.cacheHit, false);
    assert.equal(readdirSync(imageCacheDir(p.dir)).filter((n) => n.endsWith('.bin')).length, 1);
    const second = await loadImageCollection(ref);
    assert.equal(second.cacheHit, true);
    assert.deepEqual([...second.decoded.pixels], [...first.decoded.pixels]);
    assert.deepEqual([...second.decoded.properties], [...first.decoded.properties]);
    // A file's bytes change: its new pixels are decoded (the others come from the cache).
    writeFileSync(p.path('images/cat/img_000.png'), await greyPng(16, 16, () => 9));
    const third = await loadImageCollection(ref);
    assert.equal(third.cacheHit, false);
    const r = third.records.find((x) => x.rel.endsWith('img_000.png') && x.label === 'cat')!;
    assert.deepEqual([...third.decoded.pixels.subarray(r.slot * 256, (r.slot + 1) * 256)], new Array(256).fill(9));
    assert.equal((await loadImageCollection(ref)).cacheHit, true);
    // Other settings: another entry, never the 16×16 pixels.
    const small = await loadImageCollection({
      ...ref,
      spec: imageSpec({ split: { dev: 0.25, seed: 0 }, imageSize: [4, 4] }),
    });
    assert.equal(small.cacheHit, false);
    assert.equal(small.decoded.pixels.length, small.decoded.hashes.length * 16);
  } finally {
    p.cleanup();
  }
});

test('bad input: a folder with no images, with one class folder, or missing, is an error naming the folder', async () => {
  const empty = tempProject(imageSpec({}), { 'images/cat/readme.txt': 'no pictures here' });
  try {
    await assert.rejects(
      loadSplitDataset(empty.dir),
      (e: ImageDataError) =>
        e.problem.code === 'images-none' && /No images in images: its 1 class folder\(s\) hold no/.test(e.message),
    );
    const missing = tempProject(imageSpec({ images: 'nowhere' }));
    await assert.rejects(
      loadSplitDataset(missing.dir),
      (e: ImageDataError) => e.problem.code === 'images-not-found' && e.message.includes('nowhere'),
    );
    missing.cleanup();
    const one = await imageProject(imageSpec({}), ['cat'], 3);
    await assert.rejects(loadSplitDataset(one.dir), (e: ImageDataError) => e.problem.code === 'data-target-classes');
    one.cleanup();
  } finally {
    empty.cleanup();
  }
});

test('bad input: one image in a class, a non-image with a .png name, a truncated file, a symlink loop: warnings naming the files, the rest loads', async () => {
  const p = await imageProject(imageSpec({ split: { dev: 0.25, seed: 0 } }), ['cat', 'dog'], 6);
  try {
    writeFileSync(p.path('images/cat/notes.png'), 'this is text, not a PNG');
    const good = await patternPng(0, 99, 64);
    writeFileSync(p.path('images/dog/cut.png'), good.subarray(0, good.length >> 1));
    mkdirSync(p.path('images/owl'));
    writeFileSync(p.path('images/owl/only.png'), await patternPng(2, 0));
    symlinkSync(p.path('images/cat'), p.path('images/cat/loop'));
    symlinkSync(p.path('images/dog/a'), p.path('images/dog/b'));
    symlinkSync(p.path('images/dog/b'), p.path('images/dog/a'));
    const c = await loadImageCollection(await resolveProject(p.dir));
    const byCode = new Map(c.problems.map((x) => [x.code, x]));
    assert.match(byCode.get('images-one-per-class')!.message, /owl \(images\/owl\/only\.png\)/);
    const unreadable = byCode.get('images-unreadable')!;
    assert.ok(
      unreadable.files.some((f) => f.endsWith('notes.png')) && unreadable.files.some((f) => f.endsWith('cut.png')),
      unreadable.message,
    );
    assert.match(unreadable.message, /images\/cat\/notes\.png \(/);
    const loops = byCode.get('images-symlink-loop')!;
    assert.ok(
      loops.files.some((f) => f.endsWith(join('cat', 'loop'))),
      loops.message,
    );
    assert.ok(
      loops.files.some((f) => f.endsWith(join('dog', 'a'))),
      loops.message,
    );
    // The unreadable files are in no split; the good ones all are.
    const ds = await loadSplitDataset(p.dir);
    assert.equal(ds.train.features.n + ds.dev.features.n + ds.test.features.n, 13);
    assert.deepEqual(ds.schema.classes, ['cat', 'dog', 'owl']);
  } finally {
    p.cleanup();
  }
});

test('bad input: mixed sizes and modes (grey, RGB, RGBA, palette, 16-bit) and an EXIF-rotated JPEG load as one RGB size', async () => {
  const raw = (channels: 1 | 3 | 4, w: number, h: number) =>
    sharp(new Uint8Array(w * h * channels).fill(200), { raw: { width: w, height: h, channels } });
  const files: Record<string, Buffer> = {
    'images/a/grey.png': await raw(1, 16, 16).toColourspace('b-w').png().toBuffer(),
    'images/a/rgb.png': await raw(3, 16, 16).png().toBuffer(),
    'images/a/rgba.png': await raw(4, 32, 16).png().toBuffer(),
    'images/b/palette.png': await sharp(
      Uint8Array.from(Array.from({ length: 16 * 16 * 3 }, (_, i) => (i % 3 === 0 ? 250 : 10))),
      { raw: { width: 16, height: 16, channels: 3 } },
    )
      .png({ palette: true })
      .toBuffer(),
    'images/b/sixteen.png': await raw(1, 16, 16).toColourspace('grey16').png().toBuffer(),
    // Stored 8 wide × 16 high, shown rotated to 16 × 8.
    'images/b/rotated.jpg': await raw(3, 8, 16).jpeg().withMetadata({ orientation: 6 }).toBuffer(),
  };
  const p = tempProject(imageSpec({ split: { dev: 0.5, seed: 0 } }), files);
  try {
    const c = await loadImageCollection(await resolveProject(p.dir));
    assert.deepEqual(c.settings, { height: 16, width: 16, channels: 3 });
    assert.equal(c.records.filter((r) => r.error).length, 0);
    const rotated = c.records.find((r) => r.rel.endsWith('rotated.jpg'))!;
    assert.equal(rotated.info!.orientation, 6);
    assert.equal(c.records.find((r) => r.rel.endsWith('sixteen.png'))!.info!.bitDepth, 16);
    const px = (name: string) => {
      const r = c.records.find((x) => x.rel.endsWith(name))!;
      return c.decoded.pixels.subarray(r.slot * 768, (r.slot + 1) * 768);
    };
    assert.ok(px('sixteen.png').every((v) => v === 200));
    // Resized with its alpha (libvips premultiplies): within 2 levels of the colour.
    assert.ok(px('rgba.png').every((v) => Math.abs(v - 200) <= 2));
    assert.ok(px('palette.png')[0] > 200 && px('palette.png')[256] < 50, 'palette red plane / green plane');
  } finally {
    p.cleanup();
  }
});
