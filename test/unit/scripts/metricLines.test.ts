import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineBuffer, parseMetricLine } from '../../../src/core/scripts/metricLines';

test('LineBuffer holds a partial line until its newline arrives and strips CR', () => {
  const lines = new LineBuffer();
  assert.deepEqual(lines.push('epoch 1 sta'), []);
  assert.deepEqual(lines.push('rted\r\n{"mlloop": "met'), ['epoch 1 started']);
  assert.deepEqual(lines.push('ric", "step": 1}\nlast'), ['{"mlloop": "metric", "step": 1}']);
  assert.deepEqual(lines.end(), ['last']);
  assert.deepEqual(lines.end(), []);
});

test('a metric line is normalized: step, totals, losses, dev_<project metric> → devMetric; other keys kept', () => {
  const parsed = parseMetricLine(
    '{"mlloop": "metric", "step": 3, "total_steps": 30, "train_loss": 0.41, "dev_loss": 0.5, "dev_accuracy": 0.93, "lr": 0.001}',
    'accuracy',
  );
  assert.deepEqual(parsed, {
    kind: 'metric',
    metric: {
      step: 3,
      totalSteps: 30,
      trainLoss: 0.41,
      devLoss: 0.5,
      devMetric: 0.93,
      metricName: 'accuracy',
      lr: 0.001,
    },
  });
  // camelCase keys work too; a dev value of another metric is kept under its own name.
  const camel = parseMetricLine('{"mlloop":"metric","step":2,"trainLoss":1,"dev_f1":0.7}', 'accuracy');
  assert.deepEqual(camel, { kind: 'metric', metric: { step: 2, trainLoss: 1, dev_f1: 0.7 } });
});

test('ordinary output, other JSON and JSON without the marker are text; broken metric lines are warnings', () => {
  assert.deepEqual(parseMetricLine('Epoch 3: loss 0.41', 'accuracy'), { kind: 'text' });
  assert.deepEqual(parseMetricLine('{"loss": 0.4, "step": 3}', 'accuracy'), { kind: 'text' });
  assert.deepEqual(parseMetricLine('{"mlloop": "other", "step": 3}', 'accuracy'), { kind: 'text' });
  const broken = parseMetricLine('{"mlloop": "metric", "step": 3, "train_loss": nan}', 'accuracy');
  assert.equal(broken.kind, 'invalid');
  assert.match((broken as { warning: string }).warning, /not valid JSON.*"step": 3/);
  const noStep = parseMetricLine('{"mlloop": "metric", "train_loss": 0.1}', 'accuracy');
  assert.equal(noStep.kind, 'invalid');
  assert.match((noStep as { warning: string }).warning, /without a numeric "step"/);
});
