// The promotion gate as the editor shows it: the gate of a deployment's candidate (the last Retrain
// with Production Data of this window, else the candidate run's promotion.json) and the
// confirmation before a version that regressed on a slice or tag becomes production.
import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { describeRegressions } from '../../core/update/gate';
import { runDir } from '../../core/spec/layout';
import { PROMOTION_FILE, type RetrainResult } from '../../core/update/retrain';
import type { GateView } from '../../protocol/monitoring';
import { deploymentKey, type ResolvedDeployment } from './deploymentMonitor';
import type { MonitoringState } from './monitoringState';

/** The gate of a candidate run: its promotion.json (written by Retrain with Production Data), if any; re-read only when the file changes. */
export function readGate(
  state: MonitoringState,
  projectDir: string,
  runId: string,
  candidateVersion?: string,
): GateView | undefined {
  const file = path.join(runDir(projectDir, runId), PROMOTION_FILE);
  let mtimeMs: number;
  try {
    mtimeMs = statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
  let cached = state.gateFiles.get(file);
  if (cached?.mtimeMs !== mtimeMs) {
    let gate: GateView | undefined;
    try {
      const r = JSON.parse(readFileSync(file, 'utf8')) as RetrainResult;
      if (r.comparison)
        gate = {
          productionRunId: r.productionRunId,
          candidateRunId: r.candidateRunId,
          dataVersion: r.dataVersion,
          production: r.production,
          comparison: r.comparison,
        };
    } catch {
      gate = undefined;
    }
    state.gateFiles.set(file, (cached = { mtimeMs, gate }));
  }
  return cached.gate && { ...cached.gate, ...(candidateVersion ? { candidateVersion } : {}) };
}

/** The gate shown for a deployment: the last retrain's, else that of the run its candidate alias serves. */
export function gateOf(state: MonitoringState, ref: ResolvedDeployment): GateView | undefined {
  const model = ref.server?.status?.models.find((m) => m.name === ref.deployment);
  const candidate = model?.versions.find((v) => v.version === model.aliases.candidate);
  const production = model?.versions.find((v) => v.version === model.aliases.production);
  const kept = state.gates.get(deploymentKey(ref));
  let gate: GateView | undefined;
  if (kept && (!candidate || candidate.runId === kept.candidateRunId))
    gate = { ...kept, ...(candidate ? { candidateVersion: candidate.version } : {}) };
  else if (candidate?.runId) gate = readGate(state, ref.projectDir, candidate.runId, candidate.version);
  if (gate && production?.runId === gate.candidateRunId)
    gate = { ...gate, promoted: true, candidateVersion: production.version };
  return gate;
}

/**
 * The gate's confirmation before `runId` becomes production: none when the run has no comparison or
 * the comparison passes; a modal warning naming every slice and tag that got worse otherwise.
 */
export async function confirmPromotion(
  state: MonitoringState,
  projectDir: string,
  runId: string | null | undefined,
  label: string,
): Promise<boolean> {
  const gate = runId ? readGate(state, projectDir, runId) : undefined;
  if (!gate?.comparison.needsConfirmation) return true;
  const c = gate.comparison;
  const lines = describeRegressions(c);
  const detail = [
    c.betterOverall ? 'Better overall, but worse on:' : 'Worse overall than production.',
    ...lines.map((l) => `• ${l}`),
    '',
    `Margin: ${c.metric === 'accuracy' ? `${(c.margin * 100).toFixed(1)} accuracy points` : `${(c.margin * 100).toFixed(1)} % RMSE`} (setting mlLoop.monitor.gateMargin).`,
  ].join('\n');
  const choice = await vscode.window.showWarningMessage(
    `Promote ${label}? The promotion gate found regressions.`,
    { modal: true, detail },
    'Promote Anyway',
  );
  return choice === 'Promote Anyway';
}
