// Runs `ml-loop diagnose DIR --run RUN --json` (the bundled CLI) through the extension's CLI runner:
// ONNX inference, permutation importance and the curves' retraining stay out of the extension host,
// a cancel kills the process (and its training workers) outright, and the panel shows what users
// get from the CLI. No editor import here, so it is tested in plain Node.
import type { RunDiagnosis } from '../../core/diagnose/diagnoseRun';
import { isRunDiagnosis } from '../../protocol/diagnostics';
import { runCliJson } from '../cliProcess';

export interface DiagnoseProcessOptions {
  /** Absolute path of dist/cli.js. */
  cliPath: string;
  /** Node executable (see CliJsonOptions.nodePath). */
  nodePath: string;
  projectDir: string;
  runId: string;
  learningCurve?: boolean;
  validationParam?: string;
  signal?: AbortSignal;
  /** Progress of a curve: points done of total. */
  onProgress?: (done: number, total: number) => void;
}

const PROGRESS = /^progress (\d+)\/(\d+)$/;

/** The run's diagnosis; rejects with CancelledError when `signal` aborts. */
export function diagnoseInChildProcess(o: DiagnoseProcessOptions): Promise<RunDiagnosis> {
  const args = ['diagnose', o.projectDir, '--run', o.runId, '--json'];
  if (o.learningCurve) args.push('--learning-curve');
  if (o.validationParam) args.push('--validation-curve', o.validationParam, '--no-importance');
  return runCliJson({
    cliPath: o.cliPath,
    nodePath: o.nodePath,
    args,
    cwd: o.projectDir,
    isResult: isRunDiagnosis,
    resultName: 'a diagnosis',
    signal: o.signal,
    onLine: (line) => {
      const m = PROGRESS.exec(line);
      if (m) o.onProgress?.(Number(m[1]), Number(m[2]));
    },
  });
}
