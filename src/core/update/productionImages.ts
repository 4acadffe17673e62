// Production images in the review queue (./reviewQueue.ts): each queued item of an image deployment
// carries its logged picture (kept beside the request log, src/core/requestLog/images.ts) preprocessed
// at the model's input size (what the model saw), so Error Analysis's Production source draws it like a
// training image without decoding anything on the extension host.
import { join } from 'node:path';
import { exampleId } from '../data/rows';
import type { ImageShape } from '../data/types';
import { deploymentDir } from '../spec/layout';

/** The picture of a queued production image. */
export interface ReviewImage {
  /** The logged file, relative to the deployment's log folder (`images/<sha256>.<ext>`). */
  file: string;
  /** SHA-256 of the bytes the client sent. */
  sha256: string;
  /** Preprocessed pixels at the model's input size, uint8 [C, H, W], base64. */
  pixels: string;
}

/** The id of a production image: its bytes' hash and its feedback label, so a tag follows it once labelled. */
export function productionImageId(sha256: string, label: string | undefined): string {
  return exampleId([sha256, label ?? '']);
}

/** The project-relative path of a queued image's file. */
export function reviewImagePath(item: { deployment: string; image: ReviewImage }): string {
  return join(deploymentDir('', item.deployment), item.image.file);
}

/** The queued images' pixels, decoded from base64 (undefined when the item has none of the shape's size). */
export function reviewImagePixels(image: ReviewImage, shape: ImageShape): Uint8Array | undefined {
  const b = Buffer.from(image.pixels, 'base64');
  return b.length === shape.channels * shape.height * shape.width ? new Uint8Array(b) : undefined;
}
