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
