// The images of logged image requests, kept beside the request log so monitoring and Error Analysis
// see the pictures users sent. Written by the server (src/core/serve) through RequestLog.storeImage,
// read by monitoring and production data through the functions below.
//
// Layout (inside the log folder `.mlloop/deployments/<name>/`):
//   images/<sha256>.<png|jpg|webp>   one file per distinct image, named by the SHA-256 of the bytes the
//                                    client sent (the same picture sent twice is stored once)
// A request record (requests-*.jsonl) of an image request has, instead of the pixels in `inputs`,
//   "images": [LoggedImage, …]       one per row of the request, in row order (row k: instance k)
// where LoggedImage = {file, sha256, format, bytes, width, height, channels, thumbnail?, tensor?}:
// `file` is relative to the log folder; width/height/channels are those of the image as decoded
// (before preprocessing, alpha counted), even when the stored file is a thumbnail. An image of more
// than `maxImageBytes` (256 KiB by default) is stored as a thumbnail whose longer side is at most
// THUMBNAIL_SIDE pixels, in its own format (`thumbnail: true`). An FP32 `image` tensor sent to /infer
// is stored as the PNG of its pixels (×255, `tensor: true`).
//
// The files count toward the log's total cap: when logs and images together pass it, the oldest log
// files go first, then the images no kept record was written after (their mtime is refreshed each
// time they are sent again), then, if the images alone still pass it, the oldest images. A record may
// therefore name a file that is gone: readLoggedImage returns undefined for it.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeThumbnail, type SourceImageInfo } from '../data/images/preprocess';

export const IMAGES_DIR = 'images';
/** Images larger than this are kept as thumbnails. */
export const DEFAULT_MAX_IMAGE_BYTES = 256 * 1024;
/** The longer side of a thumbnail, in pixels. */
export const THUMBNAIL_SIDE = 256;

export type LoggedImageFormat = 'png' | 'jpeg' | 'webp';
const EXTENSION: Record<LoggedImageFormat, string> = { png: 'png', jpeg: 'jpg', webp: 'webp' };

/** One row's image in a logged request record (`images[k]`). */
export interface LoggedImage {
  /** Path of the stored file, relative to the log folder (`images/<sha256>.<ext>`). */
  file: string;
  /** SHA-256 (hex) of the bytes the client sent. */
  sha256: string;
  /** Format of the stored file. */
  format: LoggedImageFormat;
  /** Size of the image the client sent, in bytes. */
  bytes: number;
  /** The image as decoded, before preprocessing (not the thumbnail's). */
  width: number;
  height: number;
  /** Channels as stored in the sent file: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA. */
  channels: number;
  /** The stored file is a thumbnail (the sent image was larger than the limit). */
  thumbnail?: true;
  /** The request sent a float tensor; the stored file is its pixels as a PNG. */
  tensor?: true;
}

/** The formats a logged image is stored in (others, e.g. a TIFF, are stored as PNG). */
function storedFormat(format: string): LoggedImageFormat {
  return format === 'jpeg' || format === 'webp' ? format : 'png';
}

/** Stores the images of one log folder and keeps their total size for the log's cap. */
export class LoggedImageStore {
  readonly dir: string;
  /** Bytes of all stored image files. */
  totalBytes = 0;

  constructor(
    logDir: string,
    private readonly maxImageBytes = DEFAULT_MAX_IMAGE_BYTES,
  ) {
    this.dir = join(logDir, IMAGES_DIR);
    mkdirSync(this.dir, { recursive: true });
    for (const f of readdirSync(this.dir)) this.totalBytes += statSync(join(this.dir, f)).size;
  }

  /**
   * Keeps one sent image (`bytes`, already decoded once so `info` is known) and returns its record
   * entry. `pngOfTensor`: the image came as a float tensor and `bytes` is the PNG made of it.
   */
  async store(bytes: Uint8Array, info: SourceImageInfo, pngOfTensor = false): Promise<LoggedImage> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const thumbnail = bytes.length > this.maxImageBytes;
    const format = storedFormat(info.format);
    const file = `${IMAGES_DIR}/${sha256}.${EXTENSION[format]}`;
    const path = join(this.dir, `${sha256}.${EXTENSION[format]}`);
    const entry: LoggedImage = {
      file,
      sha256,
      format,
      bytes: bytes.length,
      width: info.width,
      height: info.height,
      channels: info.channels,
      ...(thumbnail ? { thumbnail: true as const } : {}),
      ...(pngOfTensor ? { tensor: true as const } : {}),
    };
    try {
      // Sent again: refresh its time, which decides when the cap may delete it.
      const now = new Date();
      utimesSync(path, now, now);
      return entry;
    } catch {
      // Not stored yet.
    }
    const data = thumbnail ? await encodeThumbnail(bytes, THUMBNAIL_SIDE, format) : bytes;
    try {
      writeFileSync(path, data, { flag: 'wx' });
      this.totalBytes += data.length;
    } catch (e) {
      // Another request stored the same picture meanwhile.
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    return entry;
  }

  /** Deletes the images last sent before `time` (ms since the epoch). */
  deleteOlderThan(time: number): void {
    for (const { path, size, mtime } of this.files())
      if (mtime < time) {
        unlinkSync(path);
        this.totalBytes -= size;
      }
  }

  /** Deletes the least recently sent images until the images take at most `bytes`. */
  shrinkTo(bytes: number): void {
    const files = this.files().sort((a, b) => a.mtime - b.mtime);
    for (const f of files) {
      if (this.totalBytes <= bytes) break;
      unlinkSync(f.path);
      this.totalBytes -= f.size;
    }
  }

  private files(): Array<{ path: string; size: number; mtime: number }> {
    return readdirSync(this.dir).flatMap((f) => {
      const path = join(this.dir, f);
      try {
        const s = statSync(path);
        return [{ path, size: s.size, mtime: s.mtimeMs }];
      } catch {
        return [];
      }
    });
  }
}

/**
 * The `images` of a request record as read from JSON, one per row (undefined for a malformed entry);
 * [] for a record without images.
 */
export function loggedImagesOf(record: unknown): Array<LoggedImage | undefined> {
  const images = record && typeof record === 'object' ? (record as { images?: unknown }).images : undefined;
  if (!Array.isArray(images)) return [];
  return images.map((x) => (isLoggedImage(x) ? x : undefined));
}

function isLoggedImage(x: unknown): x is LoggedImage {
  return (
    !!x &&
    typeof x === 'object' &&
    typeof (x as LoggedImage).file === 'string' &&
    /^images\/[0-9a-f]{64}\.(png|jpg|webp)$/.test((x as LoggedImage).file) &&
    Number.isInteger((x as LoggedImage).width) &&
    Number.isInteger((x as LoggedImage).height) &&
    Number.isInteger((x as LoggedImage).channels)
  );
}

/** Absolute path of a logged image's file. */
export function loggedImagePath(logDir: string, image: LoggedImage): string {
  return join(logDir, image.file);
}

/** The stored bytes of a logged image; undefined when the cap deleted it. */
export function readLoggedImage(logDir: string, image: LoggedImage): Buffer | undefined {
  try {
    return readFileSync(loggedImagePath(logDir, image));
  } catch {
    return undefined;
  }
}
