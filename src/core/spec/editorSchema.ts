// The schema the editor's JSON language service gets for mlloop.json (package.json jsonValidation):
// mlloop.schema.json with every validation keyword taken out, so that it still gives completions
// (enum and const values become `examples`) and hovers (descriptions) but reports nothing. ML Loop
// validates the file itself (Ajv, src/core/spec/parse.ts), with one message per mistake located at
// its value, a "did you mean" and a quick fix: two validators reported each mistake twice.
// media/mlloop.editor.schema.json is this function's output, checked by a unit test.

/** Keywords that only constrain (the language service would report them). */
const VALIDATION = new Set([
  'type', 'required', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf', 'minLength', 'maxLength', 'pattern', 'format',
  'minItems', 'maxItems', 'uniqueItems', 'minProperties', 'maxProperties', 'propertyNames', 'not', 'if', 'then', 'else', 'dependencies', 'contains',
]);

export function editorSchemaOf(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(editorSchemaOf);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema as Record<string, unknown>)) {
    if (VALIDATION.has(key)) continue;
    if (key === 'enum') out.examples = value;
    else if (key === 'const') out.examples = [value];
    // `false` forbids other properties; a schema object (a map's values) stays, stripped too.
    else if (key === 'additionalProperties' || key === 'items') {
      if (typeof value === 'object') out[key] = editorSchemaOf(value);
    } else if (key === 'oneOf' || key === 'allOf') out.anyOf = editorSchemaOf(value);
    else if (key === 'properties' || key === 'definitions' || key === 'patternProperties') {
      out[key] = Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, editorSchemaOf(v)]));
    } else out[key] = key === 'anyOf' ? editorSchemaOf(value) : value;
  }
  return out;
}
