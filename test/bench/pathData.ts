// The user-path benchmark's data (test/bench/path.ts): a seeded 3-class table of numeric features,
// written once as a CSV project under .cache/bench and reused by later runs (same seed, same bytes).
import { createWriteStream, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { mulberry32 } from '../../src/core/data/prng';

export const CLASSES = ['low', 'mid', 'high'];

export interface PathProjectOptions {
  rows: number;
  features: number;
  seed: number;
  /** GBDT iterations of the project's one experiment ("gbdt"). */
  iterations: number;
}

/** Writes (when it is not there yet) the project folder: mlloop.json and data.csv. Returns its path. */
export async function pathProject(root: string, o: PathProjectOptions): Promise<string> {
  const dir = join(root, `path-${o.rows}x${o.features}-s${o.seed}`);
  const csv = join(dir, 'data.csv');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'mlloop.json'),
    JSON.stringify(
      {
        name: 'bench-path',
        task: 'classification',
        data: { path: 'data.csv', target: 'y', split: { dev: 0.2, test: 0.2, seed: 1 } },
        metric: 'accuracy',
        experiments: {
          gbdt: {
            model: 'gbdt',
            params: {
              iterations: o.iterations,
              maxLeaves: 31,
              learningRate: 0.1,
              minSamplesLeaf: 20,
              l2: 0,
              maxBins: 255,
              earlyStopping: false,
            },
          },
        },
      },
      null,
      2,
    ) + '\n',
  );
  if (!existsSync(csv)) await writeCsv(`${csv}.tmp`, o).then(() => renameSync(`${csv}.tmp`, csv));
  return dir;
}

/** Features uniform in [-2, 2] with 4 decimals; the class from a nonlinear score of the first five, with noise. */
async function writeCsv(file: string, o: PathProjectOptions): Promise<void> {
  const rand = mulberry32(o.seed);
  const out = createWriteStream(file);
  const header = [...Array.from({ length: o.features }, (_, j) => `x${j}`), 'y'].join(',') + '\n';
  out.write(header);
  const x = new Float64Array(o.features);
  let chunk = '';
  for (let i = 0; i < o.rows; i++) {
    for (let j = 0; j < o.features; j++) x[j] = Math.round((rand() * 4 - 2) * 1e4) / 1e4;
    const z = x[0] * x[1] + Math.sin(2 * x[2]) + 0.5 * x[3] - 0.3 * x[4] * x[4] + 0.4 * (rand() - 0.5);
    const label = z < -0.4 ? 0 : z < 0.4 ? 1 : 2;
    let line = '';
    for (let j = 0; j < o.features; j++) line += x[j].toFixed(4) + ',';
    chunk += line + CLASSES[label] + '\n';
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
}
