// A problem that stops work on a project (its data cannot be used), as an Error a command handler
// throws: the message names the file and line. No editor import (tested in plain Node).
import * as path from 'node:path';
import type { Problem } from '../../core/spec/problems';
import type { ProjectCheckResult } from '../../core/check/projectChecks';

export class ProjectProblemError extends Error {
  constructor(
    readonly problem: Problem,
    /** Absolute path of the project's mlloop.json. */
    readonly projectFile: string,
    /** How many other errors the project has (they are in the Problems panel). */
    readonly others = 0,
  ) {
    const where = `${path.relative(path.dirname(projectFile), problem.file) || path.basename(problem.file)}:${problem.line}`;
    const more = others > 0 ? ` (and ${others} more error${others === 1 ? '' : 's'}: see the Problems panel)` : '';
    super(`${where}: ${problem.message}${more}`);
    this.name = 'ProjectProblemError';
  }

  /** The button that opens the problem's place. */
  get action(): string {
    return this.problem.file === this.projectFile ? `Open ${path.basename(this.projectFile)}` : 'Open Data File';
  }
}

/** The error a user can act on first: one at its line in the data file beats its echo in mlloop.json. */
export function blockingError(result: ProjectCheckResult, projectFile: string): ProjectProblemError | undefined {
  const errors = result.problems.filter((p) => p.severity === 'error');
  if (!errors.length) return undefined;
  const first = errors.find((p) => p.file !== projectFile) ?? errors[0];
  return new ProjectProblemError(first, projectFile, errors.length - 1);
}
