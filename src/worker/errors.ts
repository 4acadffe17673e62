// Error-analysis worker thread (bundled to dist/worker-errors.js): loads the run's data version,
// predicts dev with the run's model and computes the error table, tag table and slices, off the
// extension host's thread. Posts the analysis back with its typed arrays transferred, not copied.
import { parentPort, workerData } from 'node:worker_threads';
import { analyseRun } from '../core/errors/analysis';
import { transferablesOf, type AnalysisWorkerInput, type AnalysisWorkerMessage } from '../core/errors/analysisWorker';

const post = (m: AnalysisWorkerMessage, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(m, transfer);

analyseRun(workerData as AnalysisWorkerInput).then(
  (analysis) => post({ type: 'done', analysis }, transferablesOf(analysis)),
  (e) => post({ type: 'error', message: e instanceof Error ? e.message : String(e) }),
);
