// THE image preprocessing of ML Loop, used everywhere an image becomes a model input (dataset loading
// for the Data panel and training inputs, evaluation, later the inference server): decode (PNG, JPEG,
// WebP, … with sharp/libvips) → turn by the EXIF orientation → resize to [height, width] (stretched,
// as torchvision's Resize((h, w)) does) → 1 channel (grey) or 3 (RGB, alpha dropped) → uint8 [C, H, W]
// (planar, channel-major). Models take the pixels scaled to [0, 1] as float32 (scaleToUnit).
// sharp decodes on libuv's thread pool, so the calling JavaScript thread only queues the work.
import type SharpModule from 'sharp';
import * as zlib from 'node:zlib';
import { interleavedToPlanar, planarToInterleaved } from './pixels';

export interface ImageSettings {
  height: number;
  width: number;
  /** 1 = grey, 3 = RGB. */
  channels: 1 | 3;
}

/** What the file held before preprocessing (for the audit and the error messages). */
export interface SourceImageInfo {
  format: string;
  width: number;
  height: number;
  /** Channels as stored (alpha included): 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA; palette images count as 3/4. */
  channels: number;
  /** Bits per sample: 8, 16, … ('uchar' → 8, 'ushort' → 16). */
  bitDepth: number;
  hasAlpha: boolean;
  palette: boolean;
  /** EXIF orientation 1-8 when the file has one (5-8 swap width and height). */
  orientation?: number;
}

export interface PreprocessedImage {
  /** uint8 [C, H, W] of the settings. */
  pixels: Uint8Array;
  source: SourceImageInfo;
}

/** File extensions read as images (lower case, with the dot). */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp'] as const;

export function isImageFileName(name: string): boolean {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((e) => lower.endsWith(e));
}

/** Images larger than this many pixels are refused before decoding (decompression bombs). */
export const MAX_IMAGE_PIXELS = 50_000_000;

/** The file is not an image sharp can read, or is damaged. `reason` is sharp's own words, shortened. */
export class ImageDecodeError extends Error {
  override name = 'ImageDecodeError';
  constructor(readonly reason: string) {
    super(reason);
  }
}

let sharpModule: typeof SharpModule | undefined;
/** sharp, loaded on first use: a native module that activation and table-only projects never load. */
export function sharp(): typeof SharpModule {
  if (!sharpModule) {
    sharpModule = require('sharp') as typeof SharpModule;
    // Tiny images are decoded faster one per libvips thread; libuv's pool still runs several at once.
    sharpModule.concurrency(1);
    // Decoded images are not reused: libvips' operation cache only costs memory here.
    sharpModule.cache(false);
  }
  return sharpModule;
}

const BIT_DEPTH: Record<string, number> = {
  uchar: 8,
  char: 8,
  ushort: 16,
  short: 16,
  uint: 32,
  int: 32,
  float: 32,
  double: 64,
};

function shortReason(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return (
    text
      .split('\n')[0]
      .replace(/^Input buffer (contains|has) /i, '')
      .trim() || 'unreadable image'
  );
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** PNG colour types read without sharp: grey, RGB, grey+alpha, RGBA → channels as sharp reports them. */
const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };
const crc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

/**
 * The header of a plain PNG read from its IHDR chunk, exactly as sharp's metadata() reports it, or
 * undefined for anything else (not a PNG, a palette, a tRNS or eXIf chunk, an odd depth, a damaged
 * header): those go to sharp. Why: on datasets of small PNGs a sharp call per header costs about
 * a fifth of the first audit's CPU, and the bytes are in hand already when they are hashed.
 */
export function plainPngInfo(bytes: Uint8Array): SourceImageInfo | undefined {
  if (bytes.length < 33 || !crc32 || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(8) !== 13 || String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') return undefined;
  if (crc32(bytes.subarray(12, 29)) !== view.getUint32(29)) return undefined;
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const depth = bytes[24];
  const channels = PNG_CHANNELS[bytes[25]];
  if (!width || !height || width * height > MAX_IMAGE_PIXELS || !channels || (depth !== 8 && depth !== 16))
    return undefined;
  // The other chunks' names (their data skipped): transparency and EXIF change what sharp reports.
  for (let at = 33; at + 8 <= bytes.length;) {
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (type === 'tRNS' || type === 'eXIf') return undefined;
    if (type === 'IEND') break;
    at += 12 + view.getUint32(at);
  }
  return {
    format: 'png',
    width,
    height,
    channels,
    bitDepth: depth,
    hasAlpha: channels === 2 || channels === 4,
    palette: false,
  };
}

/** Reads the header of an image (format, size, channels, depth, orientation) without decoding its pixels. */
export async function readImageInfo(bytes: Uint8Array): Promise<SourceImageInfo> {
  return plainPngInfo(bytes) ?? sharpImageInfo(bytes);
}

/** The header as sharp's metadata() reads it (any format). */
export async function sharpImageInfo(bytes: Uint8Array): Promise<SourceImageInfo> {
  let meta: SharpModule.Metadata;
  try {
    // Only the header is read: the pixel limit is checked below, naming the size.
    meta = await sharp()(bytes, { limitInputPixels: false }).metadata();
  } catch (e) {
    throw new ImageDecodeError(shortReason(e));
  }
  if (!meta.width || !meta.height || !meta.format) throw new ImageDecodeError('no image size in the file');
  if (meta.width * meta.height > MAX_IMAGE_PIXELS)
    throw new ImageDecodeError(
      `${meta.width}×${meta.height} = ${meta.width * meta.height} pixels, more than the limit of ${MAX_IMAGE_PIXELS} (not decoded)`,
    );
  return {
    format: meta.format === 'jpeg' ? 'jpeg' : meta.format,
    width: meta.width,
    height: meta.height,
    channels: meta.channels ?? 3,
    bitDepth: BIT_DEPTH[meta.depth ?? 'uchar'] ?? 8,
    hasAlpha: meta.hasAlpha ?? false,
    palette: meta.isPalette ?? false,
    ...(meta.orientation && meta.orientation !== 1 ? { orientation: meta.orientation } : {}),
  };
}

/** The image's size once turned upright by its EXIF orientation. */
export function uprightSize(info: SourceImageInfo): { width: number; height: number } {
  return info.orientation && info.orientation >= 5
    ? { width: info.height, height: info.width }
    : { width: info.width, height: info.height };
}

/**
 * Decodes and preprocesses one encoded image. Throws ImageDecodeError for a file that is not an image,
 * a truncated one, or one above MAX_IMAGE_PIXELS.
 */
export async function preprocessImage(
  bytes: Uint8Array,
  settings: ImageSettings,
  info?: SourceImageInfo,
): Promise<PreprocessedImage> {
  const source = info ?? (await readImageInfo(bytes));
  const { width, height, channels } = settings;
  // failOn 'truncated': a cut-off file is an error, not an image with a grey bottom half.
  let pipeline = sharp()(bytes, { limitInputPixels: MAX_IMAGE_PIXELS, failOn: 'truncated' });
  if (source.orientation) pipeline = pipeline.autoOrient();
  const upright = uprightSize(source);
  if (upright.width !== width || upright.height !== height)
    pipeline = pipeline.resize(width, height, { fit: 'fill', kernel: 'linear' });
  pipeline = pipeline.removeAlpha();
  pipeline = channels === 1 ? pipeline.toColourspace('b-w') : pipeline.toColourspace('srgb');
  let data: Buffer;
  let out: SharpModule.OutputInfo;
  try {
    ({ data, info: out } = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true }));
  } catch (e) {
    throw new ImageDecodeError(shortReason(e));
  }
  if (out.width !== width || out.height !== height || out.channels !== channels) {
    throw new ImageDecodeError(
      `decoded to ${out.width}×${out.height}×${out.channels}, expected ${width}×${height}×${channels}`,
    );
  }
  return { pixels: interleavedToPlanar(data, width * height, channels), source };
}

/** Encodes uint8 [C, H, W] pixels as a PNG (thumbnails for the panels). */
export async function encodePng(pixels: Uint8Array, settings: ImageSettings): Promise<Buffer> {
  const { width, height, channels } = settings;
  return sharp()(planarToInterleaved(pixels, 0, settings), { raw: { width, height, channels } })
    .png()
    .toBuffer();
}

/**
 * A smaller copy of an encoded image, upright, its longer side at most `side` pixels, in `format`
 * (the request log keeps these for images past its size limit).
 */
export async function encodeThumbnail(
  bytes: Uint8Array,
  side: number,
  format: 'png' | 'jpeg' | 'webp',
): Promise<Buffer> {
  try {
    return await sharp()(bytes, { limitInputPixels: MAX_IMAGE_PIXELS })
      .autoOrient()
      .resize(side, side, { fit: 'inside', withoutEnlargement: true })
      .toFormat(format)
      .toBuffer();
  } catch (e) {
    throw new ImageDecodeError(shortReason(e));
  }
}
