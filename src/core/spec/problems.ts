// A problem found in a project: in mlloop.json (located at a line/column) or in its data
// (located at a data-file line). Shown in VS Code's Problems panel and by the CLI as
// `file:line:col: severity: message`.

import { distance } from 'fastest-levenshtein';

export type Severity = 'error' | 'warning' | 'information';

export interface Problem {
  severity: Severity;
  message: string;
  /** Absolute path of the file the problem is in (mlloop.json, or the data file). */
  file: string;
  /** 1-based line and column of the start; end is exclusive, same convention. */
  line: number;
  column: number;
  endLine?: number;
  endColumn?: number;
  /** Stable machine-readable code, e.g. 'schema', 'unknown-target', 'data-leakage'. */
  code: string;
  /** JSON path of the offending value in mlloop.json, e.g. ['data', 'target']. */
  jsonPath?: (string | number)[];
  /** Edits of mlloop.json that fix it (the editor offers each as a quick fix). */
  fixes?: ProblemFix[];
}

/** A fix as a few values set in mlloop.json; `value` undefined removes the property or array entry. */
export interface ProblemFix {
  title: string;
  edits: { jsonPath: (string | number)[]; value: unknown }[];
}

export function formatProblem(p: Problem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.severity}: ${p.message}`;
}

/** The names closest to a mistyped one (case-insensitive edit distance, at most a third of its length, and 2 at least); the nearest first, ties kept. */
export function closestNames(name: string, candidates: string[]): string[] {
  const limit = Math.max(2, Math.floor(name.length / 3));
  const scored = candidates.map((c) => ({ c, d: distance(name.toLowerCase(), c.toLowerCase()) })).filter((x) => x.d <= limit);
  const best = Math.min(...scored.map((x) => x.d));
  return scored.filter((x) => x.d === best).map((x) => x.c);
}
