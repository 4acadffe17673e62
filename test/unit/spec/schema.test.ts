import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultParams, InvalidParamsError, projectSchema, resolveParams } from '../../../src/core/spec/schema';
import { parseProjectText } from '../../../src/core/spec/parse';
import { loadProject } from '../../../src/core/check/loadProject';
import type { BuiltinModel } from '../../../src/core/spec/types';

const examplesDir = join(__dirname, '../../../examples');
const examples = readdirSync(examplesDir).filter((d) => existsSync(join(examplesDir, d, 'mlloop.json')));

test('at least the digits, iris and a regression sample exist', () => {
  for (const name of ['digits', 'iris', 'diabetes']) assert.ok(examples.includes(name), name);
});

for (const name of examples) {
  test(`example ${name}: mlloop.json is valid against the schema and its data checks pass`, async () => {
    const file = join(examplesDir, name, 'mlloop.json');
    const parsed = parseProjectText(readFileSync(file, 'utf8'), file);
    assert.deepEqual(parsed.problems, []);
    // On a copy: the data checks write caches (decoded images) into the project, and examples/ stays as committed.
    const copy = join(mkdtempSync(join(tmpdir(), 'mlloop-example-')), name);
    cpSync(join(examplesDir, name), copy, { recursive: true, filter: (src) => !src.includes('.mlloop') });
    const project = await loadProject(copy, {});
    assert.deepEqual(
      project.problems.filter((p) => p.severity === 'error'),
      [],
    );
    assert.ok(project.data && project.data.split.dev > 0 && project.data.split.train > 0);
    for (const exp of Object.values(parsed.spec!.experiments))
      if ('model' in exp) assert.doesNotThrow(() => resolveParams(exp));
  });
}

type SchemaNode = {
  properties?: Record<string, SchemaNode>;
  description?: string;
  markdownDescription?: string;
  $ref?: string;
  definitions?: Record<string, SchemaNode>;
};

test('every property in the schema has a description', () => {
  const missing: string[] = [];
  const walk = (node: SchemaNode, path: string) => {
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      if (!child.description && !child.markdownDescription && !child.$ref) missing.push(`${path}.${key}`);
      walk(child, `${path}.${key}`);
    }
  };
  const schema = projectSchema as SchemaNode;
  walk(schema, '');
  for (const [name, def] of Object.entries(schema.definitions ?? {})) walk(def, `#${name}`);
  assert.deepEqual(missing, []);
});

const MODELS: BuiltinModel[] = ['linear', 'logistic', 'mlp', 'gbdt', 'cnn'];

test('resolveParams fills every parameter of each model with its schema default', () => {
  const defs = (projectSchema as SchemaNode).definitions!;
  for (const model of MODELS) {
    const props = defs[`${model}Params`].properties!;
    const params = defaultParams(model) as unknown as Record<string, unknown>;
    assert.deepEqual(Object.keys(params).sort(), Object.keys(props).sort(), model);
    for (const [k, v] of Object.entries(params))
      assert.deepEqual(v, (props[k] as { default?: unknown }).default, `${model}.${k}`);
  }
  assert.deepEqual(defaultParams('mlp').hidden, [64]);
  assert.equal(defaultParams('gbdt').maxBins, 255);
  assert.deepEqual(defaultParams('cnn').channels, [32, 64]);
  assert.deepEqual(defaultParams('cnn').augment, { flip: false, shift: 0 });
});

test('resolveParams keeps given values, does not mutate the spec, and rejects out-of-range ones', () => {
  const exp = { model: 'mlp' as const, params: { epochs: 5, hidden: [8, 4] } };
  const p = resolveParams(exp);
  assert.equal(p.epochs, 5);
  assert.deepEqual(p.hidden, [8, 4]);
  assert.equal(p.activation, 'relu');
  assert.deepEqual(exp.params, { epochs: 5, hidden: [8, 4] });
  // Defaults are copies: changing one resolved array must not change the next.
  p.hidden.push(2);
  assert.deepEqual(defaultParams('mlp').hidden, [64]);
  assert.throws(() => resolveParams({ model: 'gbdt', params: { maxBins: 256 } }), InvalidParamsError);
  assert.throws(() => resolveParams({ model: 'mlp', params: { activation: 'sigmoid' } }), /activation/);
  assert.throws(() => resolveParams({ model: 'logistic', params: { lr: 1 } }), InvalidParamsError);
  assert.equal(resolveParams({ model: 'mlp', params: { earlyStopping: false } }).earlyStopping, false);
});

test("resolveParams passes a script experiment's params through as given", () => {
  assert.deepEqual(resolveParams({ command: ['python3', 'train.py'], params: { anything: [1, 2] } }), {
    anything: [1, 2],
  });
  assert.deepEqual(resolveParams({ command: ['x'] }), {});
});
