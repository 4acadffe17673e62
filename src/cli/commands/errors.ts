// ml-loop errors [DIR] --run RUN [--json] [--limit N] [--label-errors [--folds K]] [--export FILE --tag T|--slice S]:
// the error analysis of a run: its dev errors, the tag table, the slices where errors concentrate
// and, on request, likely label errors (cross-validation) or an export of a tag's/slice's examples.
import { resolve } from 'node:path';
import { analyseRun, exportForCollection, labelIssuesOfRun, type RunErrorAnalysis } from '../../core/analysis/analysis';
import { errorRows, labelOf } from '../../core/analysis/errorTable';
import type { LabelIssue } from '../../core/analysis/labelErrors';
import { EXIT_OK, UsageError, type CliCommand } from '../command';
import { parseCommandArgs, projectDir } from '../options';

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

/** The --json document. */
export function errorsJson(a: RunErrorAnalysis, limit: number, labelErrors?: { issues: LabelIssue[]; folds: number }): Record<string, unknown> {
  const { table, dataset } = a;
  // Image projects: the properties of each image (what the slices are over), and its file.
  const { schema, rows } = a.sliceView;
  const F = schema.numeric.length;
  const K = schema.categorical.length;
  const files = dataset.dev.images?.files;
  const examples = errorRows(table)
    .slice(0, limit)
    .map((i) => ({
      id: table.ids[i],
      rowIndex: dataset.dev.rowIndex[i],
      truth: labelOf(table, table.truth[i]),
      predicted: labelOf(table, table.predicted[i]),
      confidence: Number.isNaN(table.confidence[i]) ? null : table.confidence[i],
      loss: table.loss[i],
      tags: a.tags[table.ids[i]] ?? [],
      ...(files ? { file: resolve(a.projectDir, files[i]) } : {}),
      features: Object.fromEntries([
        ...schema.numeric.map((name, f) => [name, rows.features.numeric[i * F + f]]),
        ...schema.categorical.map((name, k) => [name, rows.features.categories[i * K + k]]),
      ]),
    }));
  return {
    runId: a.record.runId,
    experiment: a.record.experiment,
    dataVersion: dataset.version.id,
    dev: table.n,
    errors: table.errorCount,
    errorRate: table.n ? table.errorCount / table.n : 0,
    examples,
    tags: a.tagTable,
    slices: a.slices.map(({ conditions: _c, ...s }) => s),
    // `row` is internal (the pooled index): rows are named by the data file's rowIndex and line, as examples are.
    labelErrors: labelErrors ? { folds: labelErrors.folds, issues: labelErrors.issues.map(({ row: _pooled, ...x }) => ({ ...x, given: labelOf(table, x.given), suggested: labelOf(table, x.suggested) })) } : null,
    timings: a.timings,
  };
}

export function errorsText(a: RunErrorAnalysis, limit: number, labelErrors?: { issues: LabelIssue[]; folds: number }): string {
  const { table } = a;
  const lines = [`Run ${a.record.runId} (${a.record.experiment}) on data ${a.dataset.version.id}: ${table.errorCount} errors of ${table.n} dev examples (${pct(table.n ? table.errorCount / table.n : 0)})`, ''];
  lines.push('Errors (highest loss first):', '  id                  true        predicted   confidence  loss    tags');
  const files = a.dataset.dev.images?.files;
  for (const i of errorRows(table).slice(0, limit)) {
    lines.push(`  ${table.ids[i].padEnd(18)}  ${labelOf(table, table.truth[i]).padEnd(10)}  ${labelOf(table, table.predicted[i]).padEnd(10)}  ${Number.isNaN(table.confidence[i]) ? '    ' : table.confidence[i].toFixed(2).padStart(10)}  ${table.loss[i].toFixed(3).padStart(6)}  ${(a.tags[table.ids[i]] ?? []).join(', ')}${files ? `  ${files[i]}` : ''}`);
  }
  lines.push('', 'Tags (dev errors, share of all errors, error rate among tagged):');
  if (!a.tagTable.length) lines.push('  no tags yet (tag examples in the Error Analysis panel)');
  for (const t of a.tagTable) {
    const history = t.history?.length ? `  earlier runs: ${t.history.map((h) => h.errors).join(' → ')} → ${t.errors}` : '';
    lines.push(`  ${t.tag.padEnd(20)} ${String(t.errors).padStart(5)}  ${pct(t.shareOfErrors).padStart(6)}  ${pct(t.errorRate).padStart(6)} of ${t.tagged}${history}`);
  }
  lines.push('', 'Slices (errors, share of errors, error rate × average, support):');
  if (!a.slices.length) lines.push('  none worse than average');
  for (const s of a.slices.slice(0, 15)) lines.push(`  ${s.label.padEnd(36)} ${String(s.errors).padStart(5)}  ${pct(s.shareOfErrors).padStart(6)}  ×${s.lift.toFixed(2)}  n=${s.support}   --slice '${s.key}'`);
  if (labelErrors) {
    lines.push('', `Likely label errors (${labelErrors.folds}-fold cross-validation, confident learning):`);
    for (const x of labelErrors.issues.slice(0, limit)) {
      const where = x.rowIndex != null ? `row ${x.rowIndex} (line ${x.line})` : 'added row';
      lines.push(`  ${x.id.padEnd(18)} ${where.padEnd(20)} ${x.split.padEnd(5)} labelled ${labelOf(table, x.given)}, looks like ${labelOf(table, x.suggested)} (score ${x.score.toFixed(2)})`);
    }
  }
  return lines.join('\n');
}

export const errorsCommand: CliCommand = {
  name: 'errors',
  summary: 'Error analysis of a run: dev errors, tag table, costly slices, likely label errors',
  usage: `ml-loop errors [DIR] --run RUN [--json] [--limit N] [--label-errors [--folds K]] [--export FILE (--tag T | --slice S)]

Predicts the dev split with the run's model.onnx and prints the errors, the tag table (tags from
DIR/.mlloop/tags.json) and the feature slices where errors concentrate.

  --run RUN         a run id (or a unique prefix), "latest", or "latest:EXPERIMENT"
  --limit N         errors listed (default 20; --json: all)
  --label-errors    also rank likely label errors (k-fold cross-validation of the run's experiment; cached in the run folder)
  --folds K         folds for --label-errors (default 5)
  --export FILE     write the examples of --tag T or --slice S (every split) to FILE as CSV, for collecting more
  --json            print { runId, dev, errors, errorRate, examples, tags, slices, labelErrors } as JSON`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      run: { type: 'string', short: 'r' },
      json: { type: 'boolean' },
      limit: { type: 'string' },
      'label-errors': { type: 'boolean' },
      folds: { type: 'string' },
      export: { type: 'string' },
      tag: { type: 'string' },
      slice: { type: 'string' },
    });
    const dir = projectDir(positionals, io);
    const run = typeof values.run === 'string' ? values.run : 'latest';
    const limit = values.limit === undefined ? (values.json ? Infinity : 20) : Number(values.limit);
    if (!(limit >= 0)) throw new UsageError(`--limit must be a number ≥ 0, not "${values.limit}"`);
    const folds = values.folds === undefined ? 5 : Number(values.folds);
    if (!Number.isInteger(folds) || folds < 2) throw new UsageError(`--folds must be a whole number ≥ 2, not "${values.folds}"`);
    if (typeof values.export === 'string') {
      const source = typeof values.tag === 'string' ? { tag: values.tag } : typeof values.slice === 'string' ? { slice: values.slice } : undefined;
      if (!source) throw new UsageError('--export needs --tag T or --slice S');
      const out = resolve(io.cwd, values.export);
      const n = await exportForCollection({ projectDir: dir, source, out });
      io.out(values.json ? JSON.stringify({ file: out, examples: n }) : `${n} examples written to ${out}`);
      return EXIT_OK;
    }
    const analysis = await analyseRun({ projectDir: dir, run });
    const labelErrors = values['label-errors']
      ? await labelIssuesOfRun({ projectDir: dir, run: analysis.record.runId, folds, signal: io.signal, onFold: values.json ? undefined : (d, t) => io.err(`fold ${d}/${t}`) })
      : undefined;
    io.out(values.json ? JSON.stringify(errorsJson(analysis, limit, labelErrors), null, 1) : errorsText(analysis, limit, labelErrors));
    return EXIT_OK;
  },
};
