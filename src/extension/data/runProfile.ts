// Profiles a project in a child process running the bundled CLI (`ml-loop profile DIR --json`),
// through the extension's CLI runner. A child process rather than a worker_thread: profiling a large
// file may use over a gigabyte, and a separate process keeps that memory, and any crash, out of the
// extension host; it can be killed outright on cancel; and it reuses the CLI users run, so both share
// one code path. No editor import here, so it is tested in plain Node.
import type { DataProfile } from '../../core/data/profileTypes';
import { isDataProfile } from '../../protocol/data';
import { CancelledError } from '../../core/runtime/cancel';
import { CliProcessError, CliTimeoutError, runCliJson } from '../cliProcess';

export interface ProfileProcessOptions {
  /** Absolute path of dist/cli.js. */
  cliPath: string;
  /** Node executable (see CliJsonOptions.nodePath). */
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

/** The project's data profile; a ProfileProcessError says why there is none (the Data panel shows it). */
export async function profileInChildProcess(o: ProfileProcessOptions): Promise<DataProfile> {
  try {
    return await runCliJson({
      cliPath: o.cliPath,
      nodePath: o.nodePath,
      args: ['profile', o.projectDir, '--json'],
      cwd: o.projectDir,
      isResult: isDataProfile,
      resultName: 'a data profile',
      timeoutMs: o.timeoutMs,
      signal: o.signal,
    });
  } catch (e) {
    if (e instanceof CancelledError) throw new ProfileProcessError('Profiling was cancelled.', null, '');
    if (e instanceof CliTimeoutError)
      throw new ProfileProcessError(`Profiling took longer than ${o.timeoutMs / 1000} s and was stopped.`, null, '');
    if (e instanceof CliProcessError)
      throw new ProfileProcessError(`Profiling failed: ${e.message}`, e.exitCode, e.stderr);
    throw new ProfileProcessError(e instanceof Error ? e.message : String(e), 0, '');
  }
}
