// The built-in model kinds, by the name used in mlloop.json's `"model"`.

import type { BuiltinModel } from '../spec/types';
import { TrainingError, type Trainer } from './types';
import { trainLinear } from './linear';
import { trainLogistic } from './logistic';
import { trainGbdt } from './gbdt/index';

export const TRAINERS: Partial<Record<BuiltinModel, Trainer>> = {
  linear: trainLinear,
  logistic: trainLogistic,
  gbdt: trainGbdt,
};

export function getTrainer(model: BuiltinModel): Trainer {
  const t = TRAINERS[model];
  if (!t) throw new TrainingError(`Unknown or unavailable model "${model}"`, 'model');
  return t;
}
