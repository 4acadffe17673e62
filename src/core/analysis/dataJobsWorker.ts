// Error Analysis's data jobs in a worker thread (src/worker/dataJobs.ts): the image loop (previewing
// and writing a targeted augmentation, finding similar images, adding labelled images, the embedding
// map) and every other new data version the panel makes (augmented rows, rows added from a CSV, fixed
// labels) and its export for collection. Each loads the data, decodes images, runs the model or UMAP:
// seconds of work on a large project that must not block the extension host.
// Aborting rejects at once with CancelledError (src/core/runtime/worker.ts).
import type { ProjectInput } from '../data/dataset';
import type { VersionRecipe } from '../data/dataVersions';
import { runWorkerJob } from '../runtime/worker';
import type { AugmentRequest } from './analysis';
import type { EmbeddingMap } from './embeddingMap';
import type { ImageAugmentPlan, PreviewImage } from './imageAugment';
import type { SimilarImage, SimilarPlace, UnlabelledImages } from './similarImages';

export type SimilarSource = { ids: string[] } | { tag: string } | { slice: string };

export interface SimilarResult {
  runId: string;
  classes: string[];
  results: Record<SimilarPlace, SimilarImage[]>;
  skipped: UnlabelledImages['skipped'];
  unlabelledFolder?: string;
}

export interface AugmentPreviewResult {
  plan: ImageAugmentPlan;
  previews: PreviewImage[];
  dataVersion: string;
}

export type DataJob =
  | ({ job: 'preview'; previews?: number } & AugmentRequest)
  | ({ job: 'augment' } & AugmentRequest)
  | { job: 'addCsv'; projectDir: string; parentVersion?: string; csvFile: string }
  | { job: 'fixLabels'; projectDir: string; parentVersion?: string; fixes: Record<string, string> }
  | {
      job: 'export';
      projectDir: string;
      dataVersion?: string;
      source: { tag: string } | { slice: string };
      out: string;
    }
  | { job: 'similar'; projectDir: ProjectInput; run: string; source: SimilarSource; k: number; places?: SimilarPlace[] }
  | { job: 'addImages'; projectDir: ProjectInput; parentVersion?: string; picks: { file: string; label: string }[] }
  | { job: 'map'; projectDir: ProjectInput; run: string; seed?: number };

/** A job's result (export: the number of examples written). */
export type DataJobResult = AugmentPreviewResult | VersionRecipe | SimilarResult | EmbeddingMap | number;

export type DataJobMessage =
  | { type: 'progress'; done: number; total: number }
  | { type: 'done'; result: DataJobResult }
  | { type: 'error'; message: string };

const JOB_NAMES: Record<DataJob['job'], string> = {
  preview: 'The augmentation preview',
  augment: 'The augmentation',
  similar: 'The search for similar images',
  addImages: 'Adding the labelled images',
  map: 'The embedding map',
  addCsv: 'Adding the CSV rows',
  fixLabels: 'Fixing the labels',
  export: 'The export for collection',
};

export function inDataJobsWorker(
  input: Extract<DataJob, { job: 'preview' }>,
  signal?: AbortSignal,
): Promise<AugmentPreviewResult>;
export function inDataJobsWorker(
  input: Extract<DataJob, { job: 'augment' | 'addImages' | 'addCsv' | 'fixLabels' }>,
  signal?: AbortSignal,
  onProgress?: (done: number, total: number) => void,
): Promise<VersionRecipe>;
export function inDataJobsWorker(
  input: Extract<DataJob, { job: 'similar' }>,
  signal?: AbortSignal,
): Promise<SimilarResult>;
export function inDataJobsWorker(input: Extract<DataJob, { job: 'map' }>, signal?: AbortSignal): Promise<EmbeddingMap>;
export function inDataJobsWorker(input: Extract<DataJob, { job: 'export' }>, signal?: AbortSignal): Promise<number>;
/** Runs one job in a worker thread; the worker ends with the job. */
export function inDataJobsWorker(
  input: DataJob,
  signal?: AbortSignal,
  onProgress?: (done: number, total: number) => void,
): Promise<DataJobResult> {
  return runWorkerJob<DataJobResult, DataJobMessage>({
    worker: 'dataJobs',
    workerData: input,
    job: JOB_NAMES[input.job],
    signal,
    // onnxruntime and sharp run natively in the worker: it reaches its next message before it ends.
    graceMs: Infinity,
    onMessage: (m, end) => {
      if (m.type === 'progress') onProgress?.(m.done, m.total);
      else if (m.type === 'done') end.resolve(m.result);
      else end.reject(new Error(m.message));
    },
  });
}
