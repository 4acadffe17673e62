// ml-loop diagnose [DIR] --run RUN [--learning-curve] [--validation-curve PARAM] [--no-importance] [--json]: the diagnosis of a
// run (its model.onnx evaluated on every split, the bias/variance verdict, feature importance and,
// on request, the learning curve).
import { diagnoseRun, type RunDiagnosis } from '../../core/diagnose/diagnoseRun';
import { formatError, formatGap } from '../../core/diagnose/biasVariance';
import type { SplitReport } from '../../core/diagnose/metrics';
import { CancelledError } from '../../core/runtime/cancel';
import { EXIT_OK, EXIT_PROBLEMS, UsageError, type CliCommand } from '../command';
import { parseCommandArgs, projectDir } from '../options';

/** The --json document: the whole diagnosis; `verdict` holds avoidableBias, variance, mismatch, dominant, recommendations. */
export function diagnosisJson(d: RunDiagnosis): Record<string, unknown> {
  return {
    runId: d.runId,
    experiment: d.experiment,
    model: d.model,
    verdict: d.verdict,
    project: d.project,
    dataVersion: d.dataVersion,
    params: d.params,
    splits: d.splits,
    importance: d.importance ?? null,
    learningCurve: d.learningCurve ?? null,
    validationCurve: d.validationCurve ?? null,
    durationMs: d.durationMs,
  };
}

function splitLine(name: string, r: SplitReport | undefined): string | undefined {
  if (!r) return undefined;
  if (r.task === 'classification') {
    return `  ${name.padEnd(5)} ${String(r.n).padStart(6)} rows  accuracy ${(r.accuracy * 100).toFixed(2)}%  macro F1 ${r.macro.f1.toFixed(3)}  log loss ${r.logloss.toFixed(4)}${r.rocAuc !== null ? `  ROC AUC ${r.rocAuc.toFixed(4)}` : ''}`;
  }
  return `  ${name.padEnd(5)} ${String(r.n).padStart(6)} rows  RMSE ${r.rmse.toPrecision(4)}  MAE ${r.mae.toPrecision(4)}  R² ${r.r2.toFixed(4)}`;
}

export function diagnosisText(d: RunDiagnosis): string {
  const v = d.verdict;
  const lines = [`Run ${d.runId} (${d.experiment}, ${d.model}) on data ${d.dataVersion}`, ''];
  lines.push(
    ...[splitLine('train', d.splits.train), splitLine('dev', d.splits.dev), splitLine('test', d.splits.test)].filter(
      (l): l is string => !!l,
    ),
    '',
  );
  lines.push(v.summary);
  lines.push(
    `  avoidable bias ${formatGap(v.metric, v.avoidableBias)}, variance ${formatGap(v.metric, v.variance)}${v.mismatch !== null ? `, dev/test mismatch ${formatGap(v.metric, v.mismatch)}` : ''}`,
  );
  for (const n of v.notes) lines.push(`  ${n}`);
  lines.push('', 'What to try next:', ...v.recommendations.map((r, i) => `  ${i + 1}. ${r.text}`));
  if (d.learningCurve) {
    lines.push('', 'Learning curve (train / dev error):');
    for (const p of d.learningCurve.points)
      lines.push(
        `  ${String(Math.round(p.fraction * 100)).padStart(3)}%  ${String(p.trainSize).padStart(6)} rows  ${formatError(v.metric, p.trainError)} / ${formatError(v.metric, p.devError)}`,
      );
  }
  if (d.validationCurve) {
    lines.push('', `Validation curve of ${d.validationCurve.param} (train / dev error):`);
    for (const p of d.validationCurve.points)
      lines.push(
        `  ${p.label.padStart(12)}  ${formatError(v.metric, p.trainError)} / ${formatError(v.metric, p.devError)}`,
      );
  }
  if (d.importance) {
    lines.push('', `Most important features on dev (error increase when shuffled, ${d.importance.repeats} repeats):`);
    for (const f of d.importance.features.slice(0, 10))
      lines.push(`  ${f.feature.padEnd(16)} ${formatGap(v.metric, f.importance)} ± ${formatGap(v.metric, f.std)}`);
  }
  return lines.join('\n');
}

export const diagnoseCommand: CliCommand = {
  name: 'diagnose',
  summary: 'Diagnose a run: bias vs variance, per-class metrics, what to try next',
  usage: `ml-loop diagnose [DIR] --run RUN [--learning-curve] [--validation-curve PARAM] [--no-importance] [--json]

Evaluates the run's model.onnx on the train, dev and test splits of the project in DIR (default:
the current folder) and compares train and dev error with the project's baseline.error.

  --run RUN          a run id (or a unique prefix), "latest", or "latest:EXPERIMENT"
  --learning-curve   retrain on 10 %, 20 %, …, 100 % of the training split (above 100,000 rows: 20 %, 40 %,
                     …, 100 %), cached in the run folder
  --no-importance    skip permutation feature importance on dev
  --validation-curve PARAM
                     retrain with PARAM swept around its value (e.g. l2, hidden)
  --json             print the whole diagnosis; its "verdict" has
                     { avoidableBias, variance, mismatch, dominant, recommendations, … }`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      run: { type: 'string', short: 'r' },
      'learning-curve': { type: 'boolean' },
      'no-importance': { type: 'boolean' },
      'validation-curve': { type: 'string' },
      json: { type: 'boolean' },
    });
    if (!values.run) throw new UsageError('Missing --run RUN (a run id, "latest" or "latest:EXPERIMENT")');
    const dir = projectDir(positionals, io);
    let diagnosis: RunDiagnosis;
    try {
      diagnosis = await diagnoseRun({
        projectDir: dir,
        run: values.run,
        learningCurve: values['learning-curve'] ? 'compute' : 'cached',
        importance: !values['no-importance'],
        validationParam: values['validation-curve'],
        signal: io.signal,
        onPoint: (done, total) => io.err(`progress ${done}/${total}`),
      });
    } catch (e) {
      if (e instanceof CancelledError) {
        io.err('cancelled');
        return EXIT_PROBLEMS;
      }
      io.err(`ml-loop diagnose: ${(e as Error).message}`);
      return EXIT_PROBLEMS;
    }
    io.out(values.json ? JSON.stringify(diagnosisJson(diagnosis), null, 2) : diagnosisText(diagnosis));
    return EXIT_OK;
  },
};
