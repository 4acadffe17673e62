// The architecture, enforced (docs/architecture.md draws it):
//  - src/core and webview/ never import the editor API: the core runs in plain Node (CLI, server,
//    workers) and webviews run in a browser sandbox;
//  - src/core never imports the extension, the protocol, the CLI, the server or the workers; the
//    workers never import the extension; the protocol never imports the extension or an entry;
//  - core folders import only downward, in the order of CORE_FLOORS (exceptions listed with a reason);
//  - no import cycle anywhere in src/ (type-only imports count: they are how a cycle starts).
// Imports are read with TypeScript's own pre-processor (static, `export … from`, `import()`, `require()`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const root = join(__dirname, '..', '..', '..');
const vscodeImport = /(?:from\s+['"]vscode['"]|require\(\s*['"]vscode['"]\s*\)|import\(\s*['"]vscode['"]\s*\))/;

/**
 * The floors of src/core, lowest first: a folder imports only from its own floor and those before it.
 * A new core folder must be placed here (the test says so), which is where its place is decided.
 */
export const CORE_FLOORS = [
  'runtime', // the program itself: version, worker threads, cancellation
  'charts', // the look every chart configuration shares (palette, axes); imports no other core module
  'spec', // mlloop.json: types, schema, parsing, problems, the on-disk layout
  'data', // reading, typing, splitting and versioning the data
  'check', // the project checks (mlloop.json + data) behind the Problems panel and `ml-loop validate`
  'requestLog', // the request log: written by serve, read by monitor and update
  'onnx', // building ONNX graphs and running them
  'train', // built-in trainers, the training worker's job, the run folder and its outputs
  'track', // the run store as its readers see it: listing, comparing, MLflow
  'scripts', // script experiments: the user's command as a trainer
  'experiment', // which trainer an experiment uses, and sweeps
  'cluster', // SLURM: job scripts, sbatch/squeue/sacct, following cluster runs to their end
  'diagnose', // bias/variance, metrics, importance, learning curves
  'serve', // the inference server
  'monitor', // drift, live accuracy, the Monitoring panel's charts and alerts
  'analysis', // error analysis: error table, tags, slices, label errors, augmentation
  'update', // retraining with production data, the promotion gate, the review queue
];

/** Upward imports between core folders that are allowed, each with its reason. */
export const ALLOWED_UPWARD: { from: string; to: string; reason: string }[] = [
  {
    from: 'core/analysis/analysis.ts',
    to: 'core/update/reviewQueue.ts',
    reason:
      'the Error Analysis panel lists the production review queue (its Production source); the queue is built by update from production data and tagged like dev examples',
  },
];

/** Import cycles known today, to be removed (the test fails once one is gone, so the list stays true). */
export const KNOWN_CYCLES: { files: string[]; reason: string }[] = [];

/** Top-level folders of src/ and those each must never import. */
const FORBIDDEN: Record<string, string[]> = {
  core: ['extension', 'protocol', 'cli', 'worker', 'server'],
  worker: ['extension', 'cli', 'server'],
  protocol: ['extension', 'cli', 'worker', 'server'],
};

function sources(dir: string, ext = /\.(ts|js|mjs|cjs)$/): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && ext.test(d.name))
    .map((d) => join(d.parentPath ?? (d as unknown as { path: string }).path, d.name));
}

/** The relative imports of a file, resolved to .ts files (packages and JSON are not edges). */
export function importsOf(file: string, text: string): string[] {
  const info = ts.preProcessFile(text, true, true);
  const out = new Set<string>();
  for (const { fileName } of info.importedFiles) {
    if (!fileName.startsWith('.')) continue;
    const base = resolve(dirname(file), fileName);
    const hit = [base + '.ts', join(base, 'index.ts'), base].find(
      (c) => c.endsWith('.ts') && existsSync(c) && statSync(c).isFile(),
    );
    if (hit) out.add(hit);
  }
  return [...out];
}

/** The import graph of src/: file (relative to src/) → files it imports. */
function srcGraph(): Map<string, string[]> {
  const src = join(root, 'src');
  const graph = new Map<string, string[]>();
  for (const file of sources('src', /\.ts$/))
    graph.set(
      relative(src, file),
      importsOf(file, readFileSync(file, 'utf8')).map((f) => relative(src, f)),
    );
  return graph;
}

/** Every import cycle (strongly connected components of more than one file, or a file importing itself). */
export function cyclesOf(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

const top = (f: string) => f.split('/')[0];
const coreFloor = (f: string) => (top(f) === 'core' ? f.split('/')[1] : undefined);

for (const dir of ['src/core', 'webview']) {
  test(`${dir} does not import vscode`, () => {
    const files = sources(dir);
    assert.ok(files.length > 0, `expected sources under ${dir}`);
    const offenders = files.filter((f) => vscodeImport.test(readFileSync(f, 'utf8')));
    assert.deepEqual(offenders, []);
  });
}

test('the purity check recognises each import form', () => {
  for (const s of [`import * as vscode from 'vscode';`, `const v = require("vscode")`, `await import('vscode')`]) {
    assert.match(s, vscodeImport);
  }
  assert.doesNotMatch(`import x from 'vscode-jsonrpc'`, vscodeImport);
});

test('core, the workers and the protocol never import the layers above them', () => {
  const offenders: string[] = [];
  for (const [from, imports] of srcGraph()) {
    for (const to of imports) if (FORBIDDEN[top(from)]?.includes(top(to))) offenders.push(`${from} → ${to}`);
  }
  assert.deepEqual(offenders, []);
});

test('core folders import only downward, in the declared order of floors', () => {
  const graph = srcGraph();
  const unplaced = new Set<string>();
  const upward: string[] = [];
  const used = new Set<string>();
  for (const [from, imports] of graph) {
    const a = coreFloor(from);
    if (a === undefined) continue;
    if (!CORE_FLOORS.includes(a)) unplaced.add(a);
    for (const to of imports) {
      const b = coreFloor(to);
      if (b === undefined || !CORE_FLOORS.includes(b) || CORE_FLOORS.indexOf(b) <= CORE_FLOORS.indexOf(a)) continue;
      const allowed = ALLOWED_UPWARD.find((x) => x.from === from && x.to === to);
      if (allowed) used.add(`${from} → ${to}`);
      else upward.push(`${from} → ${to} (${a} is below ${b})`);
    }
  }
  assert.deepEqual([...unplaced], [], 'core folders missing from CORE_FLOORS: place each at its floor');
  assert.deepEqual(
    upward,
    [],
    'upward imports between core folders: move the shared piece down, or list the exception with its reason',
  );
  const stale = ALLOWED_UPWARD.map((x) => `${x.from} → ${x.to}`).filter((k) => !used.has(k));
  assert.deepEqual(stale, [], 'ALLOWED_UPWARD lists imports that no longer exist: remove them');
});

test('no import cycle in src/', () => {
  const cycles = cyclesOf(srcGraph()).map((c) => c.join(', '));
  const known = KNOWN_CYCLES.map((c) => [...c.files].sort().join(', '));
  assert.deepEqual(
    cycles.filter((c) => !known.includes(c)),
    [],
    'import cycles (the files of each): break each (a shared piece moves below both, or a callback replaces the import back)',
  );
  assert.deepEqual(
    known.filter((c) => !cycles.includes(c)),
    [],
    'KNOWN_CYCLES lists cycles that no longer exist: remove them',
  );
});

test('the direction checks see every import form, and find a cycle', () => {
  const file = join(root, 'src', 'core', 'train', 'probe.ts');
  const text = [
    `import type { RunRecord } from './runStore';`,
    `export { trainJobRun } from './run';`,
    `const m = () => import('../data/dataset');`,
    `const r = require('../spec/layout');`,
    `// import { x } from './metrics';`,
    `import Papa from 'papaparse';`,
  ].join('\n');
  const seen = importsOf(file, text).map((f) => relative(join(root, 'src'), f));
  assert.deepEqual(seen.sort(), [
    'core/data/dataset.ts',
    'core/spec/layout.ts',
    'core/train/run.ts',
    'core/train/runStore.ts',
  ]);
  const graph = new Map([
    ['a.ts', ['b.ts']],
    ['b.ts', ['c.ts']],
    ['c.ts', ['a.ts']],
    ['d.ts', ['a.ts', 'd.ts']],
  ]);
  assert.deepEqual(cyclesOf(graph).sort(), [['a.ts', 'b.ts', 'c.ts'], ['d.ts']]);
});
