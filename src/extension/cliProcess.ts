// The one way the extension runs the bundled CLI (dist/cli.js) in a child process and reads the JSON
// it prints: profiling, diagnosis, monitoring reports and retraining never run on the extension host
// thread, a cancel (or a timeout) kills the process and its training workers outright, and what
// users get from the CLI is what the panels show. No editor import here, so it is tested in plain Node.
import { spawn } from 'node:child_process';
import { CancelledError } from '../core/runtime/cancel';

export interface CliJsonOptions<T> {
  /** Absolute path of dist/cli.js. */
  cliPath: string;
  /** Node executable; in desktop VS Code process.execPath is Electron, run as Node via ELECTRON_RUN_AS_NODE. */
  nodePath: string;
  /** The command and its arguments (`--json` included). */
  args: string[];
  cwd: string;
  /** Exit codes that still carry a JSON result (e.g. 3: `ml-loop drift` found drift). */
  okCodes?: number[];
  isResult: (value: unknown) => value is T;
  /** What a result is, for the error when the JSON is something else ("a diagnosis"). */
  resultName?: string;
  signal?: AbortSignal;
  /** The process is killed, and the call rejects with CliTimeoutError, after this long. */
  timeoutMs?: number;
  /** Each line the command writes to stderr (progress). */
  onLine?: (line: string) => void;
}

export class CliTimeoutError extends Error {
  constructor(
    command: string,
    readonly timeoutMs: number,
  ) {
    super(`ml-loop ${command} took longer than ${timeoutMs / 1000} s and was stopped`);
    this.name = 'CliTimeoutError';
  }
}

/** The command failed: its message is what it said on stderr, without progress and stack lines. */
export class CliProcessError extends Error {
  constructor(
    message: string,
    readonly exitCode: number | null,
    /** The end of its stderr. */
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'CliProcessError';
  }
}

/** Progress lines (`step …`, `progress 3/10`) and stack frames: not what a user acts on. */
const PROGRESS_LINE = /^(step|progress) /;
const STACK_FRAME = /^\s+at /;


/**
 * The one-line reason of a failed CLI command: its "ml-loop CMD: reason" line (never the usage text
 * that follows a usage error, nor a stack), else the last line that is not progress.
 */
export function failureReason(stderr: string, command: string): string {
  const lines = stderr.split('\n').filter((l) => l.trim());
  const prefix = `ml-loop ${command}: `;
  const own = lines.map((l) => l.trim()).find((l) => l.startsWith(prefix));
  if (own) return own.slice(prefix.length);
  return lines.filter((l) => !PROGRESS_LINE.test(l.trim()) && !STACK_FRAME.test(l)).pop()?.trim() ?? '';
}

export function runCliJson<T>(o: CliJsonOptions<T>): Promise<T> {
  const command = o.args[0] ?? '';
  return new Promise((resolve, reject) => {
    if (o.signal?.aborted) return reject(new CancelledError(`ml-loop ${command}`));
    const child = spawn(o.nodePath, [o.cliPath, ...o.args], { cwd: o.cwd, env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, windowsHide: true });
    const out: Buffer[] = [];
    let err = '';
    let pending = '';
    let timedOut = false;
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
    const timer =
      o.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGTERM');
          }, o.timeoutMs);
    child.on('error', (e) => reject(e));
    child.on('close', (code) => {
      o.signal?.removeEventListener('abort', onAbort);
      clearTimeout(timer);
      if (o.signal?.aborted) return reject(new CancelledError(`ml-loop ${command}`));
      if (timedOut) return reject(new CliTimeoutError(command, o.timeoutMs!));
      const stdout = Buffer.concat(out).toString();
      if (code !== 0 && !(o.okCodes ?? []).includes(code ?? -1)) return reject(new CliProcessError(failureReason(err, command) || `ml-loop ${command} exited with code ${code}`, code, err));
      let parsed: unknown;
      try {
        parsed = JSON.parse(stdout);
      } catch {
        return reject(new Error(`ml-loop ${command} printed something that is not JSON: ${stdout.slice(0, 200)}`));
      }
      if (!o.isResult(parsed)) return reject(new Error(`ml-loop ${command} printed JSON ${o.resultName ? `that is not ${o.resultName}` : 'of an unexpected shape'}`));
      resolve(parsed);
    });
  });
}
