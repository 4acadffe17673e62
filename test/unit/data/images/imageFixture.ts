// Image projects for tests: PNG/JPEG files with known pixels, made with sharp, in class folders,
// split folders or beside a manifest.
import sharp from 'sharp';
import type { ProjectSpec } from '../../../../src/core/spec/types';
import { tempProject, type TempProject } from '../fixture';

/** A grey w×h PNG whose pixel (x, y) is f(x, y). */
export function greyPng(w: number, h: number, f: (x: number, y: number) => number): Promise<Buffer> {
  const data = new Uint8Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) data[y * w + x] = Math.max(0, Math.min(255, Math.round(f(x, y))));
  return sharp(data, { raw: { width: w, height: h, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toBuffer();
}

/** A distinct, textured 16×16 grey image per (class, k): stripes whose period and phase depend on both. */
export function patternPng(cls: number, k: number, size = 16): Promise<Buffer> {
  return greyPng(size, size, (x, y) => 128 + 100 * Math.sin((x * (cls + 1) + y * ((k % 5) + 1)) * 0.7 + k));
}

export function imageSpec(data: Partial<ProjectSpec['data']>, over: Partial<ProjectSpec> = {}): ProjectSpec {
  return {
    name: 'images',
    task: 'classification',
    metric: 'accuracy',
    experiments: {},
    ...over,
    data: { images: 'images', ...data } as ProjectSpec['data'],
  };
}

/** `perClass` images per class under images/<class>/ (or images/<split>/<class>/ when `splits` given). */
export async function imageProject(
  spec: ProjectSpec,
  classes: string[],
  perClass: number,
  splits?: Record<string, number>,
): Promise<TempProject> {
  const files: Record<string, Buffer> = {};
  for (let c = 0; c < classes.length; c++) {
    if (splits) {
      let k = 0;
      for (const [s, n] of Object.entries(splits))
        for (let i = 0; i < n; i++, k++) files[`images/${s}/${classes[c]}/${s}_${i}.png`] = await patternPng(c, k);
    } else
      for (let k = 0; k < perClass; k++)
        files[`images/${classes[c]}/img_${String(k).padStart(3, '0')}.png`] = await patternPng(c, k);
  }
  return tempProject(spec, files);
}
