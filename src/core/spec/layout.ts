// The on-disk layout of a project, in one place: mlloop.json, and what ML Loop writes under
// `.mlloop/` (never into the user's own files). Everything that builds one of these paths asks here.
//   .mlloop/runs/<runId>/            one training run (src/core/train/runStore.ts)
//   .mlloop/data/<versionId>/        a derived data version (src/core/data/dataVersions.ts; images/ for added image files)
//   .mlloop/splits/<versionId>.json  the recorded split of a data version (src/core/data/split.ts)
//   .mlloop/cache/datasets/          loaded splits in binary form (src/core/data/datasetCache.ts)
//   .mlloop/deployments/<name>/      a deployment's request logs and feedback (src/core/requestLog)
//   .mlloop/tags.json                the error-analysis tags (src/core/analysis/tags.ts)
//   .mlloop/review-queue.json        production requests queued for review (src/core/update/reviewQueue.ts)
import { join } from 'node:path';

export const PROJECT_FILE = 'mlloop.json';
/** The folder ML Loop owns in a project (left out when a project is copied from a template). */
export const MLLOOP_DIR = '.mlloop';
export const RUNS_DIR = join(MLLOOP_DIR, 'runs');
/** The run folders as a workspace glob (forward slashes on every platform). */
export const RUNS_GLOB = `${MLLOOP_DIR}/runs/**`;
export const DATA_VERSIONS_DIR = join(MLLOOP_DIR, 'data');
export const TAGS_FILE = join(MLLOOP_DIR, 'tags.json');
export const REVIEW_QUEUE_FILE = join(MLLOOP_DIR, 'review-queue.json');

export function runsDir(projectDir: string): string {
  return join(projectDir, RUNS_DIR);
}

export function runDir(projectDir: string, runId: string): string {
  return join(projectDir, RUNS_DIR, runId);
}

export function versionsDir(projectDir: string): string {
  return join(projectDir, DATA_VERSIONS_DIR);
}

export function splitsDir(projectDir: string): string {
  return join(projectDir, MLLOOP_DIR, 'splits');
}

export function datasetCacheDir(projectDir: string): string {
  return join(projectDir, MLLOOP_DIR, 'cache', 'datasets');
}

/** Decoded images, their headers, content-hash memo and last audit (src/core/data/images/imageCache.ts). */
export function imageCacheDir(projectDir: string): string {
  return join(projectDir, MLLOOP_DIR, 'cache', 'images');
}

export function deploymentDir(projectDir: string, name: string): string {
  return join(projectDir, MLLOOP_DIR, 'deployments', name);
}
