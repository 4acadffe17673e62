// What the training feature adds at activation: the CodeLens over mlloop.json experiments and the
// training status-bar item. Commands live in the command table (src/extension/commands.ts).
import * as vscode from 'vscode';
import { ExperimentCodeLensProvider } from '../codelens/experimentLens';
import { TrainingStatusBar } from './statusBar';
import type { RunTracker } from './runTracker';

export function registerTraining(runs: RunTracker): vscode.Disposable[] {
  const lenses = new ExperimentCodeLensProvider(runs);
  return [lenses, vscode.languages.registerCodeLensProvider({ pattern: '**/mlloop.json' }, lenses), new TrainingStatusBar(runs)];
}
