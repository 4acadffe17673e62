// Error Analysis command: opens the panel for a run (a completed run in the Experiments tree, a
// {projectDir | projectFile, runId, filter?} from another panel such as a confusion-matrix cell or the
// Monitoring panel's queued production requests, or the user's pick).
import { isRunRef, resolveRunTarget, type RunRef } from '../commandTargets';
import type { Services } from '../services';

export interface ErrorAnalysisRef extends RunRef {
  /** Open filtered to a confusion-matrix cell (class names), or on the Production source (the review queue). */
  filter?: { truth?: string; predicted?: string; source?: 'dev' | 'production' };
}

export async function openErrorAnalysisCommand(s: Services, arg?: unknown): Promise<{ runId: string } | undefined> {
  const target = await resolveRunTarget(s, arg, {
    project: 'Analyse the errors of which project?',
    run: 'Analyse the errors of which run?',
    filter: (r) => r.status === 'completed',
    none: 'no completed run to analyse: train an experiment first',
  });
  if (!target) return undefined;
  const filter = isRunRef(arg) ? (arg as ErrorAnalysisRef).filter : undefined;
  const { ErrorAnalysisPanel } = await import('./errorAnalysisPanel');
  ErrorAnalysisPanel.show(s, target.projectDir, target.runId, filter);
  return { runId: target.runId };
}
