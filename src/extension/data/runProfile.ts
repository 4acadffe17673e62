// Profiles a project in a child process running the bundled CLI (`ml-loop profile DIR --json`).
// A child process rather than a worker_thread: profiling a large file may use over a gigabyte,
// and a separate process keeps that memory, and any crash, out of the extension host; it can be
// killed outright on cancel; and it reuses the CLI users run, so both share one code path.
// No editor import here, so it is tested in plain Node.
import { execFile } from 'node:child_process';
import type { DataProfile } from '../../core/data/profileTypes';
import { isDataProfile } from '../../protocol/data';

export interface ProfileProcessOptions {
  /** Absolute path of dist/cli.js. */
  cliPath: string;
  /** Node executable; in desktop VS Code process.execPath is Electron, run as Node via ELECTRON_RUN_AS_NODE. */
  nodePath: string;
  projectDir: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

export class ProfileProcessError extends Error {
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'ProfileProcessError';
  }
}

/** What the CLI said on stderr, without stack traces: the lines a user can act on. */
function firstLines(stderr: string, max = 8): string {
  return stderr
    .split(/\r?\n/)
    .filter((l) => l.trim() && !/^\s+at /.test(l))
    .slice(0, max)
    .join('\n');
}

export function profileInChildProcess(o: ProfileProcessOptions): Promise<DataProfile> {
  return new Promise((resolve, reject) => {
    execFile(
      o.nodePath,
      [o.cliPath, 'profile', o.projectDir, '--json'],
      {
        cwd: o.projectDir,
        env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
        timeout: o.timeoutMs,
        maxBuffer: 512 * 1024 * 1024,
        signal: o.signal,
        windowsHide: true,
      },
      (err, stdout, stderr) => {
        if (err) {
          const e = err as NodeJS.ErrnoException & { code?: unknown; killed?: boolean };
          if (e.name === 'AbortError') return reject(new ProfileProcessError('Profiling was cancelled.', null, stderr));
          if (e.killed) return reject(new ProfileProcessError(`Profiling took longer than ${o.timeoutMs / 1000} s and was stopped.`, null, stderr));
          const code = typeof e.code === 'number' ? e.code : null;
          const detail = firstLines(stderr) || firstLines(stdout) || e.message;
          return reject(new ProfileProcessError(`Profiling failed: ${detail}`, code, stderr));
        }
        let parsed: unknown;
        try {
          parsed = JSON.parse(stdout);
        } catch {
          return reject(new ProfileProcessError(`The profiler printed something that is not JSON: ${stdout.slice(0, 200)}`, 0, stderr));
        }
        if (!isDataProfile(parsed)) return reject(new ProfileProcessError('The profiler printed JSON that is not a data profile.', 0, stderr));
        resolve(parsed);
      },
    );
  });
}
