// Temporary ML Loop projects for tests: an mlloop.json and data files in a fresh folder.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ProjectSpec } from '../../../src/core/spec/types';

export interface TempProject {
  dir: string;
  projectFile: string;
  /** The mlloop.json text written. */
  text: string;
  path(rel: string): string;
  cleanup(): void;
}

export function baseSpec(
  over: Omit<Partial<ProjectSpec>, 'data'> & { data?: Partial<ProjectSpec['data']> } = {},
): ProjectSpec {
  const { data, ...rest } = over;
  return {
    name: 'test',
    task: 'classification',
    metric: 'accuracy',
    experiments: { logistic: { model: 'logistic' } },
    ...rest,
    data: { path: 'data.csv', target: 'label', split: { dev: 0.25, test: 0.25, seed: 1 }, ...data },
  } as ProjectSpec;
}

/** Writes files (mlloop.json given as text or spec; pretty-printed so each field has its own line). */
export function tempProject(spec: ProjectSpec | string, files: Record<string, string | Buffer> = {}): TempProject {
  const dir = mkdtempSync(join(tmpdir(), 'mlloop-test-'));
  const text = typeof spec === 'string' ? spec : JSON.stringify(spec, null, 2);
  writeFileSync(join(dir, 'mlloop.json'), text);
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), content);
  }
  return {
    dir,
    projectFile: join(dir, 'mlloop.json'),
    text,
    path: (rel) => join(dir, rel),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** 1-based line and column of the first occurrence of `needle` in `text` (after `after`, when given). */
export function positionOf(text: string, needle: string, after?: string): { line: number; column: number } {
  const from = after ? text.indexOf(after) : 0;
  const offset = text.indexOf(needle, from);
  if (offset < 0) throw new Error(`"${needle}" not in text`);
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

/** A CSV of n rows: two numeric features, one categorical, and a label alternating a/b (or given). */
export function tabularCsv(n: number, label: (i: number) => string = (i) => (i % 2 ? 'a' : 'b')): string {
  const lines = ['x1,x2,colour,label'];
  for (let i = 0; i < n; i++)
    lines.push(`${(i * 0.37) % 5},${(i * 7) % 11},${['red', 'green', 'blue'][i % 3]},${label(i)}`);
  return lines.join('\n') + '\n';
}
