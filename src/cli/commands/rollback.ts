// ml-loop rollback --server URL --model NAME: production goes back to the version it had before the last switch.
import { EXIT_OK, EXIT_PROBLEMS, UsageError, type CliCommand } from '../command';
import { parseCommandArgs } from '../options';
import { callServer } from './serverClient';

export const rollbackCommand: CliCommand = {
  name: 'rollback',
  summary: "Point a served model's production alias back at its previous version",
  usage: `ml-loop rollback --server URL --model NAME [--token-file F] [--json]

Calls POST URL/v2/models/NAME/rollback: the same hot swap as promote, back to the previous production
version (the version rolled back from becomes the candidate).

  --server URL      the server (e.g. http://127.0.0.1:8000)
  --model NAME      the model name
  --token-file F    bearer token file, when the server requires one
  --json            print the aliases as JSON`,
  async run(args, io) {
    const { values } = parseCommandArgs(args, {
      server: { type: 'string' },
      model: { type: 'string' },
      'token-file': { type: 'string' },
      json: { type: 'boolean' },
    });
    if (!values.server || !values.model) throw new UsageError('--server and --model are required');
    const r = await callServer(
      io,
      values.server,
      `v2/models/${encodeURIComponent(values.model)}/rollback`,
      {},
      values['token-file'],
    );
    if (r.status !== 200) {
      io.err(`ml-loop rollback: ${r.status} ${String(r.json.error ?? '')}`);
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
