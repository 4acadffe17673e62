// The experiment dispatcher: one entry for "train this experiment of mlloop.json", above both
// trainers. A built-in model trains through src/core/train/run.ts (a worker thread), a script
// experiment through src/core/scripts/runScript.ts (its command); sweeps (./sweep.ts) call this once
// per combination.

import { dirname } from 'node:path';
import { resolveProject } from '../data/dataset';
import { resolveParams } from '../spec/schema';
import { isScriptExperiment, type ExperimentSpec } from '../spec/types';
import { runScriptExperiment } from '../scripts/runScript';
import { runSeed } from '../train/job';
import { outcome, trainJobRun, type RunHooks, type TrainOutcome } from '../train/run';

export type { RunHooks, TrainOutcome };

/**
 * Trains the named experiment of the project in `projectDir` (its mlloop.json): the data is loaded
 * and the model trained in a worker thread; a script experiment runs its command instead
 * (src/core/scripts/runScript). Errors of the project file itself (no mlloop.json, no such
 * experiment) are thrown; anything that goes wrong once the run exists
 * (bad parameters, unusable data, training errors) gives a failed run.
 */
export async function trainExperiment(
  opts: {
    projectDir: string;
    experimentName: string;
    /** Parameters to train with instead of the experiment's own (a re-run with edited params); validated like mlloop.json's. */
    params?: Record<string, unknown>;
    /** Train on this derived data version (augmented, added rows, fixed labels) instead of the data file's own. */
    dataVersion?: string;
    /** Script experiments: the interpreter for `python`/`python3` commands (default: $MLLOOP_PYTHON, else the command as written). */
    pythonPath?: string;
  } & RunHooks,
): Promise<TrainOutcome> {
  const ref = await resolveProject(opts.projectDir);
  const projectDir = dirname(ref.projectFile);
  const experiment = ref.spec.experiments[opts.experimentName];
  if (!experiment) {
    const names = Object.keys(ref.spec.experiments);
    throw new Error(
      `No experiment "${opts.experimentName}" in ${ref.projectFile}${names.length ? ` (experiments: ${names.join(', ')})` : ''}`,
    );
  }
  if (isScriptExperiment(experiment)) {
    const { run, record } = await runScriptExperiment({
      ...opts,
      ref,
      projectDir,
      experiment,
      params: opts.params ?? experiment.params ?? {},
      pythonPath: opts.pythonPath || process.env.MLLOOP_PYTHON || undefined,
    });
    return outcome(run, record);
  }
  // mlloop.json was validated against the schema by resolveProject, so the params are valid here.
  const params = resolveParams(opts.params ? { ...experiment, params: opts.params } : (experiment as ExperimentSpec));
  return trainJobRun(
    projectDir,
    opts.experimentName,
    {
      data: { project: ref, ...(opts.dataVersion ? { dataVersion: opts.dataVersion } : {}) },
      model: experiment.model,
      params,
      seed: runSeed(params),
    },
    opts,
    ref.projectFile,
  );
}
