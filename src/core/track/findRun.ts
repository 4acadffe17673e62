// Which completed run a name means: "latest", "latest:<experiment>" or a run id (a unique prefix
// is enough). Diagnosis, error analysis and retraining all take a run this way.
import { type RunRecord } from '../train/runStore';
import { listRuns } from './store';
import { runsDir } from '../spec/layout';

/** Resolves "latest", "latest:<experiment>" or a run id (a unique prefix is enough) to a completed run. */
export async function findRun(projectDir: string, run: string): Promise<RunRecord> {
  const runs = (await listRuns(projectDir)).runs.map((r) => r.record);
  const completed = runs.filter((r) => r.status === 'completed');
  let found: RunRecord | undefined;
  if (run === 'latest') found = completed[0];
  else if (run.startsWith('latest:')) found = completed.find((r) => r.experiment === run.slice('latest:'.length));
  else {
    const matches = runs.filter((r) => r.runId.startsWith(run));
    const exact = matches.find((r) => r.runId === run);
    if (!exact && matches.length > 1)
      throw new Error(`Run id "${run}" is ambiguous: ${matches.map((r) => r.runId).join(', ')}`);
    found = exact ?? matches[0];
  }
  if (!found)
    throw new Error(
      `No ${run.startsWith('latest') ? 'completed ' : ''}run "${run}" in ${runsDir(projectDir)}${
        runs.length
          ? ` (runs: ${runs
              .slice(0, 5)
              .map((r) => r.runId)
              .join(', ')}${runs.length > 5 ? ', …' : ''})`
          : ''
      }`,
    );
  if (found.status !== 'completed')
    throw new Error(`Run ${found.runId} is ${found.status}: only completed runs have a model to diagnose`);
  return found;
}
