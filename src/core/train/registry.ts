// The built-in model kinds, by the name used in mlloop.json's `"model"`.

import type { BuiltinModel } from '../spec/types';
import { TrainingError, type Trainer } from './types';
import { trainLinear } from './linear';
import { trainLogistic } from './logistic';
import { trainGbdt } from './gbdt/index';
import { trainMlp } from './mlp';
import { trainCnn } from './cnn/index';

export const TRAINERS: Record<BuiltinModel, Trainer> = {
  linear: trainLinear,
  logistic: trainLogistic,
  mlp: trainMlp,
  gbdt: trainGbdt,
  cnn: trainCnn,
};

export function getTrainer(model: BuiltinModel): Trainer {
  const t = Object.hasOwn(TRAINERS, model) ? TRAINERS[model] : undefined;
  if (!t) throw new TrainingError(`Unknown or unavailable model "${model}"`, 'model');
  return t;
}
