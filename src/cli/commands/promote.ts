// ml-loop promote --server URL --model NAME --version V [--alias production|candidate]: points an alias of a
// running server at a version (hot swap: loaded and warmed first, then switched; in-flight requests finish).
import { EXIT_OK, EXIT_PROBLEMS, UsageError, type CliCommand } from '../command';
import { parseCommandArgs } from '../options';
import { callServer } from './serverClient';

export const promoteCommand: CliCommand = {
  name: 'promote',
  summary: "Point a served model's production (or candidate) alias at a version, without downtime",
  usage: `ml-loop promote --server URL --model NAME --version V [--alias production] [--token-file F] [--json]

Calls POST URL/v2/models/NAME/aliases/ALIAS {"version": V}: the server loads and warms version V while
the current one keeps serving, then switches; requests already running finish on their version.

  --server URL      the server (e.g. http://127.0.0.1:8000)
  --model NAME      the model name
  --version V       the version to promote
  --alias A         production (default) or candidate
  --token-file F    bearer token file, when the server requires one
  --json            print the aliases as JSON`,
  async run(args, io) {
    const { values } = parseCommandArgs(args, {
      server: { type: 'string' },
      model: { type: 'string' },
      version: { type: 'string' },
      alias: { type: 'string' },
      'token-file': { type: 'string' },
      json: { type: 'boolean' },
    });
    if (!values.server || !values.model || !values.version)
      throw new UsageError('--server, --model and --version are required');
    const alias = values.alias ?? 'production';
    const r = await callServer(
      io,
      values.server,
      `v2/models/${encodeURIComponent(values.model)}/aliases/${encodeURIComponent(alias)}`,
      { version: values.version },
      values['token-file'],
    );
    if (r.status !== 200) {
      io.err(`ml-loop promote: ${r.status} ${String(r.json.error ?? '')}`);
      return EXIT_PROBLEMS;
    }
    io.out(
      values.json
        ? JSON.stringify(r.json)
        : `${values.model}: production ${r.json.production ?? '-'}, candidate ${r.json.candidate ?? '-'}`,
    );
    return EXIT_OK;
  },
};
