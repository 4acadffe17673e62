// Makes examples/fashion/images: the first 200 images of each class of Fashion-MNIST's training set
// (Debian's dataset-fashion-mnist, Zalando Research, MIT licence) as 28×28 grey PNGs in class folders.
//   node --import tsx test/fashionSample.ts
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { FASHION_CLASSES, readFashionMnist, writeFashionPngs } from './fashionMnist';

export const FASHION_SAMPLE_PER_CLASS = 200;

async function main(): Promise<void> {
  const data = readFashionMnist('train');
  const picked: number[] = [];
  const taken = new Array(FASHION_CLASSES.length).fill(0);
  for (let i = 0; i < data.n; i++) {
    if (taken[data.labels[i]] < FASHION_SAMPLE_PER_CLASS) {
      taken[data.labels[i]]++;
      picked.push(i);
    }
  }
  const out = join(__dirname, '..', 'examples', 'fashion', 'images');
  rmSync(out, { recursive: true, force: true });
  await writeFashionPngs(data, picked, out, 'train');
  console.log(`wrote ${picked.length} PNGs to ${out}`);
}

void main();
