// A fresh copy of a sample project under examples/ in a temporary folder: tests never write into
// examples/ (training, decoding and splits write under the project's .mlloop/).
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Copies examples/<sample> (without its .mlloop/) to a new temporary folder and returns it. */
export function copySample(sample: string): string {
  const dir = mkdtempSync(join(tmpdir(), `mlloop-${sample}-`));
  cpSync(join(__dirname, '..', 'examples', sample), dir, {
    recursive: true,
    filter: (src) => !src.includes('.mlloop'),
  });
  return dir;
}
