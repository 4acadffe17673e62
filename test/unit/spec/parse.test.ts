import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProjectText } from '../../../src/core/spec/parse';
import { formatProblem } from '../../../src/core/spec/problems';
import { positionOf } from '../data/fixture';

const FILE = '/p/mlloop.json';

const valid = `{
  // JSON with comments is allowed
  "name": "t",
  "task": "classification",
  "data": { "path": "d.csv", "target": "label", "split": { "dev": 0.2, "seed": 3 } },
  "metric": "accuracy",
  "experiments": {
    "a": { "model": "logistic", "params": { "l2": 0.01 } }, // trailing comma next
  },
}`;

test('a valid file with comments and trailing commas parses to the spec', () => {
  const r = parseProjectText(valid, FILE);
  assert.deepEqual(r.problems, []);
  assert.equal(r.spec!.data.target, 'label');
  assert.deepEqual(r.spec!.experiments.a, { model: 'logistic', params: { l2: 0.01 } });
});

test('a JSON syntax error is reported at its exact line and column', () => {
  const text = '{\n  "name": "t"\n  "task": "regression"\n}';
  const r = parseProjectText(text, FILE);
  assert.equal(r.spec, undefined);
  assert.equal(r.problems.length, 1);
  const p = r.problems[0];
  assert.equal(p.code, 'json-syntax');
  assert.match(p.message, /Comma expected/);
  assert.deepEqual({ line: p.line, column: p.column }, positionOf(text, '"task"'));
  assert.equal(formatProblem(p), `${FILE}:3:3: error: ${p.message}`);
});

test('an empty file is one clear error', () => {
  const r = parseProjectText('', FILE);
  assert.equal(r.problems.length, 1);
  assert.equal(r.problems[0].line, 1);
});

test('an unknown model is located at the model value, with the allowed values', () => {
  const text = valid.replace('"model": "logistic"', '"model": "svm"');
  const [p, ...rest] = parseProjectText(text, FILE).problems;
  assert.equal(rest.length, 0, JSON.stringify(rest));
  assert.match(p.message, /experiments\.a\.model must be one of: "linear", "logistic", "mlp", "gbdt"/);
  assert.deepEqual({ line: p.line, column: p.column, endColumn: p.endColumn }, { ...positionOf(text, '"svm"'), endColumn: positionOf(text, '"svm"').column + 5 });
  assert.deepEqual(p.jsonPath, ['experiments', 'a', 'model']);
});

test('a metric typo is one message (the task\'s metrics), with the closest metric as a hint and a fix', () => {
  const text = valid.replace('"metric": "accuracy"', '"metric": "acuracy"');
  const problems = parseProjectText(text, FILE).problems;
  assert.equal(problems.length, 1, problems.map((p) => p.message).join('\n'));
  assert.equal(problems[0].message, 'metric must be one of: "accuracy", "f1", "logloss" (did you mean "accuracy"?)');
  assert.deepEqual(problems[0].fixes, [{ title: 'Use "accuracy"', edits: [{ jsonPath: ['metric'], value: 'accuracy' }] }]);
  const model = parseProjectText(valid.replace('"model": "logistic"', '"model": "logisitc"'), FILE).problems;
  assert.match(model[0].message, /did you mean "logistic"\?/);
});

test('an unknown property is located at its key', () => {
  const text = valid.replace('"metric": "accuracy"', '"metric": "accuracy", "metrics": "f1"');
  const [p] = parseProjectText(text, FILE).problems;
  assert.match(p.message, /Unknown property "metrics"/);
  assert.deepEqual({ line: p.line, column: p.column }, positionOf(text, '"metrics"'));
});

test('a metric that does not fit the task is an error at the metric', () => {
  const text = valid.replace('"metric": "accuracy"', '"metric": "rmse"');
  const [p, ...rest] = parseProjectText(text, FILE).problems;
  assert.equal(rest.length, 0);
  assert.match(p.message, /metric must be one of: "accuracy", "f1", "logloss"/);
  assert.deepEqual({ line: p.line, column: p.column }, positionOf(text, '"rmse"'));
});

test('a bad split fraction gives one message at the fraction, not one per oneOf branch', () => {
  const text = valid.replace('"dev": 0.2', '"dev": 1.5');
  const problems = parseProjectText(text, FILE).problems;
  assert.equal(problems.length, 1, problems.map((p) => p.message).join('\n'));
  assert.match(problems[0].message, /data\.split\.dev must be < 1/);
  assert.deepEqual({ line: problems[0].line, column: problems[0].column }, positionOf(text, '1.5'));
});

test('a missing required property is reported at the object that lacks it', () => {
  const text = valid.replace('"target": "label", ', '');
  const [p] = parseProjectText(text, FILE).problems;
  assert.match(p.message, /data is missing the required property "target"/);
  assert.deepEqual({ line: p.line, column: p.column }, positionOf(text, '"data"'));
});

test('mlp params are checked: types, ranges and unknown names', () => {
  const text = valid.replace('"model": "logistic", "params": { "l2": 0.01 }', '"model": "mlp", "params": { "hidden": [0], "activation": "gelu", "epoch": 3 }');
  const messages = parseProjectText(text, FILE).problems.map((p) => p.message);
  assert.ok(messages.some((m) => /hidden\[0\] must be >= 1/.test(m)), messages.join('\n'));
  assert.ok(messages.some((m) => /activation must be one of: "relu", "tanh"/.test(m)));
  assert.ok(messages.some((m) => /Unknown property "epoch"/.test(m)));
});

test('script experiments need a command array; gbdt maxBins is at most 255', () => {
  const text = valid.replace('"a": { "model": "logistic", "params": { "l2": 0.01 } }', '"s": { "command": "python train.py" }, "g": { "model": "gbdt", "params": { "maxBins": 300 } }');
  const messages = parseProjectText(text, FILE).problems.map((p) => p.message);
  assert.ok(messages.some((m) => /experiments\.s\.command must be of type array/.test(m)), messages.join('\n'));
  assert.ok(messages.some((m) => /maxBins must be <= 255/.test(m)));
});
