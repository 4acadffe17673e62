// Every `ml-loop` command, in the order `ml-loop --help` lists them. To add one: write
// src/cli/commands/<name>.ts exporting a CliCommand and add it here.
import type { CliCommand } from '../command';
import { profileCommand } from './profile';
import { validateCommand } from './validate';

export const commands: CliCommand[] = [validateCommand, profileCommand];
