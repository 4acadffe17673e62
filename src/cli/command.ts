// The shape of an `ml-loop` command. Each command lives in its own file under src/cli/commands/ and is
// listed once in src/cli/commands/index.ts; main.ts only dispatches and prints help.

export interface CliIO {
  /** Standard output (results: text or JSON). */
  out(text: string): void;
  /** Standard error (problems, progress). */
  err(text: string): void;
  /** The folder relative paths are resolved against. */
  cwd: string;
  /** Aborted on Ctrl-C (SIGINT) by the CLI entry: long commands (train) cancel cleanly. */
  signal?: AbortSignal;
}

export interface CliCommand {
  /** The word after `ml-loop`, e.g. "validate". */
  name: string;
  /** One line for `ml-loop --help`. */
  summary: string;
  /** Usage and options for `ml-loop <name> --help`, e.g. "ml-loop validate [DIR]\n\n  DIR  …". */
  usage: string;
  /** Runs the command with the arguments after its name; resolves to the process exit code. */
  run(args: string[], io: CliIO): Promise<number>;
}

/** Exit codes shared by commands: 0 ok, 1 the project or data has errors, 2 wrong usage. */
export const EXIT_OK = 0;
export const EXIT_PROBLEMS = 1;
export const EXIT_USAGE = 2;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
