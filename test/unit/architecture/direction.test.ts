// src/core and webview/ must never import the editor API: the core runs in plain Node (CLI,
// server, workers) and webviews run in a browser sandbox.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');
const vscodeImport = /(?:from\s+['"]vscode['"]|require\(\s*['"]vscode['"]\s*\)|import\(\s*['"]vscode['"]\s*\))/;

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && /\.(ts|js|mjs|cjs)$/.test(d.name))
    .map((d) => join(d.parentPath ?? (d as unknown as { path: string }).path, d.name));
}

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
