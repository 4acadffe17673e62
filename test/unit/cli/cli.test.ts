import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { runCli } from '../../../src/cli/main';
import type { CliCommand, CliIO } from '../../../src/cli/command';
import { commands } from '../../../src/cli/commands';
import { baseSpec, positionOf, tabularCsv, tempProject } from '../data/fixture';

const root = join(__dirname, '../../..');

async function run(argv: string[], cwd = root): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = { out: (t) => out.push(t), err: (t) => err.push(t), cwd };
  const code = await runCli(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

test('--help lists every command of the table; no command is a usage error', async () => {
  const help = await run(['--help']);
  assert.equal(help.code, 0);
  for (const c of commands) assert.ok(help.out.includes(c.name) && help.out.includes(c.summary), c.name);
  assert.equal((await run([])).code, 2);
  const unknown = await run(['frobnicate']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /unknown command "frobnicate"/);
});

test('<command> --help prints its usage; a bad option is a usage error (exit 2)', async () => {
  const r = await run(['validate', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.out, /^ml-loop validate \[DIR\]/);
  const bad = await run(['validate', '--frob']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /frob/);
});

test('a command added to the table is dispatched with its arguments', async () => {
  const seen: string[][] = [];
  const echo: CliCommand = { name: 'echo', summary: 'Echo', usage: 'ml-loop echo', run: async (args, io) => (seen.push(args), io.out(args.join(' ')), 3) };
  const out: string[] = [];
  const code = await runCli(['echo', 'a', 'b'], { out: (t) => out.push(t), err: () => {}, cwd: root }, [...commands, echo]);
  assert.equal(code, 3);
  assert.deepEqual(seen, [['a', 'b']]);
});

test('validate: exit 0 on every example', async () => {
  for (const name of ['digits', 'iris', 'diabetes']) {
    const r = await run(['validate', `examples/${name}`]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /valid \(\d+ rows; train \d+, dev \d+, test \d+; data version [0-9a-f]{12}\)/);
  }
});

test('validate: errors as file:line:col: severity: message and exit 1', async () => {
  const p = tempProject(baseSpec({ data: { target: 'lable' } }), { 'data.csv': tabularCsv(20) });
  try {
    const r = await run(['validate'], p.dir); // DIR defaults to the current folder
    assert.equal(r.code, 1);
    const pos = positionOf(p.text, '"lable"');
    assert.ok(r.err.split('\n').includes(`${p.projectFile}:${pos.line}:${pos.column}: error: The data has no column "lable": did you mean "label"? (its columns: x1, x2, colour, label)`), r.err);
  } finally {
    p.cleanup();
  }
});

test('validate: data problems are printed at the data file\'s line', async () => {
  const p = tempProject(baseSpec(), { 'data.csv': 'x1,x2,colour,label\n1,2,red,a\n2,3,blue\n' });
  try {
    const r = await run(['validate', p.dir]);
    assert.equal(r.code, 1);
    assert.ok(r.err.includes(`${p.path('data.csv')}:3:1: error: This row has 3 fields; the header has 4`), r.err);
  } finally {
    p.cleanup();
  }
});

test('validate --max-bytes refuses a larger file with a clear message', async () => {
  const p = tempProject(baseSpec(), { 'data.csv': tabularCsv(50) });
  try {
    const r = await run(['validate', p.dir, '--max-bytes', '64']);
    assert.equal(r.code, 1);
    assert.match(r.err, /data\.csv:1:1: error: The data file is \d+ bytes, above the 64 bytes ML Loop reads/);
    assert.equal((await run(['validate', p.dir, '--max-bytes', 'lots'])).code, 2);
  } finally {
    p.cleanup();
  }
});

test('profile --json prints the DataProfile; profile prints a readable summary', async () => {
  const json = await run(['profile', 'examples/iris', '--json']);
  assert.equal(json.code, 0, json.err);
  const profile = JSON.parse(json.out);
  assert.equal(profile.rows, 150);
  assert.deepEqual(profile.classBalance.map((c: { class: string }) => c.class), ['setosa', 'versicolor', 'virginica']);
  assert.equal(profile.columns.length, 5);
  const text = await run(['profile', 'examples/iris']);
  assert.equal(text.code, 0);
  assert.match(text.out, /150 rows, 5 columns/);
  assert.match(text.out, /petal_length +feature numeric/);
});

test('profile of an invalid project prints its problems and exits 1', async () => {
  const p = tempProject(baseSpec(), { 'data.csv': '' });
  try {
    const r = await run(['profile', p.dir, '--json']);
    assert.equal(r.code, 1);
    assert.equal(r.out, '');
    assert.match(r.err, /data\.csv:1:1: error: The data file is empty/);
  } finally {
    p.cleanup();
  }
});

test('--version prints the package version', async () => {
  const r = await run(['--version']);
  assert.equal(r.code, 0);
  assert.equal(r.out.trim(), JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
  assert.match(r.out, /^\d+\.\d+\.\d+/);
});

test('the bundled CLI: exit codes and output of a real process', async (t) => {
  // Inside the repo (.cache is ignored) so the bundle resolves its externals from node_modules.
  mkdirSync(join(root, '.cache'), { recursive: true });
  const bundleDir = mkdtempSync(join(root, '.cache', 'cli-test-'));
  t.after(() => rmSync(bundleDir, { recursive: true, force: true }));
  // Bundled as dist/cli.js is (src/build/build.mjs), here so that this test needs no prior build.
  await build({
    entryPoints: [join(root, 'src/cli/main.ts')],
    outfile: join(bundleDir, 'cli.js'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    mainFields: ['module', 'main'],
    external: ['vscode', 'onnxruntime-node'],
    logLevel: 'error',
  });
  const ok = spawnSync(process.execPath, [join(bundleDir, 'cli.js'), 'validate', 'examples/iris'], { cwd: root, encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  // The version is package.json's, inlined into the bundle (it runs from a folder without package.json).
  const version = spawnSync(process.execPath, [join(bundleDir, 'cli.js'), '--version'], { cwd: bundleDir, encoding: 'utf8' });
  assert.equal(version.status, 0, version.stderr);
  assert.equal(version.stdout.trim(), JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
  const p = tempProject(baseSpec(), { 'data.csv': 'x1,x2,colour,label\n1,2,red,a\n1,b,red,a\n2,3,red,b\n3,4,red,a\n4,5,red,b\n5,6,red,a\n' });
  try {
    const bad = spawnSync(process.execPath, [join(bundleDir, 'cli.js'), 'validate', p.dir], { encoding: 'utf8' });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, new RegExp(`^${p.path('data.csv').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:3:1: error: Non-numeric value "b" in the numeric column "x2"`, 'm'));
  } finally {
    p.cleanup();
  }
});
