// The in-editor half of the project-file checks: the syntax and schema problems of the text being
// edited (not the file on disk), and data problems found in an older text moved to where their
// field now is. Loaded on the first check (the schema compiles when this module loads), not at
// activation. No editor import.
import { JsonDocument } from '../../core/spec/jsonLocation';
import { parseProjectDocument } from '../../core/spec/parse';
import type { Problem } from '../../core/spec/problems';

/** Syntax and schema problems of an mlloop.json text; `valid` when there are none. */
export function textProblems(text: string, file: string): { valid: boolean; problems: Problem[] } {
  const { spec, problems } = parseProjectDocument(new JsonDocument(text), file);
  return { valid: spec !== undefined, problems };
}

/** Problems located in `oldText` of `file`, re-located by their JSON path in `newText` (the user
 *  edited the file since the data check ran). Problems in other files are returned unchanged. */
export function relocateProblems(problems: Problem[], file: string, oldText: string, newText: string): Problem[] {
  if (oldText === newText) return problems;
  const doc = new JsonDocument(newText);
  return problems.map((p) => {
    if (p.file !== file || !p.jsonPath) return p;
    return { ...p, ...doc.rangeOf(p.jsonPath) };
  });
}
