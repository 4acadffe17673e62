// mlloop.json text → ProjectSpec + Problems: JSON-with-comments syntax (jsonc-parser) then the JSON
// Schema (Ajv), each problem located at the exact range of the offending value.
import { getNodeValue, printParseErrorCode } from 'jsonc-parser';
import type { ErrorObject } from 'ajv';
import { closestNames, type Problem } from './problems';
import { DEFAULT_IMAGE_TARGET, type ProjectSpec } from './types';
import { validateProjectValue } from './schema';
import { formatJsonPath, JsonDocument, type JsonPath } from './jsonLocation';

export interface ParsedProject {
  spec?: ProjectSpec;
  problems: Problem[];
}

const SYNTAX_MESSAGES: Record<string, string> = {
  InvalidSymbol: 'Invalid symbol',
  InvalidNumberFormat: 'Invalid number',
  PropertyNameExpected: 'Property name expected (in double quotes)',
  ValueExpected: 'Value expected',
  ColonExpected: 'Colon expected',
  CommaExpected: 'Comma expected',
  CloseBraceExpected: 'Closing brace } expected',
  CloseBracketExpected: 'Closing bracket ] expected',
  EndOfFileExpected: 'End of file expected',
  InvalidCommentToken: 'Invalid comment',
  UnexpectedEndOfComment: 'Unterminated comment',
  UnexpectedEndOfString: 'Unterminated string',
  UnexpectedEndOfNumber: 'Unterminated number',
  InvalidUnicode: 'Invalid unicode escape',
  InvalidEscapeCharacter: 'Invalid escape character',
  InvalidCharacter: 'Invalid character',
};

/** Parses and schema-validates the text of an mlloop.json. `spec` is set only when there is no error. */
export function parseProjectText(text: string, file: string): ParsedProject {
  return parseProjectDocument(new JsonDocument(text), file);
}

export function parseProjectDocument(doc: JsonDocument, file: string): ParsedProject {
  if (doc.syntaxErrors.length || !doc.tree) {
    const problems: Problem[] = doc.syntaxErrors.map((e) => {
      const code = printParseErrorCode(e.error);
      return {
        severity: 'error',
        code: 'json-syntax',
        message: `${SYNTAX_MESSAGES[code] ?? code} (mlloop.json is JSON with comments)`,
        file,
        ...doc.rangeOfOffsets(e.offset, e.length),
      };
    });
    if (!problems.length) problems.push({ severity: 'error', code: 'json-syntax', message: 'The file is empty: expected a JSON object', file, line: 1, column: 1 });
    return { problems };
  }
  // getNodeValue builds null-prototype objects; callers get plain ones.
  const value: unknown = JSON.parse(JSON.stringify(getNodeValue(doc.tree)));
  const problems = schemaErrorsToProblems(validateProjectValue(value), doc, file);
  if (problems.length) return { problems };
  const spec = value as ProjectSpec;
  // Image folders name no class column; scripts' manifests call it "label".
  if (spec.data.images !== undefined) spec.data.target ??= DEFAULT_IMAGE_TARGET;
  return { spec, problems };
}

function pathOf(instancePath: string): JsonPath {
  if (!instancePath) return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** Of the errors Ajv reports for each failing branch of a oneOf, keep those of the closest branch
 *  (fewest errors): "dev must be < 1" reads better than both branches' complaints. */
function pruneOneOfBranches(errors: ErrorObject[]): ErrorObject[] {
  const dropped = new Set<number>();
  errors.forEach((e, k) => {
    if (e.keyword !== 'oneOf') return;
    const groups = new Map<string, number[]>();
    for (let i = 0; i < k; i++) {
      const p = errors[i].instancePath;
      if (dropped.has(i) || (p !== e.instancePath && !p.startsWith(e.instancePath + '/'))) continue;
      const branch = errors[i].schemaPath.split('/').slice(0, 3).join('/');
      groups.set(branch, [...(groups.get(branch) ?? []), i]);
    }
    if (!groups.size) return;
    const best = [...groups.values()].sort((a, b) => a.length - b.length)[0];
    for (const g of groups.values()) if (g !== best) g.forEach((i) => dropped.add(i));
    dropped.add(k);
  });
  return errors.filter((_, i) => !dropped.has(i));
}

/** One message per mistake: a value outside two enums at once (every metric, and the task's metrics)
 *  is reported against the narrower one only. */
function narrowestEnums(errors: ErrorObject[]): ErrorObject[] {
  const narrowest = new Map<string, ErrorObject>();
  for (const e of errors) {
    if (e.keyword !== 'enum') continue;
    const seen = narrowest.get(e.instancePath);
    const size = (x: ErrorObject) => (x.params as { allowedValues: unknown[] }).allowedValues.length;
    if (!seen || size(e) < size(seen)) narrowest.set(e.instancePath, e);
  }
  return errors.filter((e) => e.keyword !== 'enum' || narrowest.get(e.instancePath) === e);
}

function describe(e: ErrorObject, path: JsonPath): { message: string; at: JsonPath; key: boolean } {
  const where = formatJsonPath(path);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return { message: `${where === '(root)' ? 'The project' : where} is missing the required property "${p.missingProperty}"`, at: path, key: false };
    case 'additionalProperties':
      return { message: `Unknown property "${p.additionalProperty}" in ${where}`, at: [...path, String(p.additionalProperty)], key: true };
    case 'enum':
      return { message: `${where} must be one of: ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`, at: path, key: false };
    case 'const':
      return { message: `${where} must be ${JSON.stringify(p.allowedValue)}`, at: path, key: false };
    case 'type':
      return { message: `${where} must be of type ${String(p.type).replace(',', ' or ')}`, at: path, key: false };
    case 'propertyNames':
      return { message: `Invalid name "${p.propertyName}" in ${where}: use letters, digits, _ . -`, at: [...path, String(p.propertyName)], key: true };
    case 'pattern':
      return { message: `${where} ${e.message}`, at: path, key: false };
    default:
      return { message: `${where} ${e.message}`, at: path, key: false };
  }
}

function schemaErrorsToProblems(errors: ErrorObject[], doc: JsonDocument, file: string): Problem[] {
  const seen = new Set<string>();
  const problems: Problem[] = [];
  // 'if' only says a then/else branch failed; the branch's own errors are the useful ones.
  // propertyNames' pattern errors point at the name (reported by the propertyNames error itself).
  const useful = narrowestEnums(pruneOneOfBranches(errors).filter((e) => e.keyword !== 'if' && !(e.propertyName !== undefined && e.keyword === 'pattern')));
  for (const e of useful) {
    const { message, at, key } = describe(e, pathOf(e.instancePath));
    const id = `${at.join('/')}|${message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const problem = doc.problemAt(at, file, 'error', 'schema', message, key);
    // A mistyped name among the allowed values: the closest ones, as a hint and as quick fixes.
    const given = e.keyword === 'enum' ? doc.valueAt(at) : undefined;
    const near = typeof given === 'string' ? closestNames(given, (e.params as { allowedValues: unknown[] }).allowedValues.filter((v): v is string => typeof v === 'string')) : [];
    if (near.length) {
      problem.message += ` (did you mean ${near.map((n) => `"${n}"`).join(' or ')}?)`;
      problem.fixes = near.map((n) => ({ title: `Use "${n}"`, edits: [{ jsonPath: at, value: n }] }));
    }
    problems.push(problem);
  }
  return problems;
}
