// The schema the editor's JSON language service gets: the project schema without its checks, so a
// mistake is reported once (by ML Loop, with its "did you mean"), while completions and hovers stay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { editorSchemaOf } from '../../../src/core/spec/editorSchema';
import { parseProjectText } from '../../../src/core/spec/parse';
import projectSchema from '../../../src/core/spec/mlloop.schema.json';

const root = join(__dirname, '..', '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

test('package.json gives the editor media/mlloop.editor.schema.json, which is the project schema without its checks', () => {
  assert.deepEqual(
    pkg.contributes.jsonValidation.map((v: { url: string }) => v.url),
    ['./media/mlloop.editor.schema.json'],
  );
  const file = JSON.parse(readFileSync(join(root, 'media', 'mlloop.editor.schema.json'), 'utf8'));
  assert.deepEqual(
    file,
    editorSchemaOf(projectSchema),
    'media/mlloop.editor.schema.json is out of date: regenerate it from editorSchemaOf(mlloop.schema.json)',
  );
});

test("a model typo is one message: ML Loop's; the editor schema reports nothing but still offers the values and descriptions", () => {
  const text = JSON.stringify({
    name: 'p',
    task: 'classification',
    data: { path: 'd.csv', target: 'y' },
    metric: 'accuracy',
    experiments: { a: { model: 'gdbt' } },
    extra: 1,
  });
  assert.equal(parseProjectText(text, '/p/mlloop.json').problems.filter((p) => /model/.test(p.message)).length, 1);
  const editor = editorSchemaOf(projectSchema) as Record<string, unknown>;
  const validate = new Ajv({ strict: false }).compile(editor);
  assert.equal(validate(JSON.parse(text)), true, JSON.stringify(validate.errors));
  const serialized = JSON.stringify(editor);
  assert.ok(
    serialized.includes('"examples":["linear","logistic","mlp","gbdt","cnn"]'),
    'model names are still completed',
  );
  assert.ok(serialized.includes('"description"'));
  assert.ok(!/"(required|minimum|type|additionalProperties":false)"/.test(serialized));
});
