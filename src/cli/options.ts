// Option parsing shared by commands (node:util parseArgs), with the options every data command takes.
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError, type CliIO } from './command';

export const MAX_BYTES_OPTION = { 'max-bytes': { type: 'string' } } as const;
export const MAX_BYTES_USAGE = '  --max-bytes N   refuse data files larger than N bytes (default 1073741824 = 1 GiB)';

export function parseCommandArgs<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O) {
  try {
    return parseArgs({
      args,
      options: { help: { type: 'boolean', short: 'h' }, ...options },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** The project folder: the single positional argument, or the current folder. */
export function projectDir(positionals: string[], io: CliIO): string {
  if (positionals.length > 1) throw new UsageError(`Expected at most one DIR, got: ${positionals.join(' ')}`);
  return resolve(io.cwd, positionals[0] ?? '.');
}

export function maxBytes(value: string | boolean | undefined): number | undefined {
  if (value === undefined || typeof value === 'boolean') return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new UsageError(`--max-bytes must be a positive whole number of bytes, not "${value}"`);
  return n;
}
