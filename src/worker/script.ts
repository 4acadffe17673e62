// Script-run data worker thread (bundled to dist/worker-script.js), off the extension host's thread:
// 'prepare' loads the split and writes the script's inputs; 'evaluate' evaluates the script's
// model.onnx on every split and writes the monitoring reference (src/core/scripts/scriptData.ts).
import { parentPort, workerData } from 'node:worker_threads';
import {
  evaluateScriptRun,
  prepareScriptData,
  type ScriptDataJob,
  type ScriptDataMessage,
} from '../core/scripts/scriptData';

const input = workerData as ScriptDataJob;
const post = (m: ScriptDataMessage) => parentPort!.postMessage(m);
const job =
  input.job === 'prepare'
    ? prepareScriptData(input.ref, input.runDir, input.params, input.dataVersion)
    : evaluateScriptRun(input.ref, input.runDir, input.modelPath, input.dataVersion);
job.then(
  (result) => post({ type: 'done', result }),
  (e: unknown) => post({ type: 'error', message: e instanceof Error ? e.message : String(e) }),
);
