// Error Analysis's data-job worker thread (bundled to dist/worker-dataJobs.js), off the extension
// host's thread: augmentation preview and writing (images or rows), similar images, labelled images
// or CSV rows added, labels fixed, the export for collection, the embedding map
// (src/core/analysis/dataJobsWorker.ts).
import { parentPort, workerData } from 'node:worker_threads';
import {
  addDataFromCsv,
  augmentToVersion,
  exportForCollection,
  fixLabels,
  previewImageAugmentation,
} from '../core/analysis/analysis';
import { embeddingMapOfRun } from '../core/analysis/embeddingMap';
import type { DataJob, DataJobMessage, DataJobResult } from '../core/analysis/dataJobsWorker';
import { addLabelledImages, similarImagesOfRun } from '../core/analysis/similarImages';

const input = workerData as DataJob;
const post = (m: DataJobMessage) => parentPort!.postMessage(m);

function run(job: DataJob): Promise<DataJobResult> {
  switch (job.job) {
    case 'preview':
      return previewImageAugmentation(job);
    case 'augment':
      return augmentToVersion({
        projectDir: job.projectDir,
        ...(job.parentVersion ? { parentVersion: job.parentVersion } : {}),
        recipe: { source: job.source, count: job.count, seed: job.seed },
        ...(job.proposals ? { proposals: job.proposals } : {}),
        onProgress: (done, total) => post({ type: 'progress', done, total }),
      });
    case 'similar':
      return similarImagesOfRun({ ...job, withPixels: true });
    case 'addImages':
      return addLabelledImages(job);
    case 'map':
      return embeddingMapOfRun(job);
    case 'addCsv':
      return addDataFromCsv(job);
    case 'fixLabels':
      return fixLabels(job);
    case 'export':
      return exportForCollection(job);
  }
}

run(input).then(
  (result) => post({ type: 'done', result }),
  (e: unknown) => post({ type: 'error', message: e instanceof Error ? e.message : String(e) }),
);
