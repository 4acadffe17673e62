// ml-loop review [DIR] --deployment NAME [--window N] [--low-confidence P] [--limit N] [--json]: queues the
// deployment's drifted or low-confidence requests for tagging (src/core/update/reviewQueue).
import { join } from 'node:path';
import { monitorDeployment, runReference } from '../../core/monitor';
import type { FeatureDrift, MonitoringReference } from '../../core/monitor/types';
import type { FeatureSchema } from '../../core/data/types';
import { enqueueForReview, selectForReview, type ReviewResult } from '../../core/update/reviewQueue';
import { EXIT_OK, EXIT_PROBLEMS, UsageError, type CliCommand } from '../command';
import { parseCommandArgs, projectDir } from '../options';
import { REVIEW_QUEUE_FILE, deploymentDir } from '../../core/spec/layout';

/** The model's input schema as its monitoring reference records it (numeric features first, then categorical). */
export function schemaOfReference(r: MonitoringReference): FeatureSchema {
  // Image runs: the model takes the image; the reference's features are properties computed from it.
  return {
    task: r.task,
    target: r.target,
    numeric: r.image ? [] : r.features.filter((f) => f.kind === 'numeric').map((f) => f.name),
    categorical: r.image ? [] : r.features.filter((f) => f.kind === 'categorical').map((f) => f.name),
    ...(r.classes ? { classes: r.classes } : {}),
    ...(r.image ? { image: r.image.shape } : {}),
  };
}

/** Requests queued at most per review (`--limit`, the editor's mlLoop.monitor.reviewLimit). */
export const DEFAULT_REVIEW_LIMIT = 50;

export const reviewCommand: CliCommand = {
  name: 'review',
  summary: "Queue a deployment's drifted or low-confidence requests for tagging in Error Analysis",
  usage: `ml-loop review [DIR] --deployment NAME [--window 1000] [--low-confidence 0.6] [--limit 50] [--json]

Reads the last N logged requests of deployment NAME and adds to .mlloop/review-queue.json those whose
top class probability is below --low-confidence, or with a value of a drifted feature outside the
training range, unseen in training, or in a range the window over-represents (twice its training
share). The most unusual (lowest confidence, furthest outside the training range) come first, and at
most --limit are queued (default 50: a queue that takes nearly everything is no selection); how many
were left out is said. Already queued examples are not added twice.`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      deployment: { type: 'string' },
      window: { type: 'string' },
      'low-confidence': { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (!values.deployment) throw new UsageError('--deployment NAME is required');
    const num = (name: string, v: string | undefined, lo: number, hi: number) => {
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isFinite(n) || n < lo || n > hi)
        throw new UsageError(`--${name} must be a number from ${lo} to ${hi}, not "${v}"`);
      return n;
    };
    const window = num('window', values.window, 1, 1e9);
    const lowConfidence = num('low-confidence', values['low-confidence'], 0, 1);
    const limit = num('limit', values.limit, 1, 1e6);
    const dir = projectDir(positionals, io);
    const logDir = deploymentDir(dir, values.deployment);
    let result: ReviewResult;
    try {
      const report = await monitorDeployment({ logDir, projectDir: dir, window, signal: io.signal });
      if (!report.runId) throw new Error(`no logged request of ${values.deployment} names the run it was served by`);
      const { reference } = await runReference(dir, report.runId);
      const features: FeatureDrift[] = report.features;
      const candidates = await selectForReview({
        logDir,
        deployment: values.deployment,
        schema: schemaOfReference(reference),
        features,
        lowConfidence,
        window,
      });
      const items = candidates.slice(0, limit ?? DEFAULT_REVIEW_LIMIT);
      const { queue, added } = await enqueueForReview(dir, items);
      result = {
        deployment: values.deployment,
        selected: candidates.length,
        leftOut: candidates.length - items.length,
        added,
        queued: queue.length,
        items,
        file: join(dir, REVIEW_QUEUE_FILE),
      };
    } catch (e) {
      io.err(`ml-loop review: ${(e as Error).message}`);
      return EXIT_PROBLEMS;
    }
    if (values.json) io.out(JSON.stringify(result, null, 2));
    else {
      io.out(
        `${result.selected} requests of ${result.deployment} need review; the ${result.items.length} most unusual queued (${result.added} new${result.leftOut ? `, ${result.leftOut} less unusual left out: --limit` : ''}); ${result.queued} in ${result.file}`,
      );
      for (const i of result.items.slice(0, 20))
        io.out(
          `  ${i.requestId.padEnd(24)} ${i.reasons.join('+').padEnd(20)} predicted ${String(i.predicted ?? '?')}${i.confidence !== undefined ? ` (${(i.confidence * 100).toFixed(0)} %)` : ''}${i.drift ? `  ${i.drift[0]}` : ''}`,
        );
    }
    return EXIT_OK;
  },
};
