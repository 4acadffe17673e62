// Quick fixes: which parameter each recommendation changes, and the edit written into mlloop.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyEdits, parse } from 'jsonc-parser';
import { fixEdits, paramFixes } from '../../../src/core/diagnose/fixes';

const PROJECT = `{
  "name": "digits",
  // a comment that must survive
  "experiments": {
    "mlp": { "model": "mlp", "params": { "hidden": [64], "earlyStopping": false } },
    "lin": { "model": "logistic" }
  }
}`;

test('variance fixes for an MLP: raise l2 from its default, dropout, early stopping when off', () => {
  const fixes = paramFixes('mlp', { hidden: [64], earlyStopping: false }, [
    'moreData',
    'moreRegularization',
    'earlyStopping',
  ]);
  assert.deepEqual(
    fixes.map((f) => f.set),
    [{ l2: 0.001 }, { dropout: 0.2 }, { earlyStopping: 10 }],
  );
  assert.equal(fixes[0].title, 'Raise l2 to 0.001');
  // Early stopping already on: nothing to add.
  assert.deepEqual(paramFixes('mlp', { earlyStopping: 10 }, ['earlyStopping']), []);
});

test('bias fixes: enlarge hidden, train longer, lower l2; logistic raises maxIter', () => {
  assert.deepEqual(
    paramFixes('mlp', { hidden: [64, 32], l2: 0.01 }, ['biggerModel', 'trainLonger', 'lessRegularization']).map(
      (f) => f.set,
    ),
    [{ hidden: [128, 64] }, { epochs: 200 }, { l2: 0.001 }],
  );
  assert.deepEqual(
    paramFixes('logistic', {}, ['biggerModel', 'trainLonger']).map((f) => f.set),
    [{ maxIter: 200 }],
  );
});

test('the edit sets the parameter in place, creates params when absent, and keeps comments', () => {
  const [fix] = paramFixes('mlp', { hidden: [64] }, ['biggerModel']);
  const edited = applyEdits(PROJECT, fixEdits(PROJECT, 'mlp', fix));
  assert.match(edited, /a comment that must survive/);
  assert.deepEqual(parse(edited).experiments.mlp.params, { hidden: [128], earlyStopping: false });
  const [longer] = paramFixes('logistic', undefined, ['trainLonger']);
  const edited2 = applyEdits(PROJECT, fixEdits(PROJECT, 'lin', longer));
  assert.deepEqual(parse(edited2).experiments.lin, { model: 'logistic', params: { maxIter: 200 } });
  assert.throws(() => fixEdits(PROJECT, 'nope', fix), /No experiment "nope"/);
});

test('an experiment written on one line stays on one line; a multi-line one is formatted', () => {
  const [l2] = paramFixes('mlp', { hidden: [64] }, ['moreRegularization']);
  const edited = applyEdits(PROJECT, fixEdits(PROJECT, 'mlp', l2));
  assert.match(
    edited,
    /"mlp": \{ "model": "mlp", "params": \{ "hidden": \[64\], "earlyStopping": false, "l2": 0\.001 \} \},/,
  );
  const [longer] = paramFixes('logistic', undefined, ['trainLonger']);
  assert.match(
    applyEdits(PROJECT, fixEdits(PROJECT, 'lin', longer)),
    /"lin": \{ "model": "logistic", "params": \{ "maxIter": 200 \} \}/,
  );
  const multi = '{ "experiments": {\n  "m": {\n    "model": "mlp",\n    "params": {\n      "l2": 0.01\n    }\n  }\n} }';
  const [lower] = paramFixes('mlp', { l2: 0.01 }, ['lessRegularization']);
  assert.equal(applyEdits(multi, fixEdits(multi, 'm', lower)), multi.replace('0.01', '0.001'));
});

test('cnn fixes: more dropout and l2, early stopping when off; wider channels, longer training, less dropout', () => {
  assert.deepEqual(
    paramFixes('cnn', { dropout: 0.25, earlyStopping: false }, ['moreRegularization', 'earlyStopping']).map(
      (f) => f.set,
    ),
    [{ l2: 0.001 }, { dropout: 0.5 }, { earlyStopping: 10 }],
  );
  assert.deepEqual(
    paramFixes('cnn', { channels: [16, 32] }, ['biggerModel', 'trainLonger', 'lessRegularization']).map((f) => f.set),
    [{ channels: [32, 64] }, { epochs: 20 }, { dropout: 0 }],
  );
});
