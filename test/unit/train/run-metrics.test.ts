import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classificationMetrics, regressionMetrics } from '../../../src/core/train/metrics';

// Expected values from scikit-learn 1.2.1 (accuracy_score, f1_score(average='macro'), log_loss,
// mean_squared_error**.5, mean_absolute_error, r2_score) on the same arrays.
test('classification metrics equal scikit-learn’s', () => {
  const y = Float64Array.from([0, 1, 2, 2, 1, 0, 2]);
  const classIndex = Int32Array.from([0, 2, 2, 2, 1, 0, 1]);
  const probabilities = Float32Array.from([
    0.7, 0.2, 0.1, 0.1, 0.3, 0.6, 0.2, 0.2, 0.6, 0.1, 0.1, 0.8, 0.3, 0.4, 0.3, 0.5, 0.25, 0.25, 0.2, 0.5, 0.3,
  ]);
  // A 4th class that appears neither in y nor in the predictions does not count in the macro average.
  const p4 = new Float32Array(7 * 4);
  for (let i = 0; i < 7; i++) p4.set(probabilities.subarray(i * 3, i * 3 + 3), i * 4);
  for (const [probs, C] of [
    [probabilities, 3],
    [p4, 4],
  ] as const) {
    const m = classificationMetrics(y, { classIndex, probabilities: probs }, C);
    assert.ok(Math.abs(m.accuracy - 0.7142857142857143) < 1e-12);
    assert.ok(Math.abs(m.f1 - 0.7222222222222222) < 1e-12, `f1 ${m.f1}`);
    assert.ok(Math.abs(m.logloss - 0.7297182343007007) < 1e-6, `logloss ${m.logloss}`);
  }
});

test('regression metrics equal scikit-learn’s', () => {
  const m = regressionMetrics(Float64Array.from([1, 2, 3.5, -1]), { values: Float32Array.from([1.5, 1.5, 3, 0]) });
  assert.ok(Math.abs(m.rmse - 0.6614378277661477) < 1e-12);
  assert.ok(Math.abs(m.mae - 0.625) < 1e-12);
  assert.ok(Math.abs(m.r2 - 0.8362573099415205) < 1e-12);
});
