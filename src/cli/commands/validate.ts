// ml-loop validate [DIR]: checks mlloop.json and its data; prints `file:line:col: severity: message`.
import { hasErrors, loadProject } from '../../core/check/loadProject';
import { formatProblem } from '../../core/spec/problems';
import { EXIT_OK, EXIT_PROBLEMS, type CliCommand } from '../command';
import { MAX_BYTES_OPTION, MAX_BYTES_USAGE, maxBytes, parseCommandArgs, projectDir } from '../options';

export const validateCommand: CliCommand = {
  name: 'validate',
  summary: 'Check mlloop.json and its data; exit 0 when valid',
  usage: `ml-loop validate [DIR] [--max-bytes N]

Checks DIR/mlloop.json (default: the current folder) against its schema and its data: the file exists and
reads as UTF-8 CSV or JSON Lines, the named columns exist, numeric columns hold numbers, the target has
classes, the split leaves dev rows. Prints each problem as file:line:col: severity: message.
Exit code: 0 valid (warnings allowed), 1 errors found, 2 wrong usage.

${MAX_BYTES_USAGE}`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, MAX_BYTES_OPTION);
    const project = await loadProject(projectDir(positionals, io), { maxBytes: maxBytes(values['max-bytes']) });
    for (const p of project.problems) io.err(formatProblem(p));
    if (hasErrors(project.problems)) return EXIT_PROBLEMS;
    const d = project.data;
    io.out(
      `${project.file}: valid${d ? ` (${d.rows} rows; train ${d.split.train}, dev ${d.split.dev}, test ${d.split.test}; data version ${d.version.id})` : ''}`,
    );
    return EXIT_OK;
  },
};
