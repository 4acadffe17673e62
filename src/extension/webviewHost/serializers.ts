// Panels come back after a window reload: each webview keeps its panel's restore key (what it shows)
// in its VS Code state (webview/shared/api.ts), and the serializer of its view type opens the same
// panel through the usual show path, which adopts the restored tab (PanelRegistry.adopt). A key whose
// project, run or deployment is gone closes the tab with a line in the log instead.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isRecord } from '../../protocol/common';
import { resolveDeployment } from '../commandTargets';
import type { Services } from '../services';
import { runsDir } from '../../core/spec/layout';

type Key = Record<string, unknown>;

const str = (k: Key, name: string): string | undefined =>
  typeof k[name] === 'string' ? (k[name] as string) : undefined;

/** How each view type reopens from its key: a function that shows the panel, or why it cannot. */
const REOPEN: Record<string, (s: Services, k: Key) => string | (() => Promise<unknown>)> = {
  'mlLoop.data': (s, k) => {
    const file = str(k, 'projectFile');
    if (!file || !existsSync(file)) return `no project file ${file ?? '(none)'}`;
    return async () => (await import('../data/dataPanel')).DataPanel.show(s, vscode.Uri.file(file));
  },
  'mlLoop.training': (s, k) =>
    withRun(k, async (projectDir, runId) =>
      (await import('../training/trainingPanel')).TrainingPanel.show(s, projectDir, runId),
    ),
  'mlLoop.errorAnalysis': (s, k) =>
    withRun(k, async (projectDir, runId) =>
      (await import('../errorAnalysis/errorAnalysisPanel')).ErrorAnalysisPanel.show(s, projectDir, runId),
    ),
  'mlLoop.diagnostics': (s, k) =>
    withRun(k, async (projectDir, runId) =>
      (await import('../diagnose/commands')).diagnoseRunCommand(s, {
        projectFile: vscode.Uri.file(path.join(projectDir, 'mlloop.json')),
        runId,
      }),
    ),
  'mlLoop.compare': (s, k) => {
    const projectDir = str(k, 'projectDir');
    const runIds =
      Array.isArray(k.runIds) && k.runIds.every((r) => typeof r === 'string') ? (k.runIds as string[]) : undefined;
    if (!projectDir || !runIds) return 'no runs named';
    const gone = runIds.find((r) => !existsSync(runDirOf(projectDir, r)));
    if (gone) return `run ${gone} is gone`;
    return async () => (await import('../experiments/comparePanel')).ComparePanel.show(s, projectDir, runIds);
  },
  'mlLoop.monitoring': (s, k) => {
    const projectDir = str(k, 'projectDir');
    const deployment = str(k, 'deployment');
    if (!projectDir || !deployment || !existsSync(projectDir)) return `no project ${projectDir ?? '(none)'}`;
    return async () => {
      const ref = await resolveDeployment(s, { projectDir, deployment });
      if (ref) (await import('../monitoring/monitoringPanel')).MonitoringPanel.show(s, ref);
    };
  },
};

function runDirOf(projectDir: string, runId: string): string {
  return path.join(runsDir(projectDir), runId);
}

function withRun(
  k: Key,
  open: (projectDir: string, runId: string) => Promise<unknown>,
): string | (() => Promise<unknown>) {
  const projectDir = str(k, 'projectDir');
  const runId = str(k, 'runId');
  if (!projectDir || !runId) return 'no run named';
  if (!existsSync(runDirOf(projectDir, runId))) return `run ${runId} is gone`;
  return () => open(projectDir, runId);
}

/** Reopens a panel VS Code restored after a reload from the state its webview kept. */
export async function restorePanel(s: Services, panel: vscode.WebviewPanel, state: unknown): Promise<void> {
  const key = isRecord(state) && isRecord(state.panel) ? state.panel : undefined;
  const reopen = key && REOPEN[panel.viewType]?.(s, key);
  if (typeof reopen !== 'function') {
    s.log.info(`not restoring the ${panel.viewType} panel "${panel.title}": ${reopen ?? 'it kept no state'}`);
    panel.dispose();
    return;
  }
  try {
    await s.panels.adopt(panel, key, reopen);
  } catch (e) {
    s.log.warn(
      `could not restore the ${panel.viewType} panel "${panel.title}": ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}

/** The view types whose panels come back after a reload (package.json activates the extension for each). */
export const RESTORABLE_VIEW_TYPES = Object.keys(REOPEN);

export function registerPanelSerializers(s: Services): vscode.Disposable[] {
  return RESTORABLE_VIEW_TYPES.map((viewType) =>
    vscode.window.registerWebviewPanelSerializer(viewType, {
      deserializeWebviewPanel: (panel, state) => restorePanel(s, panel, state),
    }),
  );
}
