// Every `ml-loop` command, in the order `ml-loop --help` lists them. To add one: write
// src/cli/commands/<name>.ts exporting a CliCommand and add it here.
import type { CliCommand } from '../command';
import { augmentCommand } from './augment';
import { compareCommand } from './compare';
import { diagnoseCommand } from './diagnose';
import { driftCommand } from './drift';
import { errorsCommand } from './errors';
import { exportCommand } from './export';
import { exportRunsCommand } from './export-runs';
import { importRunsCommand } from './import-runs';
import { profileCommand } from './profile';
import { promoteCommand } from './promote';
import { retrainCommand } from './retrain';
import { reviewCommand } from './review';
import { rollbackCommand } from './rollback';
import { runsCommand } from './runs';
import { serveCommand } from './serve';
import { similarCommand } from './similar';
import { trainCommand } from './train';
import { validateCommand } from './validate';

export const commands: CliCommand[] = [
  validateCommand,
  profileCommand,
  trainCommand,
  runsCommand,
  compareCommand,
  diagnoseCommand,
  errorsCommand,
  augmentCommand,
  similarCommand,
  exportRunsCommand,
  importRunsCommand,
  serveCommand,
  driftCommand,
  promoteCommand,
  rollbackCommand,
  retrainCommand,
  reviewCommand,
  exportCommand,
];
