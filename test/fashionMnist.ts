// Fashion-MNIST (Zalando Research, MIT licence) read from Debian's `dataset-fashion-mnist` package
// (IDX files under /usr/share/datasets/fashion-mnist/) and written as PNG files in class folders.
// Used by the audit benchmark and by examples/fashion/generate.ts, which made the sample's images.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import sharp from 'sharp';

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
/** Class names in label order (the dataset's own). */
export const FASHION_CLASSES = [
  'tshirt_top',
  'trouser',
  'pullover',
  'dress',
  'coat',
  'sandal',
  'shirt',
  'sneaker',
  'bag',
  'ankle_boot',
];

export interface IdxImages {
  n: number;
  height: number;
  width: number;
  pixels: Uint8Array;
  labels: Uint8Array;
}

/** Reads one part ('train' or 't10k') of the IDX files. */
export function readFashionMnist(part: 'train' | 't10k', dir = FASHION_MNIST_DIR): IdxImages {
  const images = gunzipSync(readFileSync(join(dir, `${part}-images-idx3-ubyte.gz`)));
  const labels = gunzipSync(readFileSync(join(dir, `${part}-labels-idx1-ubyte.gz`)));
  if (images.readUInt32BE(0) !== 0x803 || labels.readUInt32BE(0) !== 0x801)
    throw new Error(`${dir}: not IDX image/label files`);
  const n = images.readUInt32BE(4);
  const height = images.readUInt32BE(8);
  const width = images.readUInt32BE(12);
  return { n, height, width, pixels: images.subarray(16), labels: labels.subarray(8, 8 + n) };
}

export function fashionMnistInstalled(dir = FASHION_MNIST_DIR): boolean {
  return existsSync(join(dir, 'train-images-idx3-ubyte.gz'));
}

/**
 * Writes the images `indices` of `data` as grey PNGs `<outDir>/<class>/<part>_<index>.png`.
 * Eight at a time: sharp encodes on its own threads.
 */
export async function writeFashionPngs(
  data: IdxImages,
  indices: number[],
  outDir: string,
  part: string,
): Promise<void> {
  for (const c of FASHION_CLASSES) mkdirSync(join(outDir, c), { recursive: true });
  const size = data.height * data.width;
  let next = 0;
  const one = async (): Promise<void> => {
    while (next < indices.length) {
      const i = indices[next++];
      const raw = Buffer.from(data.pixels.subarray(i * size, (i + 1) * size));
      const file = join(outDir, FASHION_CLASSES[data.labels[i]], `${part}_${String(i).padStart(5, '0')}.png`);
      await sharp(raw, { raw: { width: data.width, height: data.height, channels: 1 } })
        .toColourspace('b-w')
        .png()
        .toFile(file);
    }
  };
  await Promise.all(Array.from({ length: 8 }, one));
}
