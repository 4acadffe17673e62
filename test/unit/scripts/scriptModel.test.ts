// Validation of a script's model.onnx against the project, and its evaluation (scores → probabilities).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FeatureSchema } from '../../../src/core/data/types';
import { ModelContractError, planModel, ScriptModel, toProbabilities } from '../../../src/core/scripts/scriptModel';
import { OnnxGraphBuilder } from '../../../src/core/onnx/builder';
import { fixtureScores, scoresModel } from './fixtures';

const schema: FeatureSchema = {
  task: 'classification',
  target: 'species',
  numeric: ['a', 'b', 'c', 'd'],
  categorical: [],
  classes: ['setosa', 'versicolor', 'virginica'],
};
const X = Float32Array.from([5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3, 5.9, 3.0, 4.2, 1.5, 0.5, 9, -3, 2]);
const rows = { n: 4, numeric: X, categories: [] as string[] };

function modelFile(bytes: Uint8Array): string {
  const path = join(mkdtempSync(join(tmpdir(), 'mlloop-model-')), 'model.onnx');
  writeFileSync(path, bytes);
  return path;
}

function softmax(s: number[]): number[] {
  const m = Math.max(...s);
  const e = s.map((v) => Math.exp(v - m));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / z);
}

test('raw scores [N, C]: arg-max class, softmax probabilities (as a plain PyTorch export returns)', async () => {
  const model = await ScriptModel.load(modelFile(scoresModel()), schema);
  const p = await model.predict(rows);
  await model.release();
  for (let i = 0; i < 4; i++) {
    const s = fixtureScores(X.subarray(i * 4, i * 4 + 4));
    assert.equal(p.classIndex![i], s.indexOf(Math.max(...s)));
    softmax(s).forEach((v, c) => assert.ok(Math.abs(p.probabilities![i * 3 + c] - v) < 1e-5));
  }
});

test('probabilities [N, C] are kept as they are (no second softmax)', async () => {
  const model = await ScriptModel.load(modelFile(scoresModel({ softmax: true, output: 'probs' })), schema);
  const p = await model.predict(rows);
  await model.release();
  const s = softmax(fixtureScores(X.subarray(0, 4)));
  s.forEach((v, c) => assert.ok(Math.abs(p.probabilities![c] - v) < 1e-5, `${p.probabilities![c]} vs ${v}`));
});

test('toProbabilities: softmax only when a row is not a distribution', () => {
  assert.deepEqual(
    Array.from(toProbabilities(Float32Array.from([0.25, 0.75, 0.5, 0.5]), 2, 2)),
    [0.25, 0.75, 0.5, 0.5],
  );
  const soft = Array.from(toProbabilities(Float32Array.from([0, Math.log(3), 0.5, 0.5]), 2, 2));
  assert.ok(Math.abs(soft[0] - 0.25) < 1e-6 && Math.abs(soft[1] - 0.75) < 1e-6 && Math.abs(soft[2] - 0.5) < 1e-6);
});

test('a `label` output of class names is used as the prediction', async () => {
  const b = new OnnxGraphBuilder();
  const x = b.addInput('features', 'float', ['N', 4]);
  // label = classes[arg-max of the first two features]: a model whose answer is easy to predict.
  const [first2] = b.addNode('Slice', [
    x,
    b.addInitializer('s', new BigInt64Array([0n]), [1]),
    b.addInitializer('e', new BigInt64Array([2n]), [1]),
    b.addInitializer('a', new BigInt64Array([1n]), [1]),
  ]);
  const [idx] = b.addNode('ArgMax', [first2], 1, { axis: 1, keepdims: 0 });
  b.addNode('Gather', [b.addInitializer('names', ['setosa', 'virginica'], [2]), idx], ['label']);
  b.addOutput('label', 'string', ['N']);
  const model = await ScriptModel.load(modelFile(b.build()), schema);
  const p = await model.predict(rows);
  await model.release();
  // Row 3 (0.5, 9, …) picks its second feature: virginica; the others their first: setosa.
  assert.deepEqual(Array.from(p.classIndex!), [0, 0, 0, 2]);
  assert.deepEqual(Array.from(p.probabilities!.subarray(9, 12)), [0, 0, 1]);
});

test('wrong inputs: the error names the expected and the actual inputs', async () => {
  for (const [model, why] of [
    [scoresModel({ inputName: 'input' }), /unexpected input "input"/],
    [scoresModel({ inputWidth: 5 }), /"features" is not \[N, 4\]/],
    [scoresModel({ inputType: 'double' }), /"features" is not float32/],
  ] as const) {
    await assert.rejects(ScriptModel.load(modelFile(model), schema), (e: Error) => {
      assert.ok(e instanceof ModelContractError);
      assert.match(e.message, why);
      assert.match(e.message, /expected features float32 \[N, 4\]; the model takes /);
      return true;
    });
  }
  await assert.rejects(
    ScriptModel.load(modelFile(scoresModel({ inputName: 'input' })), schema),
    /the model takes input float32 \[N, 4\]/,
  );
});

test('wrong outputs: a score output with the wrong number of classes is refused, naming both', async () => {
  await assert.rejects(ScriptModel.load(modelFile(scoresModel({ outputWidth: 4 })), schema), (e: Error) => {
    assert.match(
      e.message,
      /do not fit a 3-class project: expected a "label" output, or one float output \[N, 3\].*the model returns scores float32 \[N, 4\]/,
    );
    return true;
  });
  await assert.rejects(
    ScriptModel.load(modelFile(new Uint8Array([1, 2, 3])), schema),
    /could not be loaded by onnxruntime/,
  );
});

test('an `embedding` output [N, D] is never taken for scores, even when D is the number of classes', () => {
  const tensor = (name: string, shape: (number | string)[]) => ({
    name,
    isTensor: true as const,
    type: 'float32' as const,
    shape,
  });
  const inputs = [tensor('features', ['N', 4])];
  assert.deepEqual(planModel(schema, inputs, [tensor('scores', ['N', 3]), tensor('embedding', ['N', 3])]), {
    kind: 'scores',
    scores: 'scores',
  });
  assert.throws(() => planModel(schema, inputs, [tensor('embedding', ['N', 3])]), ModelContractError);
});
