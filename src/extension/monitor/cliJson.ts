// Runs a command of the bundled CLI (dist/cli.js) in a child process and parses the JSON it prints:
// monitoring reports (`ml-loop drift --json`) and retraining (`ml-loop retrain --json`) never run on
// the extension host thread, and a cancel kills the process (and its training workers) outright.
// No editor import here, so it is tested in plain Node.
import { spawn } from 'node:child_process';
import { CancelledError } from '../../core/runtime/cancel';

export interface CliJsonOptions<T> {
  /** Absolute path of dist/cli.js. */
  cliPath: string;
  /** Node executable; in desktop VS Code process.execPath is Electron, run as Node via ELECTRON_RUN_AS_NODE. */
  nodePath: string;
  args: string[];
  cwd: string;
  /** Exit codes that still carry a JSON result (e.g. 3: `ml-loop drift` found drift). */
  okCodes?: number[];
  isResult: (value: unknown) => value is T;
  signal?: AbortSignal;
  /** Each line the command writes to stderr (progress). */
  onLine?: (line: string) => void;
}

export function runCliJson<T>(o: CliJsonOptions<T>): Promise<T> {
  const command = o.args[0] ?? '';
  return new Promise((resolve, reject) => {
    if (o.signal?.aborted) return reject(new CancelledError(`ml-loop ${command}`));
    const child = spawn(o.nodePath, [o.cliPath, ...o.args], { cwd: o.cwd, env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, windowsHide: true });
    const out: Buffer[] = [];
    let err = '';
    let pending = '';
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => {
      err = (err + b.toString()).slice(-20000);
      pending += b.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) o.onLine?.(line.trim());
    });
    const onAbort = () => child.kill('SIGTERM');
    o.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => reject(e));
    child.on('close', (code) => {
      o.signal?.removeEventListener('abort', onAbort);
      if (o.signal?.aborted) return reject(new CancelledError(`ml-loop ${command}`));
      const stdout = Buffer.concat(out).toString();
      if (code !== 0 && !(o.okCodes ?? []).includes(code ?? -1)) {
        const detail = err
          .split('\n')
          .filter((l) => l.trim() && !/^(step|progress) /.test(l.trim()) && !/^\s+at /.test(l))
          .slice(-6)
          .join('\n');
        return reject(new Error(detail.replace(new RegExp(`^ml-loop ${command}: `), '') || `ml-loop ${command} exited with code ${code}`));
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(stdout);
      } catch {
        return reject(new Error(`ml-loop ${command} printed something that is not JSON: ${stdout.slice(0, 200)}`));
      }
      if (!o.isResult(parsed)) return reject(new Error(`ml-loop ${command} printed JSON of an unexpected shape`));
      resolve(parsed);
    });
  });
}
