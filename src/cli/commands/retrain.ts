// ml-loop retrain [DIR] --deployment NAME --production-run RUN [--experiment E] [--holdout F] [--margin M] [--json]:
// Retrain with Production Data (src/core/update/retrain) and print the promotion gate's comparison.
import { CancelledError } from '../../core/runtime/cancel';
import { describeRegressions, type PromotionComparison } from '../../core/update/gate';
import { retrainWithProductionData, type RetrainResult } from '../../core/update/retrain';
import { EXIT_OK, EXIT_PROBLEMS, UsageError, type CliCommand } from '../command';
import { parseCommandArgs, projectDir } from '../options';

function fraction(name: string, value: string | undefined, lo: number, hi: number): number | undefined {
  if (value === undefined) return undefined;
  const v = Number(value);
  if (!Number.isFinite(v) || v < lo || v > hi)
    throw new UsageError(`--${name} must be a number from ${lo} to ${hi}, not "${value}"`);
  return v;
}

function fmt(c: PromotionComparison, v: number): string {
  return c.metric === 'accuracy' ? `${(v * 100).toFixed(1)} %` : v.toPrecision(4);
}

export function retrainText(r: RetrainResult): string {
  const p = r.production;
  const skipped = Object.entries(p.skipped).map(([k, n]) => `${n} ${k}`);
  const lines = [
    `Deployment ${r.deployment}: ${p.requests} logged requests, ${p.feedback} feedback labels, ${p.labelled} labelled (${p.duplicates} duplicates)${skipped.length ? `; skipped: ${skipped.join(', ')}` : ''}`,
    `Data version ${r.dataVersion}: +${p.train} production examples in training, ${p.heldOut} held out for evaluation`,
    `Candidate run ${r.candidateRunId}: ${r.candidateStatus}${r.error ? ` (${r.error})` : ''}`,
  ];
  const c = r.comparison;
  if (c) {
    lines.push(
      '',
      `${'group'.padEnd(36)} ${'set'.padEnd(10)} ${'n'.padStart(5)}  ${`production ${r.productionRunId}`.padEnd(28)} candidate`,
    );
    for (const g of c.groups)
      lines.push(
        `${(g.regression ? '! ' : '  ') + g.label.slice(0, 34).padEnd(34)} ${g.set.padEnd(10)} ${String(g.support).padStart(5)}  ${fmt(c, g.production).padEnd(28)} ${fmt(c, g.candidate)}`,
      );
    lines.push('');
    if (!c.needsConfirmation)
      lines.push(
        `Gate: the candidate is at least as good overall and no tracked slice or tag is worse by more than ${c.metric === 'accuracy' ? `${c.margin * 100} points` : `${c.margin * 100} %`}.`,
      );
    else {
      lines.push(`Gate: promoting needs confirmation${c.betterOverall ? '' : ' (the candidate is worse overall)'}.`);
      lines.push(...describeRegressions(c).map((l) => `  worse: ${l}`));
    }
  }
  return lines.join('\n');
}

export const retrainCommand: CliCommand = {
  name: 'retrain',
  summary: "Retrain with a deployment's labelled production requests and compare with production (the promotion gate)",
  usage: `ml-loop retrain [DIR] --deployment NAME --production-run RUN [--experiment E] [--holdout 0.3] [--margin 0.02] [--json]

Reads the request log and feedback labels of deployment NAME (.mlloop/deployments/NAME/, written only
when request logging was turned on with consent), makes a data version from the production run's data
plus the labelled requests (deduplicated; a held-out share kept for evaluation), trains the experiment
on it, and evaluates the production run and the new run on the same sets: the original dev split and
the held-out production examples, overall, per slice and per tag.

  --deployment NAME     the deployment (model name) whose logs and feedback are used
  --production-run RUN  the run production serves (a run id or a unique prefix)
  --experiment E        the experiment to train (default: the production run's)
  --holdout F           share of the labelled production examples held out (default 0.3)
  --margin M            the gate's tolerance: accuracy points (0.02 = 2 points) or relative RMSE
  --json                print the whole result (its "comparison" is the gate's input)

Exit code 0 when the candidate trained (whatever the gate says: see "needsConfirmation"), 1 otherwise.`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      deployment: { type: 'string' },
      'production-run': { type: 'string' },
      experiment: { type: 'string' },
      holdout: { type: 'string' },
      margin: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (!values.deployment || !values['production-run'])
      throw new UsageError('--deployment and --production-run are required');
    const holdout = fraction('holdout', values.holdout, 0, 0.9);
    const margin = fraction('margin', values.margin, 0, 1);
    let result: RetrainResult;
    try {
      result = await retrainWithProductionData({
        projectDir: projectDir(positionals, io),
        deployment: values.deployment,
        productionRun: values['production-run'],
        experiment: values.experiment,
        holdout,
        margin,
        signal: io.signal,
        onStep: (m) => io.err(`step ${m}`),
      });
    } catch (e) {
      if (e instanceof CancelledError) {
        io.err('cancelled');
        return EXIT_PROBLEMS;
      }
      io.err(`ml-loop retrain: ${(e as Error).message}`);
      return EXIT_PROBLEMS;
    }
    io.out(values.json ? JSON.stringify(result, null, 2) : retrainText(result));
    return result.candidateStatus === 'completed' ? EXIT_OK : EXIT_PROBLEMS;
  },
};
