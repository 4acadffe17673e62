// ml-loop import-runs MLRUNS [--dir DIR] [--json]: reads an MLflow mlruns folder into the run store.
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { importMlflow } from '../../core/track/mlflow';
import { EXIT_OK, EXIT_PROBLEMS, UsageError, type CliCommand } from '../command';
import { parseCommandArgs } from '../options';

export const importRunsCommand: CliCommand = {
  name: 'import-runs',
  summary: 'Import runs from an MLflow mlruns folder',
  usage: `ml-loop import-runs MLRUNS [--dir DIR] [--json]

Reads the runs of an MLflow file store (the layout export-runs writes) into DIR/.mlloop/runs (default
DIR: the current folder). Runs exported by ML Loop come back exactly (id, parameters, metrics and their
history, name, note, star, model); other MLflow runs bring their params, final_* metrics and the
train_loss / dev_loss / dev_<metric> curves. Runs already in the store are skipped.
Exit code 1 when some run could not be imported.

  --dir DIR  the project folder
  --json     print { "imported": [...], "skipped": [...], "problems": [...] }`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, { dir: { type: 'string' }, json: { type: 'boolean' } });
    if (positionals.length !== 1) throw new UsageError('give the mlruns folder to import');
    const mlruns = resolve(io.cwd, positionals[0]);
    if (!existsSync(mlruns)) throw new UsageError(`${mlruns} does not exist`);
    const result = importMlflow(mlruns, resolve(io.cwd, values.dir ?? '.'));
    if (values.json) io.out(JSON.stringify(result, null, 2));
    else {
      io.out(
        `imported ${result.imported.length} run(s)${result.skipped.length ? `, skipped ${result.skipped.length} already in the store` : ''}`,
      );
      for (const p of result.problems) io.err(`${p.file}: ${p.message}`);
    }
    return result.problems.length ? EXIT_PROBLEMS : EXIT_OK;
  },
};
