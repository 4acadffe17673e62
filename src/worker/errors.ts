// Error-analysis worker thread (bundled to dist/worker-errors.js), off the extension host's thread:
// 'analyse' loads the run's data version, predicts dev with the run's model and computes the error
// table, tag table and slices (posted back with its typed arrays transferred, not copied; or, when
// progressive, the analysis first without slices, then the slices, then the neighbour index);
// 'compare' counts the dev errors of several runs per tag and per slice;
// 'neighbours' finds the training images of each class closest to one dev image (rows shared, not copied).
import { parentPort, workerData } from 'node:worker_threads';
import { analyseRun } from '../core/analysis/analysis';
import {
  tableMessage,
  transferablesOf,
  type ErrorsWorkerInput,
  type ErrorsWorkerMessage,
} from '../core/analysis/analysisWorker';
import { errorChangesOfRuns } from '../core/analysis/compareErrors';
import { nearestOfEachClass } from '../core/analysis/imageNeighbours';

const post = (m: ErrorsWorkerMessage, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(m, transfer);
const input = workerData as ErrorsWorkerInput;
const fail = (e: unknown) => post({ type: 'error', message: e instanceof Error ? e.message : String(e) });

if (input.job === 'compare') errorChangesOfRuns(input).then((result) => post({ type: 'done', result }), fail);
else if (input.job === 'neighbours') {
  try {
    post({
      type: 'done',
      result: nearestOfEachClass(input.index, input.devRow, input.classOf, input.classes, input.k),
    });
  } catch (e) {
    fail(e);
  }
} else if (input.progressive) {
  analyseRun({
    ...input,
    onTable: (result) => {
      const { message, transfer } = tableMessage(result);
      post(message, transfer);
    },
    onSlices: ({ slices, timings }) => post({ type: 'slices', slices, timings }),
  }).then(({ neighbours }) => post({ type: 'neighbours', ...(neighbours ? { neighbours } : {}) }), fail);
} else analyseRun(input).then((result) => post({ type: 'done', result }, transferablesOf(result)), fail);
