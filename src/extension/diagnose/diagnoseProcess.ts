// Runs `ml-loop diagnose DIR --run RUN --json` (the bundled CLI) in a child process: ONNX inference,
// permutation importance and the curves' retraining stay out of the extension host, a cancel kills
// the process (and its training workers) outright, and the panel shows what users get from the CLI.
// No editor import here, so it is tested in plain Node.
import { spawn } from 'node:child_process';
import { CancelledError } from '../../core/runtime/cancel';
import type { RunDiagnosis } from '../../core/diagnose/diagnoseRun';
import { isRunDiagnosis } from '../../protocol/diagnostics';

export interface DiagnoseProcessOptions {
  /** Absolute path of dist/cli.js. */
  cliPath: string;
  /** Node executable; in desktop VS Code process.execPath is Electron, run as Node via ELECTRON_RUN_AS_NODE. */
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

export function diagnoseInChildProcess(o: DiagnoseProcessOptions): Promise<RunDiagnosis> {
  const args = [o.cliPath, 'diagnose', o.projectDir, '--run', o.runId, '--json'];
  if (o.learningCurve) args.push('--learning-curve');
  if (o.validationParam) args.push('--validation-curve', o.validationParam, '--no-importance');
  return new Promise((resolve, reject) => {
    if (o.signal?.aborted) return reject(new CancelledError('The diagnosis'));
    const child = spawn(o.nodePath, args, { cwd: o.projectDir, env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, windowsHide: true });
    const out: Buffer[] = [];
    let err = '';
    let pending = '';
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString();
      pending += b.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const m = PROGRESS.exec(line.trim());
        if (m) o.onProgress?.(Number(m[1]), Number(m[2]));
      }
    });
    const onAbort = () => child.kill('SIGTERM');
    o.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => reject(e));
    child.on('close', (code) => {
      o.signal?.removeEventListener('abort', onAbort);
      if (o.signal?.aborted) return reject(new CancelledError('The diagnosis'));
      const stdout = Buffer.concat(out).toString();
      if (code !== 0) {
        const detail = err.split('\n').filter((l) => l.trim() && !PROGRESS.test(l.trim()) && !/^\s+at /.test(l)).slice(0, 6).join('\n');
        return reject(new Error(detail.replace(/^ml-loop diagnose: /, '') || `ml-loop diagnose exited with code ${code}`));
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(stdout);
      } catch {
        return reject(new Error(`ml-loop diagnose printed something that is not JSON: ${stdout.slice(0, 200)}`));
      }
      if (!isRunDiagnosis(parsed)) return reject(new Error('ml-loop diagnose printed JSON that is not a diagnosis'));
      resolve(parsed);
    });
  });
}
