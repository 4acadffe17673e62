// Pictures in: encoded image files (a raw `image/*` body, base64 in JSON, a BYTES tensor) decoded and
// preprocessed exactly as the model was trained (THE preprocessing of src/core/data/images/preprocess.ts,
// with the settings the model carries in its metadata: ../data/images/modelMetadata.ts) into the
// model's image tensor. Limits: the header is read first and an image of more than MAX_IMAGE_PIXELS
// pixels is refused before its pixels are decoded (decompression bombs); a file that is not an
// image is a 400 naming the request element and the decoder's reason.
import * as ort from 'onnxruntime-node';
import {
  encodePng,
  ImageDecodeError,
  preprocessImage,
  readImageInfo,
  type SourceImageInfo,
} from '../data/images/preprocess';
import { scaleToUnit } from '../data/images/pixels';
import type { ImagePreprocessing } from '../data/images/modelMetadata';
import { BadRequest } from './errors';
import { base64File, timeoutParameter } from './infer';
import type { ServedVersion } from './model';

/** Body content types read as one encoded image by /predict. */
export const IMAGE_CONTENT_TYPES = ['image/png', 'image/jpeg', 'image/webp'] as const;

export function isImageContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const type = contentType.split(';')[0].trim().toLowerCase();
  return (IMAGE_CONTENT_TYPES as readonly string[]).includes(type);
}

/** One image as the client sent it, with what its header says (the request log keeps both). */
export interface SentImage {
  bytes: Uint8Array;
  info: SourceImageInfo;
  /** The client sent a float tensor: `bytes` is a PNG made of its pixels. */
  fromTensor?: boolean;
}

export interface DecodedImages {
  /** The model's image input, float32 [N, C, H, W] in [0, 1]. */
  tensor: ort.Tensor;
  images: SentImage[];
}

/** The image preprocessing of a model, or a 400 saying the model takes no images. */
export function imageSettingsOf(v: ServedVersion): ImagePreprocessing {
  if (!v.image)
    throw new BadRequest(
      `model "${v.model}" takes no images: its ONNX metadata has no image preprocessing (the "image_preprocessing" entry ML Loop writes for image models)`,
    );
  return v.image;
}

/**
 * Decodes and preprocesses encoded image files into the model's image tensor. `where(k)` names file k
 * in errors ("the body", "instances[2]"). Decoding runs on libuv's thread pool (sharp).
 */
export async function decodeImages(
  v: ServedVersion,
  files: Uint8Array[],
  where: (k: number) => string,
): Promise<DecodedImages> {
  const settings = imageSettingsOf(v);
  if (files.length === 0) throw new BadRequest('no image in the request');
  const size = settings.channels * settings.height * settings.width;
  const pixels = new Uint8Array(files.length * size);
  const images = await Promise.all(
    files.map(async (bytes, k): Promise<SentImage> => {
      if (bytes.length === 0) throw new BadRequest(`${where(k)} is empty; expected an image file (PNG, JPEG or WebP)`);
      try {
        // The header first: a decompression bomb is refused there (MAX_IMAGE_PIXELS), before any pixel is decoded.
        const info = await readImageInfo(bytes);
        const p = await preprocessImage(bytes, settings, info);
        pixels.set(p.pixels, k * size);
        return { bytes, info };
      } catch (e) {
        if (e instanceof ImageDecodeError)
          throw new BadRequest(`${where(k)} is not an image the server can read (PNG, JPEG or WebP): ${e.reason}`);
        throw e;
      }
    }),
  );
  return {
    tensor: new ort.Tensor('float32', scaleToUnit(pixels), [
      files.length,
      settings.channels,
      settings.height,
      settings.width,
    ]),
    images,
  };
}

/** What /predict of an image model was sent. */
export interface ImagePredictRequest {
  files: Buffer[];
  /** A raw image body: the response is one prediction, not a list. */
  single: boolean;
  timeoutUs?: number;
}

/**
 * `/predict` of an image model: a raw image body (`Content-Type: image/png|jpeg|webp`), or JSON
 * `{"instances": [{"<input>": {"b64": "…"}} | {"b64": "…"}, …]}` (TF Serving's and KServe v1's convention).
 */
export function parseImagePredict(
  v: ServedVersion,
  body: Buffer,
  contentType: string | undefined,
): ImagePredictRequest {
  const settings = imageSettingsOf(v);
  if (isImageContentType(contentType)) return { files: [body], single: true };
  if (body.length === 0)
    throw new BadRequest(
      'the request body is empty; send an image (Content-Type: image/png, image/jpeg or image/webp)',
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new BadRequest(
      `the request body is neither an image (Content-Type: ${IMAGE_CONTENT_TYPES.join(', ')}) nor valid JSON: ${(e as Error).message}`,
    );
  }
  const usage = `the body must be an image (Content-Type: image/png, image/jpeg or image/webp) or {"instances": [{"${settings.input}": {"b64": "<base64 image file>"}}]}`;
  const instances = parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>).instances : undefined;
  if (!Array.isArray(instances) || instances.length === 0) throw new BadRequest(usage);
  const files = instances.map((inst, i) => {
    if (!inst || typeof inst !== 'object' || Array.isArray(inst)) throw new BadRequest(`instances[${i}]: ${usage}`);
    const r = inst as Record<string, unknown>;
    const value = r[settings.input] ?? (typeof r.b64 === 'string' ? r : undefined);
    if (value === undefined) throw new BadRequest(`instances[${i}] has no "${settings.input}": ${usage}`);
    return base64File(value, `instances[${i}].${settings.input}`);
  });
  return { files, single: false, timeoutUs: timeoutParameter((parsed as Record<string, unknown>).parameters) };
}

/**
 * The images of a float tensor [N, C, H, W] in [0, 1] sent to /infer, as PNGs (the request log keeps
 * what the model saw). Values are clamped to [0, 1] and rounded to 8 bits.
 */
export async function tensorImages(v: ServedVersion, tensor: ort.Tensor): Promise<SentImage[]> {
  const settings = imageSettingsOf(v);
  const [n, channels, height, width] = tensor.dims;
  const size = channels * height * width;
  const data = tensor.data as Float32Array;
  const out: SentImage[] = [];
  for (let i = 0; i < n; i++) {
    const pixels = new Uint8Array(size);
    for (let k = 0; k < size; k++) pixels[k] = Math.round(Math.min(1, Math.max(0, data[i * size + k])) * 255);
    const bytes = await encodePng(pixels, { height, width, channels: settings.channels });
    out.push({
      bytes,
      info: { format: 'png', width, height, channels, bitDepth: 8, hasAlpha: false, palette: false },
      fromTensor: true,
    });
  }
  return out;
}
