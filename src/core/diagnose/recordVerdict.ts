// The verdict of a run from run.json alone (its recorded metrics) plus its cached learning curve:
// cheap enough for the inline hints on every experiment and the compact view (no ONNX, no data).

import type { ProjectSpec } from '../spec/types';
import type { RunRecord } from '../train/runStore';
import { verdictOf, type Verdict } from './biasVariance';
import { readCachedLearningCurve } from './learningCurveCache';

export function verdictOfRecord(
  project: Pick<ProjectSpec, 'metric' | 'baseline'> & { images?: boolean },
  record: RunRecord,
  runDir?: string,
): Verdict | undefined {
  const m = record.metrics;
  if (record.status !== 'completed' || !m?.train) return undefined;
  const learningCurve = runDir ? readCachedLearningCurve(runDir) : undefined;
  return verdictOf({
    metric: project.metric,
    baseline: project.baseline,
    train: m.train,
    dev: m.dev,
    test: m.test,
    rows: record.rows,
    learningCurve,
    images: project.images,
  });
}
