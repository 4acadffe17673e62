// The learning curve cached in a run folder (<run>/diagnostics/learning-curve.json). Apart from
// learningCurve.ts so that readers (inline hints, the compact view) load no training code.

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../train/runStore';
import type { LearningCurve } from './learningCurveTypes';

export const LEARNING_CURVE_FILE = join('diagnostics', 'learning-curve.json');

/** The cached learning curve of a run, when its key still matches. */
export function readCachedLearningCurve(runDir: string, key?: string): LearningCurve | undefined {
  const file = join(runDir, LEARNING_CURVE_FILE);
  if (!existsSync(file)) return undefined;
  try {
    const curve = JSON.parse(readFileSync(file, 'utf8')) as LearningCurve;
    return key === undefined || curve.key === key ? curve : undefined;
  } catch {
    return undefined;
  }
}

export function writeCachedLearningCurve(runDir: string, curve: LearningCurve): void {
  mkdirSync(join(runDir, 'diagnostics'), { recursive: true });
  writeFileAtomic(join(runDir, LEARNING_CURVE_FILE), JSON.stringify(curve, null, 2) + '\n');
}
