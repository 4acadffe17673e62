// ml-loop drift [DIR] --deployment NAME [--window 1000] [--json]
// ml-loop drift --reference CSV --current LOG.jsonl [--json]
// Data drift, prediction drift, live accuracy and operational figures of a deployment's request log
// (src/core/monitor). Exit code 3 when drift crosses the thresholds, for CI pipelines.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  DEFAULT_THRESHOLDS,
  DEFAULT_WINDOW,
  driftFromFiles,
  monitorDeployment,
  type DriftThresholds,
  type MonitoringReport,
} from '../../core/monitor';
import { EXIT_OK, UsageError, type CliCommand, type CliIO } from '../command';
import { parseCommandArgs, projectDir } from '../options';
import { deploymentDir } from '../../core/spec/layout';

/** Drift crossed the thresholds. */
export const EXIT_DRIFT = 3;

const OPTIONS = {
  deployment: { type: 'string', short: 'd' },
  window: { type: 'string', short: 'w' },
  since: { type: 'string' },
  model: { type: 'string' },
  version: { type: 'string' },
  reference: { type: 'string' },
  current: { type: 'string', multiple: true },
  target: { type: 'string' },
  'ks-p': { type: 'string' },
  wasserstein: { type: 'string' },
  psi: { type: 'string' },
  'chi2-p': { type: 'string' },
  js: { type: 'string' },
  share: { type: 'string' },
  'large-window': { type: 'string' },
  'embedding-auc': { type: 'string' },
  json: { type: 'boolean' },
} as const;

function num(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${name} must be a non-negative number, not "${v}"`);
  return n;
}

function fmt(x: number | undefined, digits = 3): string {
  return x === undefined || !Number.isFinite(x)
    ? '-'
    : Math.abs(x) < 1e-3 && x !== 0
      ? x.toExponential(2)
      : x.toFixed(digits);
}

function printReport(r: MonitoringReport, io: CliIO): void {
  const w = r.window;
  io.out(
    `${r.deployment ?? 'log'}${r.model ? ` · ${r.model} v${r.version}` : ''}${r.runId ? ` (run ${r.runId})` : ''}: ${w.requests} requests, ${w.rows} rows${w.from ? ` from ${w.from} to ${w.to}` : ''}; reference ${r.reference.source}, ${r.reference.rows} rows`,
  );
  io.out(
    `dataset drift: ${r.dataset.drifted}/${r.dataset.total} features drifted (${fmt(r.dataset.share * 100, 0)}%, threshold ${fmt(r.dataset.threshold * 100, 0)}%)${r.dataset.drift ? '  DRIFT' : ''}`,
  );
  for (const f of r.features) {
    const extra = [
      f.stats.psi !== undefined ? `psi ${fmt(f.stats.psi)}` : '',
      f.missingRate ? `missing ${fmt(f.missingRate * 100, 1)}%` : '',
      f.outOfRangeRate ? `out of range ${fmt(f.outOfRangeRate * 100, 1)}%` : '',
      f.unseenCategories && Object.keys(f.unseenCategories).length
        ? `unseen ${Object.keys(f.unseenCategories).slice(0, 3).join(', ')}`
        : '',
    ]
      .filter(Boolean)
      .join(', ');
    io.out(
      `  ${f.drifted ? '✗' : ' '} ${f.name.padEnd(16)} ${f.test.padEnd(13)} ${fmt(f.statistic)}${f.pValue !== undefined ? ` p=${fmt(f.pValue)}` : ''} (threshold ${f.threshold})${extra ? `  ${extra}` : ''}`,
    );
  }
  if (r.prediction)
    io.out(
      `prediction drift: ${r.prediction.test} ${fmt(r.prediction.statistic)}${r.prediction.pValue !== undefined ? ` p=${fmt(r.prediction.pValue)}` : ''}${r.prediction.drifted ? '  DRIFT' : ''}`,
    );
  if (r.embedding)
    io.out(
      `embedding drift: domain classifier ROC AUC ${fmt(r.embedding.rocAuc)} (threshold ${fmt(r.embedding.threshold)}, ${r.embedding.currentRows} images a side)${r.embedding.drifted ? '  DRIFT' : ''}`,
    );
  if (r.images)
    io.out(
      `images: ${r.images.images} logged in the window${r.images.missing ? `, ${r.images.missing} gone or unreadable` : ''}; worst (wrong, then least confident): ${
        r.images.worst
          .slice(0, 3)
          .map((m) => `${m.file} (${m.label ?? '?'} ${m.confidence !== undefined ? fmt(m.confidence) : ''})`)
          .join(', ') || 'none'
      }`,
    );
  if (r.live)
    io.out(
      `live ${r.live.metric}: ${fmt(r.live.value)} on ${r.live.labelled} labelled rows${r.live.dev !== undefined ? ` (dev ${fmt(r.live.dev)}, change ${fmt(r.live.change)})` : ''}`,
    );
  if (r.estimated)
    io.out(
      `estimated accuracy (CBPE, an estimate from the model's confidence): ${fmt(r.estimated.value)}${r.estimated.dev !== undefined ? ` (dev ${fmt(r.estimated.dev)})` : ''}`,
    );
  const o = r.operational;
  io.out(
    `operational: ${o.requests} requests, ${fmt(o.rps, 1)} req/s, errors ${fmt(o.errorRate * 100, 2)}%, latency p50 ${fmt(o.p50)} ms, p99 ${fmt(o.p99)} ms`,
  );
  for (const i of r.issues)
    io.out(`note: ${i.message} ×${i.count}${i.examples?.length ? ` (${i.examples.join(', ')})` : ''}`);
}

export const driftCommand: CliCommand = {
  name: 'drift',
  summary: "Data and prediction drift, live accuracy and latency of a deployment's logged requests (exit 3 on drift)",
  usage: `ml-loop drift [DIR] --deployment NAME [--window ${DEFAULT_WINDOW}] [--json]
ml-loop drift --reference CSV --current LOG.jsonl [--current LOG2.jsonl] [--target COL] [--json]

Compares the last requests logged by a deployment (.mlloop/deployments/NAME under the project DIR) with
the training data of the run that served them (reference.json in the run folder, written at training
time). Numeric features: Kolmogorov-Smirnov up to --large-window values, normalized Wasserstein above,
plus PSI; categorical: chi-squared up to --large-window, Jensen-Shannon above. Image deployments: the
features are the logged images' properties (brightness, contrast, sharpness, entropy, size, aspect,
channels), and the model's embeddings are judged by a domain classifier (logistic regression telling
training from production; ROC AUC on held-out rows). Exits 3 when the share of drifted features reaches
--share, the predictions drift or the embeddings drift, 0 otherwise, 2 on wrong usage.

  -d, --deployment NAME   the deployment (its log folder's name)
  -w, --window N          the last N requests (default ${DEFAULT_WINDOW}; 0: the whole log)
  --since TIME            only requests logged since TIME (ISO 8601), instead of --window
  --model NAME --version V  monitor this model version (default: the newest request's)
  --reference CSV         compare with this CSV (training data) instead of a run's reference
  --current LOG.jsonl     request log files to compare (with --reference; repeat for several)
  --target COL            the CSV's target column (default: columns the requests do not have are left out)
  --ks-p P                KS p-value threshold (default ${DEFAULT_THRESHOLDS.ksPValue})
  --wasserstein X         normalized Wasserstein threshold (default ${DEFAULT_THRESHOLDS.wasserstein})
  --psi X                 PSI threshold (default ${DEFAULT_THRESHOLDS.psi}; reported, not deciding)
  --chi2-p P              chi-squared p-value threshold (default ${DEFAULT_THRESHOLDS.chiSquarePValue})
  --js X                  Jensen-Shannon distance threshold (default ${DEFAULT_THRESHOLDS.jensenShannon})
  --share S               dataset drift when this share of features drift (default ${DEFAULT_THRESHOLDS.datasetShare})
  --large-window N        windows above N values use Wasserstein / Jensen-Shannon (default ${DEFAULT_THRESHOLDS.largeWindow})
  --embedding-auc X       image models: embedding drift when the domain classifier's ROC AUC is above X
                          (default ${DEFAULT_THRESHOLDS.embeddingRocAuc}; raised to chance level on small windows)
  --json                  print the MonitoringReport as JSON`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, OPTIONS);
    const thresholds: Partial<DriftThresholds> = Object.fromEntries(
      Object.entries({
        ksPValue: num(values['ks-p'], 'ks-p'),
        wasserstein: num(values.wasserstein, 'wasserstein'),
        psi: num(values.psi, 'psi'),
        chiSquarePValue: num(values['chi2-p'], 'chi2-p'),
        jensenShannon: num(values.js, 'js'),
        datasetShare: num(values.share, 'share'),
        largeWindow: num(values['large-window'], 'large-window'),
        embeddingRocAuc: num(values['embedding-auc'], 'embedding-auc'),
      }).filter(([, v]) => v !== undefined),
    );
    const window = num(values.window, 'window');
    if (values.since !== undefined && !Number.isFinite(Date.parse(values.since)))
      throw new UsageError(`--since must be an ISO 8601 time, not "${values.since}"`);
    let report: MonitoringReport;
    if (values.reference || values.current) {
      if (!values.reference || !values.current?.length)
        throw new UsageError('--reference CSV and --current LOG.jsonl go together');
      if (values.deployment) throw new UsageError('give either --deployment or --reference/--current');
      const csv = resolve(io.cwd, values.reference);
      if (!existsSync(csv)) throw new UsageError(`no file ${csv}`);
      const current = values.current.map((f) => resolve(io.cwd, f));
      for (const f of current) if (!existsSync(f)) throw new UsageError(`no file ${f}`);
      report = await driftFromFiles({
        referenceCsv: csv,
        current,
        target: values.target,
        window,
        thresholds,
        signal: io.signal,
      });
    } else {
      if (!values.deployment) throw new UsageError('give --deployment NAME (or --reference CSV --current LOG.jsonl)');
      const dir = projectDir(positionals, io);
      const logDir = deploymentDir(dir, values.deployment);
      if (!existsSync(logDir))
        throw new UsageError(
          `no deployment "${values.deployment}": ${logDir} does not exist (was it served with --log-requests?)`,
        );
      report = await monitorDeployment({
        logDir,
        projectDir: dir,
        window,
        since: values.since,
        model: values.model,
        version: values.version,
        thresholds,
        signal: io.signal,
      });
    }
    if (values.json) io.out(JSON.stringify(report));
    else printReport(report, io);
    return report.drift ? EXIT_DRIFT : EXIT_OK;
  },
};
