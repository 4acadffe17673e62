// ml-loop profile [DIR] [--json]: the data profile (columns, class balance, duplicates, leakage).
import { profileProject } from '../../core/data/profile';
import type { ColumnProfile, DataProfile } from '../../core/data/profileTypes';
import { hasErrors, loadProject } from '../../core/check/loadProject';
import { formatProblem } from '../../core/spec/problems';
import { EXIT_OK, EXIT_PROBLEMS, type CliCommand } from '../command';
import { MAX_BYTES_OPTION, MAX_BYTES_USAGE, maxBytes, parseCommandArgs, projectDir } from '../options';

export const profileCommand: CliCommand = {
  name: 'profile',
  summary: 'Profile the data: column statistics, class balance, duplicates, leakage',
  usage: `ml-loop profile [DIR] [--json] [--max-bytes N]

Profiles the data of DIR/mlloop.json (default: the current folder). The project is validated first: when
it has errors they are printed (file:line:col: severity: message) and the exit code is 1.

  --json          print the DataProfile as JSON (what the Data panel draws)
${MAX_BYTES_USAGE}`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' }, ...MAX_BYTES_OPTION });
    const dir = projectDir(positionals, io);
    const limit = maxBytes(values['max-bytes']);
    // Schema and header checks only: the profile itself reads the data once.
    const project = await loadProject(dir, { checkData: false });
    if (hasErrors(project.problems)) {
      for (const p of project.problems) io.err(formatProblem(p));
      return EXIT_PROBLEMS;
    }
    let profile: DataProfile;
    try {
      profile = await profileProject(dir, { maxBytes: limit });
    } catch (e) {
      const located = e as { file?: string; line?: number; detail?: string };
      if (located.file && located.line)
        io.err(`${located.file}:${located.line}:1: error: ${located.detail ?? (e as Error).message}`);
      else io.err(`error: ${(e as Error).message}`);
      return EXIT_PROBLEMS;
    }
    io.out(values.json ? JSON.stringify(profile, null, 2) : formatProfile(profile));
    return profile.findings.some((f) => f.severity === 'error') ? EXIT_PROBLEMS : EXIT_OK;
  },
};

function num(v: number): string {
  return Number.isInteger(v) ? String(v) : Math.abs(v) >= 1000 || Math.abs(v) < 0.01 ? v.toPrecision(4) : v.toFixed(3);
}

function columnLine(c: ColumnProfile): string {
  const s = c.stats;
  const detail =
    s.kind === 'numeric'
      ? `min ${num(s.min)}  max ${num(s.max)}  mean ${num(s.mean)}  std ${num(s.std)}`
      : `top ${s.topValues
          .slice(0, 3)
          .map((t) => `${t.value} (${t.count})`)
          .join(', ')}`;
  const distinct = `${c.distinct}${c.distinctIsLowerBound ? '+' : ''}`;
  return `  ${c.name.padEnd(16)} ${c.role.padEnd(7)} ${s.kind.padEnd(11)} missing ${String(c.missing).padStart(6)}  distinct ${distinct.padStart(6)}  ${detail}`;
}

export function formatProfile(p: DataProfile): string {
  const lines = [
    `${p.file}: ${p.rows} rows, ${p.columns.length} columns (data version ${p.dataVersion}, ${p.durationMs} ms)`,
    `split: train ${p.split.train}, dev ${p.split.dev}, test ${p.split.test}${p.unsplitRows ? `, ${p.unsplitRows} rows in no split` : ''}`,
    `duplicate rows: ${p.duplicateRows}; dev/test rows also in train: ${p.leakageRows}`,
    '',
    'columns:',
    ...p.columns.map(columnLine),
  ];
  if (p.classBalance) {
    lines.push('', 'class balance (total / train / dev / test):');
    for (const c of p.classBalance)
      lines.push(`  ${c.class.padEnd(16)} ${c.total} / ${c.train} / ${c.dev} / ${c.test}`);
  }
  if (p.images) {
    const a = p.images;
    lines.splice(
      0,
      1,
      `${p.file}: ${a.images} images (${a.unreadable} unreadable), preprocessed to ${a.settings.height}×${a.settings.width}×${a.settings.channels} (data version ${p.dataVersion}, ${p.durationMs} ms${a.cacheHit ? ', from the cache' : ''})`,
    );
    lines.splice(lines.indexOf('columns:') - 1, 2);
    lines.push(
      '',
      `modes: ${Object.entries(a.modes)
        .map(([m, n]) => `${m} ${n}`)
        .join(', ')}; sizes: ${a.sizes
        .slice(0, 5)
        .map((s) => `${s.size} (${s.count})`)
        .join(', ')}`,
    );
  }
  if (p.findings.length) {
    lines.push('', 'findings:');
    for (const f of p.findings) lines.push(`  ${f.severity}: ${f.line ? `line ${f.line}: ` : ''}${f.message}`);
  }
  return lines.join('\n');
}
