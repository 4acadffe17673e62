// The one image preprocessing (decode → EXIF orientation → resize → channels → uint8 [C, H, W]),
// pinned on images made here with known pixel values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import {
  ImageDecodeError,
  encodePng,
  plainPngInfo,
  preprocessImage,
  readImageInfo,
  sharpImageInfo,
} from '../../../../src/core/data/images/preprocess';
import { interleavedToPlanar, scaleToUnit } from '../../../../src/core/data/images/pixels';

/** A raw HWC image as PNG (or another format). */
function encode(
  data: number[],
  width: number,
  height: number,
  channels: 1 | 2 | 3 | 4,
  format: 'png' | 'webp' | 'jpeg' = 'png',
): Promise<Buffer> {
  const img = sharp(Uint8Array.from(data), { raw: { width, height, channels } });
  return (
    format === 'png' ? img.png() : format === 'webp' ? img.webp({ lossless: true }) : img.jpeg({ quality: 100 })
  ).toBuffer();
}

test('a 2×2 RGB PNG comes out as planar [C, H, W] with its exact values, and as grey with the luma', async () => {
  // Pixels (row-major): red, green / blue, white.
  const png = await encode([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255], 2, 2, 3);
  const rgb = await preprocessImage(png, { height: 2, width: 2, channels: 3 });
  assert.deepEqual([...rgb.pixels], [255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255]);
  assert.deepEqual(rgb.source, {
    format: 'png',
    width: 2,
    height: 2,
    channels: 3,
    bitDepth: 8,
    hasAlpha: false,
    palette: false,
  });
  const grey = await preprocessImage(png, { height: 2, width: 2, channels: 1 });
  assert.equal(grey.pixels.length, 4);
  assert.equal(grey.pixels[3], 255);
  // Green is the brightest primary and blue the darkest (Rec. 601/709 weights).
  assert.ok(grey.pixels[1] > grey.pixels[0] && grey.pixels[0] > grey.pixels[2], `grey ${[...grey.pixels]}`);
});

test('a grey image keeps its values; as RGB its three planes are equal; WebP (lossless) decodes the same', async () => {
  const values = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110];
  const png = await encode(values, 4, 3, 1);
  const grey = await preprocessImage(png, { height: 3, width: 4, channels: 1 });
  assert.deepEqual([...grey.pixels], values);
  const rgb = await preprocessImage(png, { height: 3, width: 4, channels: 3 });
  assert.deepEqual([...rgb.pixels], [...values, ...values, ...values]);
  const webp = await encode(values, 4, 3, 1, 'webp');
  assert.deepEqual([...(await preprocessImage(webp, { height: 3, width: 4, channels: 1 })).pixels], values);
});

test('resizing a uniform image keeps its value; a half-black half-grey image halves to the same halves', async () => {
  const flat = await encode(new Array(8 * 6).fill(77), 8, 6, 1);
  const small = await preprocessImage(flat, { height: 3, width: 4, channels: 1 });
  assert.deepEqual([...small.pixels], new Array(12).fill(77));
  assert.deepEqual(small.source.width, 8);
  // A 16×16 image, left half 0, right half 200, halved: the halves stay 0 and 200 away from the edge
  // (a linear filter blends only the two columns at it) and the mean stays 100.
  const halves = Array.from({ length: 256 }, (_, i) => (i % 16 < 8 ? 0 : 200));
  const half = await preprocessImage(await encode(halves, 16, 16, 1), { height: 8, width: 8, channels: 1 });
  for (let r = 0; r < 8; r++) {
    assert.deepEqual([...half.pixels.subarray(r * 8, r * 8 + 3)], [0, 0, 0]);
    assert.deepEqual([...half.pixels.subarray(r * 8 + 5, r * 8 + 8)], [200, 200, 200]);
  }
  assert.ok(Math.abs(half.pixels.reduce((a, b) => a + b, 0) / 64 - 100) < 1);
});

test('RGBA drops alpha, palette and 16-bit PNGs decode to 8-bit values', async () => {
  const rgba = await encode([10, 20, 30, 0, 40, 50, 60, 255], 2, 1, 4);
  const out = await preprocessImage(rgba, { height: 1, width: 2, channels: 3 });
  assert.deepEqual([...out.pixels], [10, 40, 20, 50, 30, 60]);
  assert.equal(out.source.hasAlpha, true);
  const palette = await sharp(Uint8Array.from([255, 0, 0, 0, 0, 255]), { raw: { width: 2, height: 1, channels: 3 } })
    .png({ palette: true, colours: 2, dither: 0 })
    .toBuffer();
  const p = await preprocessImage(palette, { height: 1, width: 2, channels: 3 });
  assert.equal(p.source.palette, true);
  assert.deepEqual([...p.pixels], [255, 0, 0, 0, 0, 255]);
  // 16-bit grey (8-bit 128 and 255 widened to 0x8080 and 0xffff) → 128 and 255.
  const sixteen = await sharp(Uint8Array.from([128, 255]), { raw: { width: 2, height: 1, channels: 1 } })
    .toColourspace('grey16')
    .png()
    .toBuffer();
  const s = await preprocessImage(sixteen, { height: 1, width: 2, channels: 1 });
  assert.equal(s.source.bitDepth, 16);
  assert.deepEqual([...s.pixels], [128, 255]);
});

test("a plain PNG's header is read without sharp, exactly as sharp reads it; any other PNG goes to sharp", async () => {
  const px = (n: number) => Array.from({ length: n }, (_, i) => (i * 37) % 256);
  const read = await Promise.all([
    encode(px(12), 4, 3, 1),
    encode(px(24), 4, 3, 2),
    encode(px(36), 4, 3, 3),
    encode(px(48), 4, 3, 4),
    sharp(Uint8Array.from(px(12)), { raw: { width: 4, height: 3, channels: 1 } })
      .toColourspace('grey16')
      .png()
      .toBuffer(),
    sharp(Uint8Array.from(px(36)), { raw: { width: 4, height: 3, channels: 3 } })
      .toColourspace('rgb16')
      .png()
      .toBuffer(),
  ]);
  for (const png of read) {
    const fast = plainPngInfo(png);
    assert.ok(fast, 'read without sharp');
    assert.deepEqual(fast, await sharpImageInfo(png));
    assert.deepEqual(await readImageInfo(png), fast);
  }
  const toSharp = await Promise.all([
    // A palette, a grey PNG with EXIF orientation, a 1-bit grey PNG, a damaged header.
    sharp(Uint8Array.from([255, 0, 0, 0, 0, 255]), { raw: { width: 2, height: 1, channels: 3 } })
      .png({ palette: true, colours: 2, dither: 0 })
      .toBuffer(),
    encode(px(12), 4, 3, 1).then((b) => sharp(b).png().withMetadata({ orientation: 6 }).toBuffer()),
    sharp(Uint8Array.from(px(64).map((v) => (v > 127 ? 255 : 0))), { raw: { width: 8, height: 8, channels: 1 } })
      .png({ colours: 2, palette: false, compressionLevel: 9 })
      .toColourspace('b-w')
      .toBuffer(),
  ]);
  for (const png of toSharp) {
    const info = await readImageInfo(png);
    if (plainPngInfo(png)) assert.deepEqual(plainPngInfo(png), await sharpImageInfo(png));
    else assert.deepEqual(info, await sharpImageInfo(png));
  }
  assert.equal(plainPngInfo(toSharp[0]), undefined, 'palette');
  assert.equal(plainPngInfo(toSharp[1]), undefined, 'EXIF');
  assert.equal((await readImageInfo(toSharp[1])).orientation, 6);
  const damaged = Buffer.from(read[0]);
  damaged[17] ^= 0xff; // the width, so the IHDR checksum no longer matches
  assert.equal(plainPngInfo(damaged), undefined);
});

test('an EXIF-rotated JPEG is turned upright before resizing', async () => {
  // Stored 4 wide × 2 high, left half black and right half white; orientation 6 = rotate 90° clockwise to view.
  const raw = [0, 0, 255, 255, 0, 0, 255, 255];
  const jpeg = await sharp(Uint8Array.from(raw), { raw: { width: 4, height: 2, channels: 1 } })
    .jpeg({ quality: 100 })
    .withMetadata({ orientation: 6 })
    .toBuffer();
  const info = await readImageInfo(jpeg);
  assert.equal(info.orientation, 6);
  const out = await preprocessImage(jpeg, { height: 4, width: 2, channels: 1 });
  // Upright it is 2 wide × 4 high: the black half on top, white below.
  const rows = [0, 1, 2, 3].map((r) => (out.pixels[r * 2] + out.pixels[r * 2 + 1]) / 2);
  assert.ok(rows[0] < 40 && rows[3] > 215, `rows ${rows}`);
});

test('a file that is not an image, and a truncated PNG, throw ImageDecodeError', async () => {
  await assert.rejects(
    preprocessImage(Buffer.from('not an image at all'), { height: 2, width: 2, channels: 1 }),
    ImageDecodeError,
  );
  const png = await encode(
    new Array(64 * 64).fill(0).map((_, i) => (i * 7) % 256),
    64,
    64,
    1,
  );
  await assert.rejects(
    preprocessImage(png.subarray(0, png.length >> 1), { height: 64, width: 64, channels: 1 }),
    ImageDecodeError,
  );
});

test('scaleToUnit maps 0..255 to 0..1; interleavedToPlanar and encodePng round-trip', async () => {
  assert.deepEqual([...scaleToUnit(Uint8Array.from([0, 51, 255]))], [0, Math.fround(0.2), 1]);
  assert.deepEqual([...interleavedToPlanar(Uint8Array.from([1, 2, 3, 4, 5, 6]), 2, 3)], [1, 4, 2, 5, 3, 6]);
  const planar = Uint8Array.from([1, 2, 3, 4, 5, 6]);
  const png = await encodePng(planar, { height: 1, width: 2, channels: 3 });
  assert.deepEqual([...(await preprocessImage(png, { height: 1, width: 2, channels: 3 })).pixels], [...planar]);
});
