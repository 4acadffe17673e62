// Every `ml-loop` command, in the order `ml-loop --help` lists them. To add one: write
// src/cli/commands/<name>.ts exporting a CliCommand and add it here.
import type { CliCommand } from '../command';
import { compareCommand } from './compare';
import { diagnoseCommand } from './diagnose';
import { exportRunsCommand } from './export-runs';
import { importRunsCommand } from './import-runs';
import { profileCommand } from './profile';
import { runsCommand } from './runs';
import { trainCommand } from './train';
import { validateCommand } from './validate';

export const commands: CliCommand[] = [validateCommand, profileCommand, trainCommand, runsCommand, compareCommand, diagnoseCommand, exportRunsCommand, importRunsCommand];
