// What an image has, measured on its preprocessed pixels (uint8 [C, H, W]): the audit's checks
// (dark, light, blurry, low information, grey in an RGB set), Error Analysis' slices, later the
// monitoring reference. Plus a perceptual hash for near duplicates: the DCT hash (pHash) of a 32×32
// grey copy, 64 bits, unchanged by a uniform change of brightness or contrast and by mild blur.

export interface ImageProperties {
  /** Mean grey level, 0 (black) … 1 (white). */
  brightness: number;
  /** Standard deviation of the grey levels, 0 … 0.5. */
  contrast: number;
  /** Variance of the Laplacian of the grey levels over their variance (0 … 64): low = blurry; a uniform image has 0. */
  sharpness: number;
  /** Shannon entropy of the grey-level histogram in bits (0 … 8): low = little information. */
  entropy: number;
  /** Mean absolute difference between the colour channels (0 for grey pixels; 0 when C = 1). */
  colourfulness: number;
  /** 64-bit perceptual hash as two 32-bit halves. */
  phashHi: number;
  phashLo: number;
  /** FNV-1a hash of the pixels (equal pixels ⇒ equal hash): exact duplicates after decoding. */
  pixelHash: number;
}

/** The numeric properties in a fixed order (how the cache stores them). */
export const PROPERTY_NAMES = [
  'brightness',
  'contrast',
  'sharpness',
  'entropy',
  'colourfulness',
  'phashHi',
  'phashLo',
  'pixelHash',
] as const;

function greyOf(pixels: Uint8Array, n: number, channels: number): Float32Array {
  const grey = new Float32Array(n);
  if (channels === 1) {
    for (let p = 0; p < n; p++) grey[p] = pixels[p] / 255;
    return grey;
  }
  for (let p = 0; p < n; p++) grey[p] = (0.299 * pixels[p] + 0.587 * pixels[n + p] + 0.114 * pixels[2 * n + p]) / 255;
  return grey;
}

const HASH_SIZE = 32;
const LOW = 8;
// DCT-II basis of the 8 lowest frequencies over 32 samples.
const DCT = (() => {
  const m = new Float64Array(LOW * HASH_SIZE);
  for (let u = 0; u < LOW; u++)
    for (let x = 0; x < HASH_SIZE; x++) m[u * HASH_SIZE + x] = Math.cos(((2 * x + 1) * u * Math.PI) / (2 * HASH_SIZE));
  return m;
})();

/** Bilinear resample of a grey image to 32×32 (pixel centres aligned). */
function resample32(grey: Float32Array, h: number, w: number): Float64Array {
  const out = new Float64Array(HASH_SIZE * HASH_SIZE);
  for (let y = 0; y < HASH_SIZE; y++) {
    const sy = Math.min(h - 1, Math.max(0, ((y + 0.5) * h) / HASH_SIZE - 0.5));
    const y0 = Math.floor(sy);
    const y1 = Math.min(h - 1, y0 + 1);
    const fy = sy - y0;
    for (let x = 0; x < HASH_SIZE; x++) {
      const sx = Math.min(w - 1, Math.max(0, ((x + 0.5) * w) / HASH_SIZE - 0.5));
      const x0 = Math.floor(sx);
      const x1 = Math.min(w - 1, x0 + 1);
      const fx = sx - x0;
      const top = grey[y0 * w + x0] * (1 - fx) + grey[y0 * w + x1] * fx;
      const bottom = grey[y1 * w + x0] * (1 - fx) + grey[y1 * w + x1] * fx;
      out[y * HASH_SIZE + x] = top * (1 - fy) + bottom * fy;
    }
  }
  return out;
}

/** pHash: the 8×8 lowest DCT frequencies of the 32×32 grey copy, each bit = above the median (DC left out of the median). */
export function perceptualHash(grey: Float32Array, h: number, w: number): [number, number] {
  const img = resample32(grey, h, w);
  const rows = new Float64Array(HASH_SIZE * LOW); // per row y, the 8 horizontal frequencies
  for (let y = 0; y < HASH_SIZE; y++) {
    for (let u = 0; u < LOW; u++) {
      let s = 0;
      for (let x = 0; x < HASH_SIZE; x++) s += img[y * HASH_SIZE + x] * DCT[u * HASH_SIZE + x];
      rows[y * LOW + u] = s;
    }
  }
  const coeffs = new Float64Array(LOW * LOW);
  for (let v = 0; v < LOW; v++) {
    for (let u = 0; u < LOW; u++) {
      let s = 0;
      for (let y = 0; y < HASH_SIZE; y++) s += rows[y * LOW + u] * DCT[v * HASH_SIZE + y];
      coeffs[v * LOW + u] = s;
    }
  }
  const sorted = Array.from(coeffs.subarray(1)).sort((a, b) => a - b);
  const median = (sorted[31] + sorted[32]) / 2;
  let hi = 0;
  let lo = 0;
  for (let k = 0; k < 64; k++) {
    if (coeffs[k] > median) {
      if (k < 32) hi |= 1 << k;
      else lo |= 1 << (k - 32);
    }
  }
  return [hi >>> 0, lo >>> 0];
}

/** Number of differing bits between two 64-bit hashes. */
export function hammingDistance(aHi: number, aLo: number, bHi: number, bLo: number): number {
  return popcount32((aHi ^ bHi) >>> 0) + popcount32((aLo ^ bLo) >>> 0);
}

function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** The properties of one preprocessed image. */
export function imageProperties(pixels: Uint8Array, height: number, width: number, channels: number): ImageProperties {
  const n = height * width;
  const grey = greyOf(pixels, n, channels);
  let sum = 0;
  const histogram = new Float64Array(256);
  for (let p = 0; p < n; p++) {
    sum += grey[p];
    histogram[Math.min(255, Math.round(grey[p] * 255))]++;
  }
  const mean = sum / n;
  let varSum = 0;
  for (let p = 0; p < n; p++) varSum += (grey[p] - mean) ** 2;
  let entropy = 0;
  for (const c of histogram) if (c > 0) entropy -= (c / n) * Math.log2(c / n);
  // Laplacian over the interior (an image smaller than 3×3 has none: sharpness 0).
  let lapSum = 0;
  let lapSq = 0;
  let lapN = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const p = y * width + x;
      const l = grey[p - width] + grey[p + width] + grey[p - 1] + grey[p + 1] - 4 * grey[p];
      lapSum += l;
      lapSq += l * l;
      lapN++;
    }
  }
  // Relative to the image's own contrast, so that a darker or fainter copy is not "blurrier".
  const greyVar = varSum / n;
  const sharpness = lapN && greyVar > 1e-8 ? (lapSq / lapN - (lapSum / lapN) ** 2) / greyVar : 0;
  let colourfulness = 0;
  if (channels === 3) {
    let d = 0;
    for (let p = 0; p < n; p++)
      d +=
        Math.abs(pixels[p] - pixels[n + p]) +
        Math.abs(pixels[n + p] - pixels[2 * n + p]) +
        Math.abs(pixels[p] - pixels[2 * n + p]);
    colourfulness = d / (3 * n * 255);
  }
  let fnv = 0x811c9dc5;
  for (let i = 0; i < pixels.length; i++) fnv = Math.imul(fnv ^ pixels[i], 0x01000193);
  const [phashHi, phashLo] = perceptualHash(grey, height, width);
  return {
    brightness: mean,
    contrast: Math.sqrt(varSum / n),
    sharpness,
    entropy,
    colourfulness,
    phashHi,
    phashLo,
    pixelHash: fnv >>> 0,
  };
}

/**
 * The properties monitoring compares between training images and production ones (drift): what the
 * preprocessed picture looks like, and the size it was sent at (upright width and height, aspect =
 * width ÷ height). The stored channel count (1 grey, 3 RGB, 4 RGBA, …) is compared as a category.
 */
export const MONITORED_PROPERTIES = [
  'brightness',
  'contrast',
  'sharpness',
  'entropy',
  'colourfulness',
  'width',
  'height',
  'aspect',
] as const;
export const MONITORED_CHANNELS = 'channels';

/** MONITORED_PROPERTIES of one image: its preprocessed pixels (uint8 [C, H, W]) and its upright source size. */
export function monitoredProperties(
  pixels: Uint8Array,
  shape: { height: number; width: number; channels: number },
  source: { width: number; height: number },
): number[] {
  const p = imageProperties(pixels, shape.height, shape.width, shape.channels);
  return [
    p.brightness,
    p.contrast,
    p.sharpness,
    p.entropy,
    p.colourfulness,
    source.width,
    source.height,
    source.width / source.height,
  ];
}
