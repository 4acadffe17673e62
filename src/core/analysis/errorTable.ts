// The error table of a run on dev: one entry per dev example with its true label, the model's
// prediction, confidence and loss. Columnar (typed arrays) so 50,000+ rows cost little to build,
// send to a webview and sort. Feature values stay in the dataset's Rows (looked up by row number).
import type { FeatureSchema, Rows } from '../data/types';
import type { Prediction } from '../train/types';

export interface ErrorTable {
  task: FeatureSchema['task'];
  classes?: string[];
  n: number;
  ids: string[];
  /** Classification: class index; regression: target value. */
  truth: Float64Array;
  /** Classification: predicted class index; regression: predicted value. */
  predicted: Float64Array;
  /** Classification: probability of the predicted class; regression: NaN. */
  confidence: Float32Array;
  /** Classification: -ln p(true class); regression: squared error. */
  loss: Float32Array;
  /** 1 when the model got the example wrong (regression: |error| above the dev RMSE). */
  wrong: Uint8Array;
  errorCount: number;
}

const MIN_P = 1e-15;

export function buildErrorTable(schema: FeatureSchema, rows: Rows, pred: Prediction): ErrorTable {
  const n = rows.features.n;
  const truth = Float64Array.from(rows.y.subarray(0, n));
  const predicted = new Float64Array(n);
  const confidence = new Float32Array(n);
  const loss = new Float32Array(n);
  const wrong = new Uint8Array(n);
  let errorCount = 0;
  if (schema.task === 'classification') {
    const C = schema.classes!.length;
    const p = pred.probabilities!;
    for (let i = 0; i < n; i++) {
      const c = pred.classIndex![i];
      predicted[i] = c;
      confidence[i] = p[i * C + c];
      loss[i] = -Math.log(Math.max(MIN_P, p[i * C + truth[i]]));
      if (c !== truth[i]) {
        wrong[i] = 1;
        errorCount++;
      }
    }
  } else {
    let sse = 0;
    for (let i = 0; i < n; i++) {
      predicted[i] = pred.values![i];
      const e = predicted[i] - truth[i];
      loss[i] = e * e;
      confidence[i] = NaN;
      sse += e * e;
    }
    const rmse = Math.sqrt(sse / Math.max(1, n));
    for (let i = 0; i < n; i++) {
      if (Math.sqrt(loss[i]) > rmse) {
        wrong[i] = 1;
        errorCount++;
      }
    }
  }
  return {
    task: schema.task,
    ...(schema.classes ? { classes: schema.classes } : {}),
    n,
    ids: rows.ids.slice(0, n),
    truth,
    predicted,
    confidence,
    loss,
    wrong,
    errorCount,
  };
}

/** Row numbers of the wrong examples, highest loss first. */
export function errorRows(table: ErrorTable): number[] {
  const out: number[] = [];
  for (let i = 0; i < table.n; i++) if (table.wrong[i]) out.push(i);
  return out.sort((a, b) => table.loss[b] - table.loss[a]);
}

export function labelOf(table: ErrorTable, value: number): string {
  return table.classes ? table.classes[value] : String(Number(value.toPrecision(6)));
}
