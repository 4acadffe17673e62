// ml-loop compare RUN RUN... [--dir DIR] [--json | --csv]: parameters and metrics of 2–20 runs side by side.
import { buildCompareTable, compareTableCsv, MAX_COMPARE, MIN_COMPARE } from '../../core/track/compare';
import { readTrackedRun } from '../../core/track/store';
import { EXIT_OK, EXIT_PROBLEMS, UsageError, type CliCommand } from '../command';
import { parseCommandArgs } from '../options';
import { resolve } from 'node:path';
import { runJson } from './runs';

export const compareCommand: CliCommand = {
  name: 'compare',
  summary: 'Compare 2 to 20 runs: parameters and metrics side by side',
  usage: `ml-loop compare RUN RUN... [--dir DIR] [--json | --csv]

Compares runs of DIR/.mlloop/runs (default DIR: the current folder): every parameter and metric,
whether the runs differ, and the best run per metric (* in the text output).

  --dir DIR  the project folder
  --json     print { "runs": [...], "rows": [{ section, key, values, differs, best }] }
  --csv      print the table as CSV`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      dir: { type: 'string' },
      json: { type: 'boolean' },
      csv: { type: 'boolean' },
    });
    if (positionals.length < MIN_COMPARE || positionals.length > MAX_COMPARE)
      throw new UsageError(`give ${MIN_COMPARE} to ${MAX_COMPARE} run ids, not ${positionals.length}`);
    if (values.json && values.csv) throw new UsageError('--json and --csv exclude each other');
    const dir = resolve(io.cwd, values.dir ?? '.');
    const runs = [];
    for (const id of positionals) {
      const read = readTrackedRun(dir, id);
      if (!read.run) {
        io.err(`ml-loop compare: run ${id}: ${read.problems.map((p) => p.message).join('; ')}`);
        return EXIT_PROBLEMS;
      }
      runs.push(read.run);
    }
    const table = buildCompareTable(runs);
    if (values.csv) {
      io.out(compareTableCsv(table).trimEnd());
      return EXIT_OK;
    }
    if (values.json) {
      io.out(
        JSON.stringify(
          {
            runs: runs.map(runJson),
            rows: table.rows.map(({ section, key, values: v, differs, best }) => ({
              section,
              key,
              values: v,
              differs,
              best,
            })),
          },
          null,
          2,
        ),
      );
      return EXIT_OK;
    }
    const header = ['', ...table.columns.map((c) => c.label)];
    const rows = table.rows.map((r) => [
      `${r.differs ? '≠ ' : '  '}${r.key}`,
      ...r.display.map((d, i) => (r.best.includes(i) ? `${d} *` : d)),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
    for (const row of [header, ...rows])
      io.out(
        row
          .map((c, i) => c.padEnd(widths[i]))
          .join('  ')
          .trimEnd(),
      );
    return EXIT_OK;
  },
};
