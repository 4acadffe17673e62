// Each augmentation transform on small images with known pixels: the result is checked value by value
// (or by the property the transform must change), and noise is the same for the same seed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import {
  applyTransform,
  applyTransforms,
  borderColour,
  decodeForTransform,
  describeTransform,
  encodeRawPng,
  type RawImage,
} from '../../../../src/core/data/images/transforms';

/** A grey W×H image from row-major values. */
function grey(values: number[], width: number, height: number): RawImage {
  return { data: Uint8Array.from(values), width, height, channels: 1 };
}

/** 4×4 grey: value = 10·(4y + x) + 10 (all distinct, none 0 or 255). */
const ramp = grey(
  Array.from({ length: 16 }, (_, i) => 10 * i + 10),
  4,
  4,
);
const at = (img: RawImage, x: number, y: number, c = 0) => img.data[(y * img.width + x) * img.channels + c];

test('flip mirrors each row left ↔ right', async () => {
  const out = await applyTransform(ramp, { op: 'flip' });
  assert.equal(out.width, 4);
  assert.equal(out.height, 4);
  for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) assert.equal(at(out, x, y), at(ramp, 3 - x, y));
});

test('shift moves the content by whole pixels and fills the uncovered side with the border colour', async () => {
  const out = await applyTransform(ramp, { op: 'shift', dx: 0.25, dy: 0 }); // 1 pixel right
  const fill = borderColour(ramp)[0];
  for (let y = 0; y < 4; y++) {
    assert.equal(at(out, 0, y), fill);
    for (let x = 1; x < 4; x++) assert.equal(at(out, x, y), at(ramp, x - 1, y));
  }
  const up = await applyTransform(ramp, { op: 'shift', dx: 0, dy: -0.5 }); // 2 pixels up
  for (let x = 0; x < 4; x++) {
    assert.equal(at(up, x, 0), at(ramp, x, 2));
    assert.equal(at(up, x, 1), at(ramp, x, 3));
    assert.equal(at(up, x, 3), fill);
  }
  await assert.rejects(applyTransform(ramp, { op: 'shift', dx: 1, dy: 0 }), /leaves nothing/);
});

test('the border colour is the mean of the outermost pixels', () => {
  // The 12 border values of the ramp: rows 0 and 3 whole, column 0 and 3 of rows 1-2.
  const border = [10, 20, 30, 40, 130, 140, 150, 160, 50, 80, 90, 120];
  assert.deepEqual(borderColour(ramp), [Math.round(border.reduce((a, b) => a + b) / border.length)]);
});

test('rotate by 90° turns the image a quarter clockwise at the same size', async () => {
  const out = await applyTransform(ramp, { op: 'rotate', degrees: 90 });
  assert.equal(out.width, 4);
  assert.equal(out.height, 4);
  // Clockwise: the left column (top to bottom) becomes the top row read right to left.
  for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) assert.equal(at(out, x, y), at(ramp, y, 3 - x));
});

test('a small rotation keeps the centre and fills the corners with the border colour', async () => {
  const square = grey(new Array(21 * 21).fill(0), 21, 21);
  for (let y = 8; y <= 12; y++) for (let x = 2; x <= 18; x++) square.data[y * 21 + x] = 200; // a horizontal bar
  const out = await applyTransform(square, { op: 'rotate', degrees: 10 });
  assert.equal(out.width, 21);
  assert.equal(out.height, 21);
  assert.ok(at(out, 10, 10) > 150, 'the centre of the bar stays');
  assert.equal(at(out, 0, 0), 0, 'a corner is filled with the border colour (black)');
  // Clockwise: the bar's right end goes down, its left end up.
  assert.ok(at(out, 18, 12) > at(square, 18, 13) && at(out, 18, 12) > at(out, 2, 12));
});

test('crop keeps a share of the image and resizes it back to the full size', async () => {
  // 4×4 of four 2×2 quadrants: 0, 80 / 160, 240.
  const quads = grey([0, 0, 80, 80, 0, 0, 80, 80, 160, 160, 240, 240, 160, 160, 240, 240], 4, 4);
  const bottomRight = await applyTransform(quads, { op: 'crop', scale: 0.5, x: 1, y: 1 });
  assert.deepEqual([...bottomRight.data], new Array(16).fill(240));
  const topLeft = await applyTransform(quads, { op: 'crop', scale: 0.5, x: 0, y: 0 });
  assert.deepEqual([...topLeft.data], new Array(16).fill(0));
  const whole = await applyTransform(quads, { op: 'crop', scale: 1, x: 0.5, y: 0.5 });
  assert.deepEqual([...whole.data], [...quads.data]);
  await assert.rejects(applyTransform(quads, { op: 'crop', scale: 0, x: 0, y: 0 }), /\(0, 1\]/);
});

test('brightness multiplies every pixel (clipped to 255)', async () => {
  const darker = await applyTransform(ramp, { op: 'brightness', factor: 0.5 });
  assert.deepEqual(
    [...darker.data],
    [...ramp.data].map((v) => Math.round(v * 0.5)),
  );
  const brighter = await applyTransform(ramp, { op: 'brightness', factor: 2 });
  assert.deepEqual(
    [...brighter.data],
    [...ramp.data].map((v) => Math.min(255, v * 2)),
  );
});

test('contrast scales the distance from the mean: the mean stays, the spread shrinks', async () => {
  const m = [...ramp.data].reduce((a, b) => a + b) / 16; // 85
  const flat = await applyTransform(ramp, { op: 'contrast', factor: 0.5 });
  [...flat.data].forEach((v, i) => assert.ok(Math.abs(v - (m + 0.5 * (ramp.data[i] - m))) <= 0.5 + 1e-9));
  const none = await applyTransform(ramp, { op: 'contrast', factor: 0 });
  assert.deepEqual([...none.data], new Array(16).fill(Math.round(m)));
});

test('blur spreads a bright point over its neighbours and keeps the total light', async () => {
  const point = grey(new Array(81).fill(0), 9, 9);
  point.data[4 * 9 + 4] = 255;
  const out = await applyTransform(point, { op: 'blur', sigma: 1 });
  assert.ok(at(out, 4, 4) < 255 && at(out, 4, 4) > 0);
  assert.ok(at(out, 3, 4) > 0 && at(out, 5, 4) > 0 && at(out, 4, 3) > 0 && at(out, 4, 5) > 0);
  assert.equal(at(out, 3, 4), at(out, 5, 4), 'symmetric');
  const total = [...out.data].reduce((a, b) => a + b);
  assert.ok(Math.abs(total - 255) < 12, `total ${total}`);
});

test('noise is the same for the same seed, different for another, and keeps the mean', async () => {
  const flat = grey(new Array(64 * 64).fill(128), 64, 64);
  const a = await applyTransform(flat, { op: 'noise', sigma: 0.05, seed: 1 });
  const b = await applyTransform(flat, { op: 'noise', sigma: 0.05, seed: 1 });
  const c = await applyTransform(flat, { op: 'noise', sigma: 0.05, seed: 2 });
  assert.deepEqual(a.data, b.data);
  assert.notDeepEqual(a.data, c.data);
  const mean = [...a.data].reduce((s, v) => s + v) / a.data.length;
  const sd = Math.sqrt([...a.data].reduce((s, v) => s + (v - mean) ** 2, 0) / a.data.length);
  assert.ok(Math.abs(mean - 128) < 1, `mean ${mean}`);
  assert.ok(Math.abs(sd - 0.05 * 255) < 1, `sd ${sd}`);
});

test('RGB images keep their channels through every transform', async () => {
  const rgb: RawImage = {
    data: Uint8Array.from({ length: 8 * 8 * 3 }, (_, i) => (i % 3 === 0 ? 200 : i % 3 === 1 ? 100 : 50)),
    width: 8,
    height: 8,
    channels: 3,
  };
  const out = await applyTransforms(rgb, [
    { op: 'flip' },
    { op: 'rotate', degrees: 7 },
    { op: 'shift', dx: 0.125, dy: 0 },
    { op: 'crop', scale: 0.75, x: 0.5, y: 0.5 },
    { op: 'brightness', factor: 0.5 },
    { op: 'contrast', factor: 0.8 },
    { op: 'blur', sigma: 0.5 },
    { op: 'noise', sigma: 0.01, seed: 3 },
  ]);
  assert.equal(out.channels, 3);
  assert.equal(out.data.length, 8 * 8 * 3);
  // A uniform colour stays (about) uniform: halved (100, 50, 25), then 0.8 of its distance from the grey mean 58.3.
  assert.ok(
    Math.abs(at(out, 4, 4, 0) - 91.7) <= 6 && Math.abs(at(out, 4, 4, 2) - 31.7) <= 6,
    String([...out.data.subarray(36 * 3, 36 * 3 + 3)]),
  );
});

test('a file is decoded upright without alpha, and the PNG written back decodes to the same pixels', async () => {
  // 3×2 grey+alpha PNG: the alpha is dropped.
  const png = await sharp(Uint8Array.from([10, 20, 30, 40, 50, 60]), { raw: { width: 3, height: 2, channels: 1 } })
    .ensureAlpha(1)
    .png()
    .toBuffer();
  const img = await decodeForTransform(png, 1);
  assert.deepEqual({ w: img.width, h: img.height, c: img.channels }, { w: 3, h: 2, c: 1 });
  assert.deepEqual([...img.data], [10, 20, 30, 40, 50, 60]);
  const again = await decodeForTransform(await encodeRawPng(img), 1);
  assert.equal((await decodeForTransform(png, 3)).data.length, 3 * 2 * 3);
  assert.deepEqual([...again.data], [...img.data]);
  await assert.rejects(decodeForTransform(Buffer.from('not an image'), 1), { name: 'ImageDecodeError' });
});

test('transforms are described in words', () => {
  assert.equal(describeTransform({ op: 'brightness', factor: 0.625 }), 'brightness ×0.63');
  assert.equal(describeTransform({ op: 'rotate', degrees: -7.25 }), 'rotate -7.3°');
  assert.equal(describeTransform({ op: 'shift', dx: 0.1, dy: -0.05 }), 'shift 10%, -5%');
});
