// ml-loop runs [DIR] [--experiment NAME] [--json]: the runs of the project's store, newest first.
import { formatDuration, keyMetric, runDurationMs } from '../../core/track/format';
import { readProjectMetric } from '../../core/track/projectMetric';
import { listRuns } from '../../core/track/store';
import type { TrackedRun } from '../../core/track/types';
import { EXIT_OK, type CliCommand } from '../command';
import { parseCommandArgs, projectDir } from '../options';

/** One run as `ml-loop runs --json` prints it (also the shape `compare --json` uses per column). */
export function runJson(r: TrackedRun): Record<string, unknown> {
  const rec = r.record;
  return {
    runId: r.runId,
    experiment: rec.experiment,
    model: rec.model,
    status: r.status,
    name: r.annotations.name ?? null,
    note: r.annotations.note ?? null,
    starred: r.annotations.starred === true,
    startedAt: rec.startedAt,
    endedAt: rec.endedAt ?? null,
    params: rec.params,
    dataVersion: rec.dataVersion?.id ?? null,
    git: rec.git ?? null,
    metrics: { train: rec.metrics?.train ?? null, dev: rec.metrics?.dev ?? null, test: rec.metrics?.test ?? null },
    modelSize: rec.modelSize ?? null,
    dir: r.dir,
  };
}

export const runsCommand: CliCommand = {
  name: 'runs',
  summary: 'List the runs of the project (newest first) with their metrics',
  usage: `ml-loop runs [DIR] [--experiment NAME] [--json]

Lists the runs recorded under DIR/.mlloop/runs (default DIR: the current folder), newest first, with
their status (running, completed, failed, cancelled, interrupted) and key metric. Unreadable run
folders are reported on stderr and skipped.

  --experiment NAME  only the runs of this experiment
  --json             print { "runs": [...], "problems": [...] }`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      experiment: { type: 'string', short: 'e' },
      json: { type: 'boolean' },
    });
    const dir = projectDir(positionals, io);
    const listing = await listRuns(dir);
    const runs = values.experiment
      ? listing.runs.filter((r) => r.record.experiment === values.experiment)
      : listing.runs;
    for (const p of listing.problems) io.err(`${p.file}: ${p.message}`);
    if (values.json) {
      io.out(JSON.stringify({ runs: runs.map(runJson), problems: listing.problems }, null, 2));
      return EXIT_OK;
    }
    if (runs.length === 0) {
      io.out(`no runs in ${dir}`);
      return EXIT_OK;
    }
    const metric = readProjectMetric(dir);
    const rows = runs.map((r) => [
      `${r.annotations.starred ? '★ ' : ''}${r.runId}`,
      r.record.experiment,
      r.status,
      keyMetric(r.record, metric) ?? '',
      r.record.endedAt ? formatDuration(runDurationMs(r.record)) : '',
      r.annotations.name ?? '',
    ]);
    const header = ['RUN', 'EXPERIMENT', 'STATUS', 'METRIC', 'DURATION', 'NAME'];
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
