// Every command of the extension, in one table: id → handler. registerCommands wraps each handler
// once (log + error notification) and ties its registration to the extension's lifetime.
// Handlers of heavier features are loaded on first use (import() inside the handler).
import * as vscode from 'vscode';
import { showProblemNotification } from './problems/notify';
import { ProjectProblemError } from './problems/problemError';
import { requireProject } from './commandTargets';
import type { Services } from './services';
import { ExperimentNode } from './experiments/experimentsTree';

export type CommandHandler = (services: Services, ...args: unknown[]) => unknown;

export const COMMANDS: Record<string, CommandHandler> = {
  'mlLoop.createProject': async (s, sampleName?: unknown, target?: unknown) => {
    const { createProject } = await import('./project/createProject');
    return createProject(
      s,
      typeof sampleName === 'string' ? sampleName : undefined,
      target instanceof vscode.Uri ? target : undefined,
    );
  },
  'mlLoop.openDataPanel': async (s) => {
    const project = await requireProject(s, 'Profile the data of which project?');
    // Unusable data (a ragged row, an unknown target…) is named with its line, not profiled.
    await s.diagnostics.assertUsable(project.file);
    const { DataPanel } = await import('./data/dataPanel');
    DataPanel.show(s, project.file);
  },
  'mlLoop.showLog': (s) => s.log.show(true),
  'mlLoop.openProjectFile': async (s) => {
    const project = await requireProject(s, 'Open which project file?');
    await vscode.window.showTextDocument(project.file);
  },
  'mlLoop.refreshExperiments': (s) => s.projects.refresh(),
  // Training and runs (src/extension/training/commands.ts, loaded on first use).
  'mlLoop.trainExperiment': async (s, arg) => (await import('./training/commands')).trainExperimentCommand(s, arg),
  'mlLoop.trainOnCluster': async (s, arg) => (await import('./training/commands')).trainOnClusterCommand(s, arg),
  'mlLoop.trainAll': async (s) => (await import('./training/commands')).trainAllCommand(s),
  'mlLoop.cancelRun': async (s, arg) => (await import('./training/commands')).cancelRunCommand(s, arg),
  'mlLoop.renameRun': async (s, arg) => (await import('./training/commands')).renameRunCommand(s, arg),
  'mlLoop.editRunNote': async (s, arg) => (await import('./training/commands')).editRunNoteCommand(s, arg),
  'mlLoop.toggleRunStar': async (s, arg) => (await import('./training/commands')).toggleRunStarCommand(s, arg),
  'mlLoop.deleteRun': async (s, arg, selected) =>
    (await import('./training/commands')).deleteRunCommand(s, arg, selected),
  'mlLoop.openTrainingCurves': async (s, arg) =>
    (await import('./training/commands')).openTrainingCurvesCommand(s, arg),
  'mlLoop.compareRuns': async (s, arg, selected) =>
    (await import('./training/commands')).compareRunsCommand(s, arg, selected),
  'mlLoop.compareSweep': async (s, arg) => (await import('./training/commands')).compareSweepCommand(s, arg),
  'mlLoop.rerunWithEditedParams': async (s, arg) =>
    (await import('./training/commands')).rerunWithEditedParamsCommand(s, arg),
  'mlLoop.revealModelFile': async (s, arg) => (await import('./training/commands')).revealModelFileCommand(s, arg),
  'mlLoop.showMoreRuns': async (s, arg) => (await import('./training/commands')).showMoreRunsCommand(s, arg),
  'mlLoop.diagnoseRun': async (s, arg) => (await import('./diagnose/commands')).diagnoseRunCommand(s, arg),
  'mlLoop.offerTraining': async (s, arg) => (await import('./diagnose/commands')).offerTrainingCommand(s, arg),
  'mlLoop.openErrorAnalysis': async (s, arg) =>
    (await import('./errorAnalysis/commands')).openErrorAnalysisCommand(s, arg),
  // Deployments (src/extension/deploy/commands.ts, loaded on first use).
  'mlLoop.deployRun': async (s, arg) => (await import('./deploy/commands')).deployRunCommand(s, arg),
  'mlLoop.promoteVersion': async (s, arg) => (await import('./deploy/commands')).promoteCommand(s, arg),
  'mlLoop.rollbackModel': async (s, arg) => (await import('./deploy/commands')).rollbackCommand(s, arg),
  'mlLoop.stopServer': async (s, arg) => (await import('./deploy/commands')).stopServerCommand(s, arg),
  'mlLoop.openDeploymentLogs': async (s, arg) => (await import('./deploy/commands')).openLogsCommand(s, arg),
  'mlLoop.copyCurlExample': async (s, arg) => (await import('./deploy/commands')).copyCurlCommand(s, arg),
  'mlLoop.sendTestRequest': async (s, arg) => (await import('./deploy/commands')).sendTestRequestCommand(s, arg),
  // Monitoring and updating (src/extension/monitoring/commands.ts, loaded on first use).
  'mlLoop.openMonitoring': async (s, arg) => (await import('./monitoring/commands')).openMonitoringCommand(s, arg),
  'mlLoop.retrainWithProductionData': async (s, arg) =>
    (await import('./monitoring/commands')).retrainWithProductionDataCommand(s, arg),
  'mlLoop.promoteCandidate': async (s, arg) => (await import('./monitoring/commands')).promoteCandidateCommand(s, arg),
  'mlLoop.sendToErrorAnalysis': async (s, arg) =>
    (await import('./monitoring/commands')).sendToErrorAnalysisCommand(s, arg),
  'mlLoop.copyPythonHelper': async (s) => {
    const project = await requireProject(s, 'Copy mlloop.py into which project?');
    const { copyPythonHelper } = await import('./training/scriptExperiments');
    const target = await copyPythonHelper(project.file);
    if (target) await vscode.window.showTextDocument(target);
  },
  'mlLoop.revealExperiment': async (_s, node?: unknown) => {
    if (!(node instanceof ExperimentNode)) throw new Error('select an experiment in the Experiments view');
    const doc = await vscode.workspace.openTextDocument(node.project.file);
    const start = doc.positionAt(node.experiment.keyOffset);
    const end = doc.positionAt(node.experiment.keyOffset + node.experiment.keyLength);
    await vscode.window.showTextDocument(doc, { selection: new vscode.Range(start, end), preview: true });
  },
};

export function registerCommands(
  services: Services,
  table: Record<string, CommandHandler> = COMMANDS,
): vscode.Disposable[] {
  return Object.entries(table).map(([id, handler]) =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      const t0 = performance.now();
      try {
        const result = await handler(services, ...args);
        services.log.debug(`${id} done in ${Math.round(performance.now() - t0)} ms`);
        return result;
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        services.log.error(`${id} failed: ${message}`, e instanceof Error && e.stack ? e.stack : '');
        if (e instanceof ProjectProblemError) {
          void showProblemNotification(e, services.log);
          return undefined;
        }
        void vscode.window.showErrorMessage(`ML Loop: ${message}`, 'Show Log').then((choice) => {
          if (choice) services.log.show(true);
        });
        return undefined;
      }
    }),
  );
}
