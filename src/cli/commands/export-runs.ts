// ml-loop export-runs [DIR] --format mlflow [--out PATH] [--run ID]...: writes runs in MLflow's mlruns layout.
import { resolve, join } from 'node:path';
import { exportMlflow } from '../../core/track/mlflow';
import { listRuns } from '../../core/track/store';
import { EXIT_OK, EXIT_PROBLEMS, UsageError, type CliCommand } from '../command';
import { parseCommandArgs, projectDir } from '../options';

export const exportRunsCommand: CliCommand = {
  name: 'export-runs',
  summary: "Export runs in MLflow's mlruns file layout",
  usage: `ml-loop export-runs [DIR] --format mlflow [--out PATH] [--run ID]... [--json]

Writes the runs of DIR/.mlloop/runs (default DIR: the current folder) into an MLflow file store
(default PATH: DIR/mlruns): one MLflow experiment per experiment, params, per-epoch metrics
(train_loss, dev_loss, dev_<metric>) and final_<split>_<metric>, tags (name, note, git commit) and
artifacts (model.onnx, log.txt, mlloop.json, metrics.jsonl). Open it with \`mlflow ui --backend-store-uri PATH\`.
Runs already exported to PATH are skipped.

  --format mlflow  the only format
  --out PATH       the mlruns folder
  --run ID         export only this run (repeatable)
  --json           print { "exported": [...], "skipped": [...] }`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      format: { type: 'string' },
      out: { type: 'string' },
      run: { type: 'string', multiple: true },
      json: { type: 'boolean' },
    });
    if (values.format !== 'mlflow')
      throw new UsageError(
        values.format ? `unknown format "${values.format}" (only mlflow)` : '--format mlflow is required',
      );
    const dir = projectDir(positionals, io);
    const out = resolve(io.cwd, values.out ?? join(dir, 'mlruns'));
    const listing = await listRuns(dir);
    for (const p of listing.problems) io.err(`${p.file}: ${p.message}`);
    const wanted = values.run ? new Set(values.run) : undefined;
    const runs = wanted ? listing.runs.filter((r) => wanted.has(r.runId)) : listing.runs;
    const missing = wanted ? [...wanted].filter((id) => !runs.some((r) => r.runId === id)) : [];
    if (missing.length) {
      io.err(`ml-loop export-runs: no such run: ${missing.join(', ')}`);
      return EXIT_PROBLEMS;
    }
    const result = exportMlflow(runs, out);
    if (values.json) io.out(JSON.stringify({ out, ...result }, null, 2));
    else {
      io.out(
        `exported ${result.exported.length} run(s) to ${out}${result.skipped.length ? ` (${result.skipped.length} already there)` : ''}`,
      );
    }
    return EXIT_OK;
  },
};
