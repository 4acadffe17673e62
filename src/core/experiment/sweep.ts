// Sweeps: an experiment's `"sweep": {"lr": [0.01, 0.001], "hidden": [64, 128]}` trains one run per
// combination of the grid (built-in and script experiments alike), each recorded with the same
// group id in run.json so the tree and the Compare panel can show them together.

import { availableParallelism } from 'node:os';
import { resolveProject } from '../data/dataset';
import { trainExperiment, type TrainOutcome } from '../experiment/trainExperiment';
import { newRunId, type RunGroup } from '../train/runStore';
import type { ProgressEvent } from '../train/types';

/** Every combination of the grid, the first key varying slowest; one empty combination for an empty grid. */
export function sweepCombinations(sweep: Record<string, unknown[]>): Record<string, unknown>[] {
  let combos: Record<string, unknown>[] = [{}];
  for (const [name, values] of Object.entries(sweep)) {
    combos = combos.flatMap((c) => values.map((v) => ({ ...c, [name]: v })));
  }
  return combos;
}

/** Default parallelism of a sweep: one run per core. */
export function defaultSweepParallelism(): number {
  return Math.max(1, availableParallelism());
}

/** Runs `tasks` with at most `limit` of them in flight; results in task order. Stops starting new ones once `stop()` says so. */
export async function runBounded<T>(
  tasks: (() => Promise<T>)[],
  limit: number,
  stop: () => boolean = () => false,
): Promise<(T | undefined)[]> {
  const results: (T | undefined)[] = new Array(tasks.length).fill(undefined);
  let next = 0;
  const lane = async () => {
    while (next < tasks.length && !stop()) {
      const i = next++;
      results[i] = await tasks[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, tasks.length)) }, lane));
  return results;
}

export interface SweepOptions {
  projectDir: string;
  experimentName: string;
  /** Runs in flight at once; default one per core. */
  parallel?: number;
  pythonPath?: string;
  signal?: AbortSignal;
  onRunCreated?: (runId: string, runDir: string, group: RunGroup) => void;
  onProgress?: (runId: string, e: ProgressEvent) => void;
  onOutput?: (runId: string, line: string, stream: 'stdout' | 'stderr') => void;
}

/** Trains every combination of the experiment's sweep (its params with the combination's values over them). */
export async function trainSweep(opts: SweepOptions): Promise<{ groupId: string; outcomes: TrainOutcome[] }> {
  const ref = await resolveProject(opts.projectDir);
  const experiment = ref.spec.experiments[opts.experimentName];
  if (!experiment) throw new Error(`No experiment "${opts.experimentName}" in ${ref.projectFile}`);
  if (!experiment.sweep || Object.keys(experiment.sweep).length === 0)
    throw new Error(`Experiment "${opts.experimentName}" has no "sweep"`);
  const combos = sweepCombinations(experiment.sweep);
  const groupId = `sweep-${newRunId()}`;
  const tasks = combos.map((values, index) => async () => {
    let runId = '';
    const group: RunGroup = { id: groupId, index, size: combos.length, values };
    return trainExperiment({
      projectDir: opts.projectDir,
      experimentName: opts.experimentName,
      params: { ...(experiment.params ?? {}), ...values },
      pythonPath: opts.pythonPath,
      group,
      signal: opts.signal,
      onRunCreated: (id, dir) => {
        runId = id;
        opts.onRunCreated?.(id, dir, group);
      },
      onProgress: (e) => opts.onProgress?.(runId, e),
      onOutput: (line, stream) => opts.onOutput?.(runId, line, stream),
    });
  });
  const results = await runBounded(
    tasks,
    opts.parallel ?? defaultSweepParallelism(),
    () => opts.signal?.aborted === true,
  );
  return { groupId, outcomes: results.filter((o): o is TrainOutcome => o !== undefined) };
}
