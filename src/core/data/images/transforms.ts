// Image transforms for targeted augmentation: flips, small rotations and shifts, crops, brightness,
// contrast, blur and noise, applied to an image FILE at its own resolution (the new file is then
// preprocessed like any other by ./preprocess.ts when a data version is loaded). Each transform is
// one sharp (libvips) pipeline on raw pixels, so transforms compose in the order given (one sharp
// pipeline reorders its operations). Noise is drawn here from a seeded generator: sharp's own noise
// cannot be seeded, and a data version must be the same for the same recipe.
import type SharpModule from 'sharp';
import { mulberry32 } from '../prng';
import { MAX_IMAGE_PIXELS, ImageDecodeError, sharp } from './preprocess';

export type ImageTransform =
  /** Mirror left ↔ right. */
  | { op: 'flip' }
  /** Turn about the centre by `degrees` (clockwise), the corners filled with the border's mean colour. */
  | { op: 'rotate'; degrees: number }
  /** Move the content by dx, dy (shares of the width and height; + = right, down), filled as rotate. */
  | { op: 'shift'; dx: number; dy: number }
  /** Keep `scale` (0 < scale ≤ 1) of each side, at (x, y) ∈ [0, 1]² of the room left, resized back to the full size. */
  | { op: 'crop'; scale: number; x: number; y: number }
  /** Multiply every pixel by `factor` (< 1 darker). */
  | { op: 'brightness'; factor: number }
  /** Scale the distance of each pixel from the image's mean by `factor` (< 1 flatter). */
  | { op: 'contrast'; factor: number }
  /** Gaussian blur of standard deviation `sigma` pixels (≥ 0.3). */
  | { op: 'blur'; sigma: number }
  /** Add Gaussian noise of standard deviation `sigma` (a share of the 0-255 range), drawn from `seed`. */
  | { op: 'noise'; sigma: number; seed: number };

export type TransformOp = ImageTransform['op'];

export const TRANSFORM_OPS: readonly TransformOp[] = [
  'flip',
  'rotate',
  'shift',
  'crop',
  'brightness',
  'contrast',
  'blur',
  'noise',
];

/** Decoded pixels, interleaved (HWC), upright, without alpha. */
export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3;
}

function raw(img: RawImage): SharpModule.Sharp {
  return sharp()(img.data, { raw: { width: img.width, height: img.height, channels: img.channels } });
}

async function toRaw(pipeline: SharpModule.Sharp, channels: 1 | 3): Promise<RawImage> {
  const p = pipeline.removeAlpha().toColourspace(channels === 1 ? 'b-w' : 'srgb');
  const { data, info } = await p.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    width: info.width,
    height: info.height,
    channels,
  };
}

/**
 * Decodes an image file's bytes for transforming: turned upright by its EXIF orientation, alpha
 * dropped, as `channels` (the project's: 1 grey, 3 RGB) at the file's own size.
 */
export async function decodeForTransform(bytes: Uint8Array, channels: 1 | 3): Promise<RawImage> {
  try {
    return await toRaw(
      sharp()(bytes, { limitInputPixels: MAX_IMAGE_PIXELS, failOn: 'truncated' }).autoOrient(),
      channels,
    );
  } catch (e) {
    throw new ImageDecodeError(e instanceof Error ? e.message.split('\n')[0] : String(e));
  }
}

/** The mean colour of the image's outermost pixels: what rotations and shifts fill the uncovered corners with. */
export function borderColour(img: RawImage): number[] {
  const { data, width: W, height: H, channels: C } = img;
  const sum = new Array<number>(C).fill(0);
  let n = 0;
  const add = (x: number, y: number) => {
    for (let c = 0; c < C; c++) sum[c] += data[(y * W + x) * C + c];
    n++;
  };
  for (let x = 0; x < W; x++) {
    add(x, 0);
    if (H > 1) add(x, H - 1);
  }
  for (let y = 1; y < H - 1; y++) {
    add(0, y);
    if (W > 1) add(W - 1, y);
  }
  return sum.map((s) => Math.round(s / Math.max(1, n)));
}

function background(img: RawImage): SharpModule.RGBA {
  const c = borderColour(img);
  return img.channels === 1 ? { r: c[0], g: c[0], b: c[0], alpha: 1 } : { r: c[0], g: c[1], b: c[2], alpha: 1 };
}

function mean(img: RawImage): number {
  let s = 0;
  for (const v of img.data) s += v;
  return s / Math.max(1, img.data.length);
}

/** Standard normal from two uniforms (Box–Muller). */
function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/** One transform of an image; the result has the image's size and channels. */
export async function applyTransform(img: RawImage, t: ImageTransform): Promise<RawImage> {
  const { width: W, height: H, channels: C } = img;
  switch (t.op) {
    case 'flip':
      return toRaw(raw(img).flop(), C);
    case 'rotate': {
      const turned = await toRaw(raw(img).rotate(t.degrees, { background: background(img) }), C);
      // The turned canvas is larger: its centre, at the original size.
      const left = Math.floor((turned.width - W) / 2);
      const top = Math.floor((turned.height - H) / 2);
      return toRaw(raw(turned).extract({ left, top, width: W, height: H }), C);
    }
    case 'shift': {
      const dx = Math.round(t.dx * W);
      const dy = Math.round(t.dy * H);
      if (Math.abs(dx) >= W || Math.abs(dy) >= H)
        throw new RangeError(`A shift of ${dx}, ${dy} pixels leaves nothing of a ${W}×${H} image`);
      if (!dx && !dy) return img;
      const padded = raw(img).extend({
        left: Math.max(dx, 0),
        right: Math.max(-dx, 0),
        top: Math.max(dy, 0),
        bottom: Math.max(-dy, 0),
        background: background(img),
      });
      const moved = await toRaw(padded, C);
      return toRaw(raw(moved).extract({ left: Math.max(-dx, 0), top: Math.max(-dy, 0), width: W, height: H }), C);
    }
    case 'crop': {
      if (!(t.scale > 0 && t.scale <= 1))
        throw new RangeError(`A crop keeps a share of each side in (0, 1], not ${t.scale}`);
      const w = Math.max(1, Math.round(W * t.scale));
      const h = Math.max(1, Math.round(H * t.scale));
      const left = Math.round((W - w) * Math.min(1, Math.max(0, t.x)));
      const top = Math.round((H - h) * Math.min(1, Math.max(0, t.y)));
      return toRaw(
        raw(img).extract({ left, top, width: w, height: h }).resize(W, H, { fit: 'fill', kernel: 'linear' }),
        C,
      );
    }
    case 'brightness':
      return toRaw(raw(img).linear(t.factor, 0), C);
    case 'contrast': {
      const m = mean(img);
      return toRaw(raw(img).linear(t.factor, m * (1 - t.factor)), C);
    }
    case 'blur':
      return toRaw(raw(img).blur(Math.max(0.3, t.sigma)), C);
    case 'noise': {
      const rand = mulberry32(t.seed ^ 0x51ed270b);
      const s = t.sigma * 255;
      const data = new Uint8Array(img.data.length);
      for (let i = 0; i < data.length; i++)
        data[i] = Math.min(255, Math.max(0, Math.round(img.data[i] + s * gaussian(rand))));
      return { ...img, data };
    }
  }
}

/** The transforms in order. */
export async function applyTransforms(img: RawImage, transforms: readonly ImageTransform[]): Promise<RawImage> {
  let out = img;
  for (const t of transforms) out = await applyTransform(out, t);
  return out;
}

/** Lossless PNG of transformed pixels (what a data version stores). */
export async function encodeRawPng(img: RawImage): Promise<Buffer> {
  return raw(img).png({ compressionLevel: 9 }).toBuffer();
}

const round = (x: number, d = 2) => Number(x.toFixed(d));

/** A transform in words, for provenance lists and previews: "brightness ×0.62". */
export function describeTransform(t: ImageTransform): string {
  switch (t.op) {
    case 'flip':
      return 'flip';
    case 'rotate':
      return `rotate ${round(t.degrees, 1)}°`;
    case 'shift':
      return `shift ${round(t.dx * 100, 0)}%, ${round(t.dy * 100, 0)}%`;
    case 'crop':
      return `crop ${round(t.scale * 100, 0)}%`;
    case 'brightness':
      return `brightness ×${round(t.factor)}`;
    case 'contrast':
      return `contrast ×${round(t.factor)}`;
    case 'blur':
      return `blur σ ${round(t.sigma, 1)}`;
    case 'noise':
      return `noise σ ${round(t.sigma, 3)}`;
  }
}
