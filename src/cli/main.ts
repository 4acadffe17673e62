// The `ml-loop` command line (bundled to dist/cli.js): dispatches to the command table.
import { mlloopVersion } from '../core/runtime/version';
import { commands } from './commands';
import { EXIT_OK, EXIT_USAGE, UsageError, type CliCommand, type CliIO } from './command';

export function helpText(table: CliCommand[] = commands): string {
  const width = Math.max(...table.map((c) => c.name.length));
  return [
    'ml-loop: carry a machine-learning project around its loop (mlloop.json in DIR).',
    '',
    'Usage: ml-loop <command> [options]    ml-loop <command> --help',
    '',
    'Commands:',
    ...table.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
  ].join('\n');
}

/** Runs the CLI with argv (without node and the script) and resolves to the exit code. */
export async function runCli(argv: string[], io: CliIO, table: CliCommand[] = commands): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(helpText(table));
    return name ? EXIT_OK : EXIT_USAGE;
  }
  if (name === '--version') {
    io.out(mlloopVersion);
    return EXIT_OK;
  }
  const command = table.find((c) => c.name === name);
  if (!command) {
    io.err(`ml-loop: unknown command "${name}"\n\n${helpText(table)}`);
    return EXIT_USAGE;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(command.usage);
    return EXIT_OK;
  }
  try {
    return await command.run(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`ml-loop ${name}: ${e.message}\n\n${command.usage}`);
      return EXIT_USAGE;
    }
    io.err(`ml-loop ${name}: ${(e as Error).stack ?? String(e)}`);
    return 1;
  }
}

if (require.main === module) {
  const interrupt = new AbortController();
  // First Ctrl-C asks the command to stop; a second one (default handler) kills the process.
  process.once('SIGINT', () => interrupt.abort());
  const io: CliIO = {
    out: (t) => process.stdout.write(t + '\n'),
    err: (t) => process.stderr.write(t + '\n'),
    cwd: process.cwd(),
    signal: interrupt.signal,
  };
  runCli(process.argv.slice(2), io).then((code) => {
    process.exitCode = code;
    process.removeAllListeners('SIGINT');
  });
}
