// Likely label errors by confident learning (Northcutt et al., 2021): out-of-sample class
// probabilities from k-fold cross-validation of the run's built-in experiment (each fold trained in
// the training worker, predicted through its ONNX model), per-class confidence thresholds, and a
// ranking of the examples whose given label the other folds' models confidently disagree with.
// A script model cannot be retrained here, but its dev probabilities are out-of-sample already (it
// never trained on dev): confident learning then runs on the dev split alone.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Rows, SplitDataset } from '../data/types';
import { OnnxPredictor } from '../onnx/onnxPredictor';
import { selectRows } from '../data/rows';
import { runPool, stratifiedOrder, trainInWorker, withoutTest, type RetrainSpec } from '../diagnose/retrain';
import { concatRows } from '../data/dataVersions';

export interface OutOfSample {
  /** Train and dev rows pooled (test stays unseen). */
  rows: Rows;
  /** Which split each pooled row came from. */
  split: ('train' | 'dev')[];
  /** n × classes, each row predicted by the fold model that never saw it. */
  probabilities: Float32Array;
  folds: number;
}

/** k-fold cross-validated probabilities over train ∪ dev, folds stratified by class and seeded. */
export async function crossValidatedProbabilities(
  dataset: SplitDataset,
  spec: RetrainSpec,
  opts: {
    folds?: number;
    seed?: number;
    concurrency?: number;
    signal?: AbortSignal;
    onFold?: (done: number, total: number) => void;
  } = {},
): Promise<OutOfSample> {
  const { schema } = dataset;
  if (schema.task !== 'classification') throw new Error('Label errors are found for classification projects only');
  const F = schema.numeric.length;
  const K = schema.categorical.length;
  const C = schema.classes!.length;
  const rows = concatRows(dataset.train, dataset.dev, F, K);
  const split = [
    ...Array<'train'>(dataset.train.features.n).fill('train'),
    ...Array<'dev'>(dataset.dev.features.n).fill('dev'),
  ];
  const folds = Math.max(2, Math.min(opts.folds ?? 5, rows.features.n));
  const order = stratifiedOrder(rows.y, true, opts.seed ?? 0);
  const foldOf = new Uint8Array(rows.features.n);
  order.forEach((row, rank) => (foldOf[row] = rank % folds));
  const probabilities = new Float32Array(rows.features.n * C);
  const tmp = await mkdtemp(join(tmpdir(), 'mlloop-cv-'));
  let done = 0;
  try {
    const tasks = Array.from({ length: folds }, (_, fold) => async () => {
      const held: number[] = [];
      const kept: number[] = [];
      for (let i = 0; i < rows.features.n; i++) (foldOf[i] === fold ? held : kept).push(i);
      const heldRows = selectRows(rows, held, F, K);
      const fit = withoutTest({ ...dataset, train: selectRows(rows, kept, F, K), dev: heldRows });
      const result = await trainInWorker(
        { data: { dataset: fit }, model: spec.model as RetrainSpec['model'], params: spec.params, seed: spec.seed },
        opts.signal,
      );
      const file = join(tmp, `fold${fold}.onnx`);
      await writeFile(file, result.onnx);
      const predictor = await OnnxPredictor.load(file, schema);
      try {
        const p = (await predictor.predict(heldRows.features)).probabilities!;
        held.forEach((row, k) => probabilities.set(p.subarray(k * C, (k + 1) * C), row * C));
      } finally {
        await predictor.release();
      }
      opts.onFold?.(++done, folds);
    });
    await runPool(tasks, opts.concurrency ?? 1, opts.signal);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return { rows, split, probabilities, folds };
}

/** rowIndex of a row a derived data version added (src/core/data/dataVersions): it is in no file. */
const NOT_IN_FILE = 0xffffffff;

export interface LabelIssue {
  /** Index of the example in the labels given to confidentLearning (the pooled train and dev rows). */
  row: number;
  id: string;
  /** Where the example is in the data file, as error examples name it: 0-based data row (rowIndex) and
   *  1-based file line (the header is line 1; one line per row). Null for rows a derived version added. */
  rowIndex?: number | null;
  line?: number | null;
  split: 'train' | 'dev';
  given: number;
  /** The class the out-of-sample models confidently prefer. */
  suggested: number;
  /** Out-of-sample probability of the given label. */
  selfConfidence: number;
  /** p(suggested) − p(given): higher = more likely mislabelled. */
  score: number;
}

/**
 * Confident learning's candidates: an example labelled i is flagged when some other class j reaches
 * its per-class threshold t_j (the mean probability of j over the examples labelled j) and beats the
 * given label; ranked by the normalized margin p_j − p_i.
 */
export function confidentLearning(
  y: Float64Array,
  probabilities: Float32Array,
  classes: number,
): { thresholds: Float64Array; issues: Omit<LabelIssue, 'id' | 'split'>[] } {
  const n = y.length;
  const sum = new Float64Array(classes);
  const count = new Float64Array(classes);
  for (let i = 0; i < n; i++) {
    sum[y[i]] += probabilities[i * classes + y[i]];
    count[y[i]]++;
  }
  const thresholds = sum.map((s, c) => (count[c] ? s / count[c] : 1));
  const issues: Omit<LabelIssue, 'id' | 'split'>[] = [];
  for (let i = 0; i < n; i++) {
    const given = y[i];
    const pGiven = probabilities[i * classes + given];
    let best = -1;
    let pBest = -Infinity;
    for (let c = 0; c < classes; c++) {
      const p = probabilities[i * classes + c];
      if (c !== given && p >= thresholds[c] && p > pBest) {
        best = c;
        pBest = p;
      }
    }
    if (best >= 0 && pBest > pGiven)
      issues.push({ row: i, given, suggested: best, selfConfidence: pGiven, score: pBest - pGiven });
  }
  issues.sort((a, b) => b.score - a.score);
  return { thresholds, issues };
}

export async function findLabelIssues(
  dataset: SplitDataset,
  spec: RetrainSpec,
  opts: Parameters<typeof crossValidatedProbabilities>[2] = {},
): Promise<{ issues: LabelIssue[]; folds: number }> {
  const oos = await crossValidatedProbabilities(dataset, spec, opts);
  const { issues } = confidentLearning(oos.rows.y, oos.probabilities, dataset.schema.classes!.length);
  return { folds: oos.folds, issues: namedIssues(issues, oos.rows, (row) => oos.split[row]) };
}

/**
 * Confident learning on predictions that are out-of-sample already: a script model's dev
 * probabilities (it never trained on dev), so no cross-validation is needed. `folds` is 0.
 */
export function labelIssuesOfPredictions(
  rows: Rows,
  probabilities: Float32Array,
  classes: number,
  split: 'dev',
): { issues: LabelIssue[]; folds: number } {
  const { issues } = confidentLearning(rows.y.subarray(0, rows.features.n), probabilities, classes);
  return { folds: 0, issues: namedIssues(issues, rows, () => split) };
}

/** The issues with their example ids, splits and data-file rows. */
function namedIssues(
  issues: Omit<LabelIssue, 'id' | 'split'>[],
  rows: Rows,
  splitOf: (row: number) => 'train' | 'dev',
): LabelIssue[] {
  return issues.map((x) => {
    const fileRow = rows.rowIndex[x.row];
    const inFile = fileRow !== undefined && fileRow !== NOT_IN_FILE;
    return {
      ...x,
      id: rows.ids[x.row],
      split: splitOf(x.row),
      rowIndex: inFile ? fileRow : null,
      line: inFile ? fileRow + 2 : null,
    };
  });
}

/** Precision at k of a ranking against the truly flipped ids. */
export function precisionAtK(ranked: readonly string[], flipped: ReadonlySet<string>, k: number): number {
  const top = ranked.slice(0, k);
  return top.length ? top.filter((id) => flipped.has(id)).length / top.length : 0;
}
