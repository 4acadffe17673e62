// The embedding map of a run's dev images: the model's `embedding` output projected to 2-D by UMAP
// (umap-js, seeded: the same run gives the same map), each point an image with its class and whether
// the model got it right. Drawn by the Error Analysis panel (embeddingMapChart.ts builds its chart).
import { dirname, join } from 'node:path';
import { UMAP } from 'umap-js';
import { resolveProject, type ProjectInput } from '../data/dataset';
import { loadDataVersion } from '../data/dataVersions';
import { mulberry32 } from '../data/prng';
import { runDir } from '../spec/layout';
import { findRun } from '../track/findRun';
import { predictDev } from './analysis';
import { neighbourIndex, type FeatureRows } from './imageNeighbours';
import { NoEmbeddingError } from './similarImages';
import type { EmbeddingMap } from './embeddingMapChart';

export type { EmbeddingMap } from './embeddingMapChart';

/**
 * UMAP of n rows to 2-D, deterministic for the seed. Fewer than 3 rows: placed on a line (UMAP needs
 * neighbours). `onEpoch`: progress, and a way to stop (return false).
 */
export async function projectRows(
  rows: FeatureRows,
  seed: number,
  onEpoch?: (epoch: number) => boolean | void,
): Promise<number[][]> {
  const { n, dim } = rows;
  if (n < 3) return Array.from({ length: n }, (_, i) => [i, 0]);
  const data = Array.from({ length: n }, (_, i) => Array.from(rows.rows.subarray(i * dim, (i + 1) * dim)));
  const umap = new UMAP({
    nComponents: 2,
    nNeighbors: Math.max(2, Math.min(15, n - 1)),
    minDist: 0.1,
    random: mulberry32(seed ^ 0x5bd1e995),
  });
  return umap.fitAsync(data, (epoch) => onEpoch?.(epoch));
}

/** The map of run `run`'s dev images (its model must have an `embedding` output: else NoEmbeddingError). */
export async function embeddingMapOfRun(opts: {
  projectDir: ProjectInput;
  run: string;
  seed?: number;
  onEpoch?: (epoch: number) => boolean | void;
}): Promise<EmbeddingMap> {
  const ref = await resolveProject(opts.projectDir);
  const projectDir = dirname(ref.projectFile);
  const record = await findRun(projectDir, opts.run);
  const dir = runDir(projectDir, record.runId);
  const dataset = await loadDataVersion(ref, record.dataVersion?.id, { cache: true });
  if (!dataset.schema.image)
    throw new Error('The embedding map needs an image project (data.images or data.imageColumn)');
  const index = await neighbourIndex(join(dir, 'model.onnx'), dataset);
  if (!index || index.kind !== 'embedding') throw new NoEmbeddingError(record.runId);
  const table = await predictDev(dir, dataset);
  const xy = await projectRows(index.dev, opts.seed ?? 0, opts.onEpoch);
  return {
    runId: record.runId,
    ids: dataset.dev.ids,
    x: xy.map((p) => p[0]),
    y: xy.map((p) => p[1]),
    truth: Array.from(table.truth.subarray(0, table.n)),
    predicted: Array.from(table.predicted.subarray(0, table.n)),
    wrong: Array.from(table.wrong.subarray(0, table.n)),
    classes: dataset.schema.classes ?? [],
  };
}
