// The decoded-image cache under .mlloop/cache/images: preprocessed pixels (uint8 [C, H, W]) and
// properties of each image, found by the sha256 of the file's bytes and the image settings, so that
// opening an image dataset again decodes nothing, and changing one file decodes only that file.
// One entry per settings ([H, W, C] and the preprocessing version): "MLIC", u32-LE header length, the
// header (JSON: format, settings, the content hashes in slot order), zero padding to 8 bytes, then
// pixels (n·C·H·W bytes) and properties (float64 n·PROPERTY_NAMES.length), each 8-byte aligned.
// Headers (format, size, mode) of every file seen are kept in info.json, keyed by content hash too.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { imageCacheDir } from '../../spec/layout';
import { pruneCacheEntries } from '../datasetCache';
import type { ImageSettings, SourceImageInfo } from './preprocess';
import { PROPERTY_NAMES } from './properties';

/** Bump when preprocessing or the properties change: older entries are then never read. */
export const IMAGE_CACHE_FORMAT = 'mlic-3';
/** Settings kept per project (the newest by use). */
export const IMAGE_CACHE_ENTRIES = 3;
const MAGIC = 0x4349_4c4d; // "MLIC" little-endian
const pad8 = (x: number) => (x + 7) & ~7;

export function settingsKey(s: ImageSettings): string {
  return `${IMAGE_CACHE_FORMAT}-${s.height}x${s.width}x${s.channels}`;
}

/** What a header read said: the file's info, or why it is not an image. */
export type InfoEntry = SourceImageInfo | { error: string };

export async function readInfoCache(projectDir: string): Promise<Map<string, InfoEntry>> {
  try {
    const parsed = JSON.parse(await readFile(join(imageCacheDir(projectDir), 'info.json'), 'utf8')) as {
      format: string;
      info: Record<string, InfoEntry>;
    };
    return parsed.format === IMAGE_CACHE_FORMAT ? new Map(Object.entries(parsed.info)) : new Map();
  } catch {
    return new Map();
  }
}

export async function writeInfoCache(projectDir: string, info: Map<string, InfoEntry>): Promise<void> {
  await atomicWrite(
    join(imageCacheDir(projectDir), 'info.json'),
    Buffer.from(JSON.stringify({ format: IMAGE_CACHE_FORMAT, info: Object.fromEntries(info) })),
  );
}

/** Content hashes of files by path, valid while the file's size, mtime and inode are unchanged (as
 *  git's index does): a cached open stats the files instead of reading and hashing them again. */
export type HashMemo = Map<string, [size: number, mtimeMs: number, ino: number, hash: string]>;

export async function readHashMemo(projectDir: string): Promise<HashMemo> {
  try {
    const parsed = JSON.parse(await readFile(join(imageCacheDir(projectDir), 'hashes.json'), 'utf8')) as {
      format: string;
      files: Record<string, [number, number, number, string]>;
    };
    return parsed.format === IMAGE_CACHE_FORMAT ? new Map(Object.entries(parsed.files)) : new Map();
  } catch {
    return new Map();
  }
}

export async function writeHashMemo(projectDir: string, memo: HashMemo): Promise<void> {
  await atomicWrite(
    join(imageCacheDir(projectDir), 'hashes.json'),
    Buffer.from(JSON.stringify({ format: IMAGE_CACHE_FORMAT, files: Object.fromEntries(memo) })),
  );
}

/** The audit of the last collection audited, keyed by what it was computed from (the image cache's key,
 *  the data version and the split): a second `ml-loop profile` of unchanged images reads it back. */
export async function readAuditCache<T>(projectDir: string, key: string): Promise<T | undefined> {
  try {
    const parsed = JSON.parse(await readFile(join(imageCacheDir(projectDir), 'audit.json'), 'utf8')) as {
      format: string;
      key: string;
      audit: T;
    };
    return parsed.format === IMAGE_CACHE_FORMAT && parsed.key === key ? parsed.audit : undefined;
  } catch {
    return undefined;
  }
}

export async function writeAuditCache(projectDir: string, key: string, audit: unknown): Promise<void> {
  await atomicWrite(
    join(imageCacheDir(projectDir), 'audit.json'),
    Buffer.from(JSON.stringify({ format: IMAGE_CACHE_FORMAT, key, audit })),
  );
}

/** Decoded images of one settings key: slot per content hash. */
export interface DecodedImages {
  settings: ImageSettings;
  hashes: string[];
  /** uint8 [n, C, H, W]. */
  pixels: Uint8Array;
  /** float64 [n, PROPERTY_NAMES.length]. */
  properties: Float64Array;
}

export async function readImageCache(projectDir: string, settings: ImageSettings): Promise<DecodedImages | undefined> {
  let buf: Buffer;
  try {
    buf = await readFile(join(imageCacheDir(projectDir), `${settingsKey(settings)}.bin`));
  } catch {
    return undefined;
  }
  try {
    if (buf.length < 8 || buf.readUInt32LE(0) !== MAGIC) return undefined;
    const headerLen = buf.readUInt32LE(4);
    const header = JSON.parse(buf.toString('utf8', 8, 8 + headerLen)) as {
      format: string;
      settings: ImageSettings;
      hashes: string[];
    };
    const s = header.settings;
    if (
      header.format !== IMAGE_CACHE_FORMAT ||
      s.height !== settings.height ||
      s.width !== settings.width ||
      s.channels !== settings.channels
    )
      return undefined;
    const n = header.hashes.length;
    const size = s.height * s.width * s.channels;
    let off = pad8(8 + headerLen);
    const pixelBytes = n * size;
    const propBytes = n * PROPERTY_NAMES.length * 8;
    if (off + pad8(pixelBytes) + propBytes > buf.length) return undefined;
    const pixels = new Uint8Array(buf.buffer, buf.byteOffset + off, pixelBytes);
    off += pad8(pixelBytes);
    const properties = new Float64Array(buf.buffer.slice(buf.byteOffset + off, buf.byteOffset + off + propBytes));
    return { settings, hashes: header.hashes, pixels, properties };
  } catch {
    return undefined; // a damaged entry is a miss
  }
}

export async function writeImageCache(projectDir: string, images: DecodedImages): Promise<void> {
  const header = Buffer.from(
    JSON.stringify({ format: IMAGE_CACHE_FORMAT, settings: images.settings, hashes: images.hashes }),
    'utf8',
  );
  const start = pad8(8 + header.length);
  const prefix = Buffer.alloc(start);
  prefix.writeUInt32LE(MAGIC, 0);
  prefix.writeUInt32LE(header.length, 4);
  header.copy(prefix, 8);
  const pixelPad = new Uint8Array(pad8(images.pixels.length) - images.pixels.length);
  const props = new Uint8Array(images.properties.buffer, images.properties.byteOffset, images.properties.byteLength);
  await atomicWrite(
    join(imageCacheDir(projectDir), `${settingsKey(images.settings)}.bin`),
    Buffer.concat([prefix, images.pixels, pixelPad, props]),
  );
  await pruneCacheEntries(imageCacheDir(projectDir), IMAGE_CACHE_ENTRIES);
}

async function atomicWrite(file: string, data: Buffer): Promise<void> {
  await mkdir(join(file, '..'), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, file);
}
