// Maps JSON paths and offsets of a JSON-with-comments text to 1-based line/column ranges (Problem's
// convention), using jsonc-parser's syntax tree so squiggles land exactly on the offending value.
import { applyEdits, findNodeAtLocation, modify, parseTree, type Edit, type Node, type ParseError } from 'jsonc-parser';
import type { Problem, ProblemFix, Severity } from './problems';

export type JsonPath = (string | number)[];

export interface TextRange {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

export class JsonDocument {
  readonly tree: Node | undefined;
  readonly syntaxErrors: ParseError[] = [];
  private readonly lineStarts: number[] = [0];

  constructor(readonly text: string) {
    this.tree = parseTree(text, this.syntaxErrors, { allowTrailingComma: true, disallowComments: false });
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
  }

  /** 1-based line and column of a 0-based offset. */
  position(offset: number): { line: number; column: number } {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.lineStarts[lo] + 1 };
  }

  rangeOfOffsets(offset: number, length: number): TextRange {
    const start = this.position(offset);
    const end = this.position(offset + Math.max(length, 1));
    return { line: start.line, column: start.column, endLine: end.line, endColumn: end.column };
  }

  /** The node at path, or the deepest existing ancestor when the path does not exist (yet). */
  nodeAt(path: JsonPath): Node | undefined {
    if (!this.tree) return undefined;
    for (let n = path.length; n >= 0; n--) {
      const node = findNodeAtLocation(this.tree, path.slice(0, n));
      if (node) return node;
    }
    return this.tree;
  }

  /** Range of the value at path (or of its closest existing ancestor); objects and arrays are
   *  located at their property key so a squiggle does not cover a whole block. */
  rangeOf(path: JsonPath): TextRange {
    const node = this.nodeAt(path);
    if (!node) return { line: 1, column: 1, endLine: 1, endColumn: 2 };
    if ((node.type === 'object' || node.type === 'array') && node.parent?.type === 'property') {
      const key = node.parent.children![0];
      return this.rangeOfOffsets(key.offset, key.length);
    }
    if (node.type === 'object' || node.type === 'array') return this.rangeOfOffsets(node.offset, 1);
    return this.rangeOfOffsets(node.offset, node.length);
  }

  /** The scalar value at path (undefined for objects, arrays and missing paths). */
  valueAt(path: JsonPath): unknown {
    const node = this.tree && path.length ? findNodeAtLocation(this.tree, path) : undefined;
    return node && node.type !== 'object' && node.type !== 'array' ? node.value : undefined;
  }

  /** Range of the property key at path (e.g. an unexpected property). */
  keyRangeOf(path: JsonPath): TextRange {
    const node = this.tree && path.length ? findNodeAtLocation(this.tree, path) : undefined;
    const key = node?.parent?.type === 'property' ? node.parent.children![0] : undefined;
    return key ? this.rangeOfOffsets(key.offset, key.length) : this.rangeOf(path);
  }

  problemAt(path: JsonPath, file: string, severity: Severity, code: string, message: string, key = false): Problem {
    return { severity, code, message, file, jsonPath: path, ...(key ? this.keyRangeOf(path) : this.rangeOf(path)) };
  }
}

/** Human-readable form of a JSON path: data.split.dev, experiments.mlp.params.hidden[0]. */
export function formatJsonPath(path: JsonPath): string {
  let s = '';
  for (const seg of path) {
    if (typeof seg === 'number') s += `[${seg}]`;
    else s += /^[A-Za-z_$][\w$]*$/.test(seg) ? (s ? `.${seg}` : seg) : `[${JSON.stringify(seg)}]`;
  }
  return s || '(root)';
}

/** One edit spanning what differs between two texts (common prefix and suffix kept). */
export function wholeDiff(a: string, b: string): Edit {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let end = 0;
  while (end < a.length - start && end < b.length - start && a[a.length - 1 - end] === b[b.length - 1 - end]) end++;
  return { offset: start, length: a.length - start - end, content: b.slice(start, b.length - end) };
}

/** The text edit of a problem's fix (its values set in turn, comments and layout kept): one edit, or none when nothing changes. */
export function problemFixEdits(text: string, fix: ProblemFix, insertSpaces = true, tabSize = 2): Edit[] {
  let current = text;
  for (const e of fix.edits) current = applyEdits(current, modify(current, e.jsonPath, e.value, { formattingOptions: { insertSpaces, tabSize } }));
  return current === text ? [] : [wholeDiff(text, current)];
}
