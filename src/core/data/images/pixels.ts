// Pixel layouts of preprocessed images (no decoder here, so the extension host can use it without
// loading sharp): planar uint8 [C, H, W] as models take it, interleaved HWC as decoders, canvases and
// encoders do, and the [0, 1] float scaling of the model input.
import type { ImageShape } from '../types';

/** HWC (as decoders give pixels) → CHW (as models take them). */
export function interleavedToPlanar(data: Uint8Array, pixels: number, channels: number): Uint8Array {
  if (channels === 1) return Uint8Array.from(data.subarray(0, pixels));
  const out = new Uint8Array(pixels * channels);
  for (let c = 0; c < channels; c++) {
    const plane = c * pixels;
    for (let p = 0, k = c; p < pixels; p++, k += channels) out[plane + p] = data[k];
  }
  return out;
}

/** Image `row` of uint8 [N, C, H, W] pixels, channels last (HWC), as canvases and PNG encoders take it. */
export function planarToInterleaved(pixels: Uint8Array, row: number, shape: ImageShape): Uint8Array {
  const n = shape.height * shape.width;
  const C = shape.channels;
  const base = row * n * C;
  const out = new Uint8Array(n * C);
  for (let c = 0; c < C; c++) for (let p = 0; p < n; p++) out[p * C + c] = pixels[base + c * n + p];
  return out;
}

/** uint8 pixels → float32 in [0, 1], the model input `image` [N, C, H, W]. */
export function scaleToUnit(pixels: Uint8Array): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = pixels[i] / 255;
  return out;
}

/** The size of a thumbnail of an image of `shape`: the same aspect, the longest side at most `maxSide`. */
export function thumbnailSize(shape: ImageShape, maxSide: number): { width: number; height: number } {
  const scale = Math.min(1, maxSide / Math.max(shape.height, shape.width));
  return { width: Math.max(1, Math.round(shape.width * scale)), height: Math.max(1, Math.round(shape.height * scale)) };
}

/** Nearest-neighbour thumbnail of image `row` of uint8 [N, C, H, W] pixels, channels last (as the panels draw). */
export function thumbnail(pixels: Uint8Array, row: number, shape: ImageShape, maxSide: number): number[] {
  const { height: H, width: W, channels: C } = shape;
  const { width: tw, height: th } = thumbnailSize(shape, maxSide);
  const base = row * C * H * W;
  const out = new Array<number>(th * tw * C);
  for (let y = 0; y < th; y++) {
    const sy = Math.min(H - 1, Math.floor(((y + 0.5) * H) / th));
    for (let x = 0; x < tw; x++) {
      const sx = Math.min(W - 1, Math.floor(((x + 0.5) * W) / tw));
      for (let k = 0; k < C; k++) out[(y * tw + x) * C + k] = pixels[base + k * H * W + sy * W + sx];
    }
  }
  return out;
}
