// What the training feature adds at activation: the CodeLens over mlloop.json experiments and the
// training status-bar item. Commands live in the command table (src/extension/commands.ts).
import * as vscode from 'vscode';
import { ExperimentCodeLensProvider } from './experimentLens';
import { TrainingStatusBar } from './statusBar';
import type { RunTracker } from './runTracker';
import type { ProjectIndex } from '../project/projectIndex';

export function registerTraining(runs: RunTracker, projects: ProjectIndex): vscode.Disposable[] {
  // Lenses are asked again when the projects are (re)scanned: an mlloop.json already open when the
  // extension activated otherwise kept no lenses until it was reopened (seen in the e2e suite).
  const lenses = new ExperimentCodeLensProvider(runs, [projects.onDidChange]);
  return [
    lenses,
    vscode.languages.registerCodeLensProvider({ pattern: '**/mlloop.json' }, lenses),
    new TrainingStatusBar(runs),
  ];
}
