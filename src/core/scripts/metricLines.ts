// Metric lines of a script run. A script reports progress as JSON lines
//   {"mlloop": "metric", "step": 3, "train_loss": 0.41, "dev_accuracy": 0.93}
// on stdout (everything else it prints goes to the log untouched) or appended to
// $MLLOOP_RUN_DIR/metrics.jsonl. Output arrives in arbitrary chunks: a line is only parsed once its
// newline has arrived.

import type { ProgressEvent } from '../train/types';

/** The marker a JSON line must carry to count as a metric line. */
export const METRIC_MARKER = 'metric';

/** A metric line as ML Loop records it: the progress fields the curves read, plus the script's own extra keys. */
export type ScriptMetric = ProgressEvent & Record<string, unknown>;

/** Splits a byte stream into complete lines; a trailing partial line waits for the next chunk (or `end`). */
export class LineBuffer {
  private pending = '';

  /** The complete lines in `chunk` (after what was pending), without their line ends. */
  push(chunk: string): string[] {
    const text = this.pending + chunk;
    const lines = text.split('\n');
    this.pending = lines.pop()!;
    return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  }

  /** What is left once the stream has ended (a last line without a newline), if anything. */
  end(): string[] {
    const rest = this.pending;
    this.pending = '';
    return rest === '' ? [] : [rest.endsWith('\r') ? rest.slice(0, -1) : rest];
  }
}

export type ParsedLine =
  { kind: 'metric'; metric: ScriptMetric } | { kind: 'text' } | { kind: 'invalid'; warning: string };

const FINITE = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * Classifies one line: ordinary output, a metric line (normalized), or a line that claims to be a
 * metric line but cannot be one (a warning says why). `metric` is the project's metric name: a
 * `dev_<metric>` key becomes the curve's devMetric.
 */
export function parseMetricLine(line: string, metric: string): ParsedLine {
  const trimmed = line.trim();
  // Cheap test first: most output is not ours.
  if (!trimmed.startsWith('{') || !trimmed.includes('"mlloop"')) return { kind: 'text' };
  let entry: unknown;
  try {
    entry = JSON.parse(trimmed);
  } catch (e) {
    return {
      kind: 'invalid',
      warning: `ignored a metric line that is not valid JSON (${(e as Error).message}): ${clip(trimmed)}`,
    };
  }
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return { kind: 'text' };
  const raw = entry as Record<string, unknown>;
  if (raw.mlloop !== METRIC_MARKER) return { kind: 'text' };
  if (!FINITE(raw.step))
    return { kind: 'invalid', warning: `ignored a metric line without a numeric "step": ${clip(trimmed)}` };
  return { kind: 'metric', metric: normalizeMetric(raw, metric) };
}

/** Maps the script's keys (snake_case or camelCase) onto the fields the curves and the tree read. */
export function normalizeMetric(raw: Record<string, unknown>, metric: string): ScriptMetric {
  const { mlloop: _marker, step, ...rest } = raw;
  const out: ScriptMetric = { step: step as number };
  const take = (keys: string[]): number | undefined => {
    for (const k of keys) {
      if (FINITE(rest[k])) {
        const v = rest[k] as number;
        delete rest[k];
        return v;
      }
    }
    return undefined;
  };
  const totalSteps = take(['total_steps', 'totalSteps']);
  const trainLoss = take(['train_loss', 'trainLoss']);
  const devLoss = take(['dev_loss', 'devLoss']);
  const devMetric = take([`dev_${metric}`, 'devMetric']);
  if (totalSteps !== undefined) out.totalSteps = totalSteps;
  if (trainLoss !== undefined) out.trainLoss = trainLoss;
  if (devLoss !== undefined) out.devLoss = devLoss;
  if (devMetric !== undefined) {
    out.devMetric = devMetric;
    out.metricName = metric;
  }
  // Other keys (train_accuracy, lr, …) are kept as the script named them.
  for (const [k, v] of Object.entries(rest)) if (!(k in out)) out[k] = v;
  return out;
}

function clip(s: string): string {
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}
