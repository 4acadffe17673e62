// Where a run came from: the project file as it was (copied into the run folder) and the git
// commit and dirty state of the project's repository. Best effort: no git, no repository, or a
// slow git never fails or delays the run by more than GIT_TIMEOUT_MS.
import { execFile } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';

export const GIT_TIMEOUT_MS = 3000;
/** The copy of mlloop.json in each run folder. */
export const PROJECT_SNAPSHOT = 'mlloop.json';

function git(cwd: string, args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd, timeout: GIT_TIMEOUT_MS, windowsHide: true }, (err, stdout) =>
      resolve(err ? undefined : stdout),
    );
  });
}

/** The HEAD commit and whether tracked or untracked files differ from it; undefined outside a repository. */
export async function gitState(dir: string): Promise<{ commit: string; dirty: boolean } | undefined> {
  const [head, status] = await Promise.all([
    git(dir, ['rev-parse', 'HEAD']),
    git(dir, ['status', '--porcelain', '--untracked-files=normal', '--', '.']),
  ]);
  if (!head || status === undefined) return undefined;
  // The run store itself is not a change of the project.
  const changes = status.split('\n').filter((l) => l.trim() && !/\.mlloop\//.test(l));
  return { commit: head.trim(), dirty: changes.length > 0 };
}

/** Copies the project file into the run folder; returns false when it could not. */
export function snapshotProjectFile(projectFile: string, runDir: string): boolean {
  try {
    copyFileSync(projectFile, join(runDir, PROJECT_SNAPSHOT));
    return true;
  } catch {
    return false;
  }
}
