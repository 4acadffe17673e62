// The editor-free half of the Problems diagnostics: the data checks the worker runs, the worker
// itself (result, cancellation), re-locating problems after edits, and the blocking error.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { checkProject } from '../../../src/core/check/projectChecks';
import { relocateProblems, textProblems } from '../../../src/extension/problems/projectText';
import { blockingError } from '../../../src/extension/problems/problemError';
import { checkProjectInWorker } from '../../../src/core/check/runCheck';
import { CancelledError } from '../../../src/core/runtime/cancel';

const root = join(__dirname, '..', '..', '..');
const irisSpec = readFileSync(join(root, 'examples/iris/mlloop.json'), 'utf8');
const irisCsv = readFileSync(join(root, 'examples/iris/data/iris.csv'), 'utf8').replace(/\r\n/g, '\n');

let tmp: string;
let workerPath: string;

/** A project folder: mlloop.json (text) and data/iris.csv (csv). */
function project(name: string, spec: string, csv: string | Buffer = irisCsv): string {
  const dir = join(tmp, name);
  mkdirSync(join(dir, 'data'), { recursive: true });
  writeFileSync(join(dir, 'mlloop.json'), spec);
  writeFileSync(join(dir, 'data', 'iris.csv'), csv);
  return dir;
}

/** 1-based line and column of the first occurrence of `needle` in `text`. */
function positionOf(text: string, needle: string): { line: number; column: number } {
  const offset = text.indexOf(needle);
  assert.ok(offset >= 0, `${needle} not in the text`);
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'mlloop-diag-'));
  workerPath = join(tmp, 'worker-check.js');
  buildSync({
    entryPoints: [join(root, 'src/worker/checkProject.ts')],
    outfile: workerPath,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    mainFields: ['module', 'main'],
    logLevel: 'error',
  });
});
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('checkProject (the data checks of the diagnostics)', () => {
  test('a target that is not a column is an error at the target value in mlloop.json', async () => {
    const spec = irisSpec.replace('"target": "species"', '"target": "specie"');
    const dir = project('unknown-target', spec);
    const r = await checkProject({ projectDir: dir, profile: true });
    assert.ok(r.specValid);
    const p = r.problems.find((x) => x.code === 'data-unknown-column');
    assert.ok(p, JSON.stringify(r.problems));
    assert.equal(p.file, join(dir, 'mlloop.json'));
    assert.deepEqual({ line: p.line, column: p.column }, positionOf(spec, '"specie"'));
    assert.match(p.message, /no column "specie"/);
  });

  test('a ragged row is an error at its line of the data file, and nothing is profiled', async () => {
    const lines = irisCsv.split('\n');
    lines[6] += ',9'; // line 7 of the file (line 1 is the header)
    const dir = project('ragged', irisSpec, lines.join('\n'));
    const r = await checkProject({ projectDir: dir, profile: true });
    const p = r.problems.find((x) => x.code === 'data-ragged');
    assert.ok(p, JSON.stringify(r.problems));
    assert.equal(p.file, join(dir, 'data', 'iris.csv'));
    assert.equal(p.line, 7);
    assert.equal(p.severity, 'error');
    assert.ok(
      !r.problems.some((x) => x.code === 'constant-column' || x.code === 'duplicate-rows'),
      'profiled data that has errors',
    );
  });

  test('a data path that does not exist is an error at data.path', async () => {
    const spec = irisSpec.replace('"data/iris.csv"', '"data/missing.csv"');
    const dir = project('missing', spec);
    const r = await checkProject({ projectDir: dir, profile: true });
    const p = r.problems.find((x) => x.code === 'data-not-found');
    assert.ok(p, JSON.stringify(r.problems));
    assert.deepEqual({ line: p.line, column: p.column }, positionOf(spec, '"data/missing.csv"'));
  });

  // Each bad input reaches the diagnostics as an error in the right file at the right line.
  const latin1 = Buffer.from(irisCsv, 'utf8');
  latin1[latin1.indexOf('setosa', latin1.indexOf('\n', latin1.indexOf('\n') + 1)) + 5] = 0xe9; // line 3: "setos\xe9"
  const badInputs: {
    name: string;
    spec?: string;
    csv?: string | Buffer;
    code: string;
    inData: boolean;
    line: number | string;
  }[] = [
    {
      name: 'one-class target',
      csv: irisCsv.replace(/,(versicolor|virginica)$/gm, ',setosa'),
      code: 'data-target-classes',
      inData: false,
      line: '"species"',
    },
    {
      name: 'no dev rows',
      spec: irisSpec.replace('"dev": 0.2', '"dev": 0.001'),
      code: 'data-no-dev-rows',
      inData: false,
      line: '"dev": 0.001',
    },
    { name: 'not UTF-8', csv: latin1, code: 'data-not-utf8', inData: true, line: 3 },
    {
      name: 'non-numeric value',
      csv: irisCsv.replace('\n4.9,3,1.4,0.2,setosa', '\n4.9,abc,1.4,0.2,setosa'),
      code: 'data-non-numeric',
      inData: true,
      line: 3,
    },
  ];
  for (const bad of badInputs) {
    test(`${bad.name}: a "${bad.code}" error ${bad.inData ? 'on the data file at its line' : 'in mlloop.json at its field'}`, async () => {
      const spec = bad.spec ?? irisSpec;
      const dir = project(bad.code, spec, bad.csv);
      const r = await checkProject({ projectDir: dir, profile: true });
      const p = r.problems.find(
        (x) =>
          x.code === bad.code && x.file === (bad.inData ? join(dir, 'data', 'iris.csv') : join(dir, 'mlloop.json')),
      );
      assert.ok(p, JSON.stringify(r.problems));
      assert.equal(p.severity, 'error');
      const line = typeof bad.line === 'number' ? bad.line : positionOf(spec, bad.line).line;
      assert.equal(p.line, line);
    });
  }

  test('profile findings join the load problems when the data is usable', async () => {
    // A constant column is a warning the profile finds (loadProject alone does not).
    const csv = irisCsv
      .split('\n')
      .map((l, i) => (l ? `${l},${i === 0 ? 'constant' : '1'}` : l))
      .join('\n');
    const dir = project('constant', irisSpec, csv);
    const withProfile = await checkProject({ projectDir: dir, profile: true });
    assert.ok(
      withProfile.problems.some((p) => p.code === 'constant-column' && /constant/.test(p.message)),
      JSON.stringify(withProfile.problems),
    );
    const loadOnly = await checkProject({ projectDir: dir, profile: false });
    assert.ok(!loadOnly.problems.some((p) => p.code === 'constant-column'));
  });

  test('a file that is not valid JSON is reported as not valid (the editor text carries its syntax errors)', async () => {
    const dir = project('syntax', irisSpec.replace('"task":', '"task"'));
    const r = await checkProject({ projectDir: dir, profile: true });
    assert.equal(r.specValid, false);
    assert.ok(r.problems.every((p) => p.code === 'json-syntax'));
  });
});

describe('checkProjectInWorker', () => {
  test('answers what checkProject answers', async () => {
    const dir = project('worker-ragged', irisSpec, irisCsv.replace('\n4.9,3,1.4,0.2,setosa\n', '\n4.9,3,1.4,setosa\n'));
    const r = await checkProjectInWorker({ projectDir: dir, profile: true }, { workerPath });
    assert.deepEqual(r, await checkProject({ projectDir: dir, profile: true }));
    assert.ok(r.problems.some((p) => p.code === 'data-ragged' && p.line === 3));
  });

  test('an abort ends the worker promptly with CancelledError', async () => {
    // ~150k rows: several seconds to check and profile, far longer than the abort takes.
    const body = irisCsv.split('\n').slice(1).filter(Boolean);
    const rows = Array.from({ length: 1000 }, () => body.join('\n')).join('\n');
    const dir = project('big', irisSpec, `${irisCsv.split('\n')[0]}\n${rows}\n`);
    const abort = new AbortController();
    const pending = checkProjectInWorker({ projectDir: dir, profile: true }, { workerPath, signal: abort.signal });
    await new Promise((r) => setTimeout(r, 150));
    const t0 = performance.now();
    abort.abort();
    await assert.rejects(pending, CancelledError);
    assert.ok(performance.now() - t0 < 100, `took ${performance.now() - t0} ms to cancel`);
  });

  test('an already aborted signal never starts a worker', async () => {
    const abort = new AbortController();
    abort.abort();
    await assert.rejects(
      checkProjectInWorker({ projectDir: tmp, profile: false }, { workerPath, signal: abort.signal }),
      CancelledError,
    );
  });

  test('a worker that dies reports an error rather than hanging', async () => {
    const crash = join(tmp, 'crash.js');
    writeFileSync(crash, 'process.exit(3)');
    await assert.rejects(
      checkProjectInWorker({ projectDir: tmp, profile: false }, { workerPath: crash }),
      /exit code 3/,
    );
  });
});

describe('editor text', () => {
  test('textProblems reports schema problems of the text at their range', () => {
    const text = irisSpec.replace('"task": "classification"', '"task": "clasification"');
    const r = textProblems(text, '/p/mlloop.json');
    assert.equal(r.valid, false);
    const p = r.problems.find((x) => x.code === 'schema');
    assert.ok(p);
    assert.deepEqual({ line: p.line, column: p.column }, positionOf(text, '"clasification"'));
  });

  test('relocateProblems moves a data problem to where its field is after an edit', () => {
    const file = '/p/mlloop.json';
    const old = irisSpec;
    const edited = irisSpec.replace('{\n', '{\n  // two lines\n  // added\n');
    const at = positionOf(old, '"species"');
    const problem = {
      severity: 'error' as const,
      code: 'data-unknown-column',
      message: 'm',
      file,
      line: at.line,
      column: at.column,
      jsonPath: ['data', 'target'],
    };
    const dataProblem = {
      severity: 'error' as const,
      code: 'data-ragged',
      message: 'r',
      file: '/p/data/iris.csv',
      line: 4,
      column: 1,
    };
    const [moved, untouched] = relocateProblems([problem, dataProblem], file, old, edited);
    assert.deepEqual({ line: moved.line, column: moved.column }, positionOf(edited, '"species"'));
    assert.equal(moved.line, at.line + 2);
    assert.equal(untouched, dataProblem);
  });
});

describe('blockingError', () => {
  const projectFile = '/p/mlloop.json';
  const echo = {
    severity: 'error' as const,
    code: 'data-ragged',
    message: 'data/iris.csv (line 9): bad',
    file: projectFile,
    line: 7,
    column: 13,
  };
  const atLine = {
    severity: 'error' as const,
    code: 'data-ragged',
    message: 'This row has 6 fields; the header has 5',
    file: '/p/data/iris.csv',
    line: 9,
    column: 1,
  };
  const warning = {
    severity: 'warning' as const,
    code: 'constant-column',
    message: 'w',
    file: projectFile,
    line: 3,
    column: 1,
  };

  test('names the data file and line, with the action that opens it, and counts the other errors', () => {
    const e = blockingError({ specValid: true, problems: [warning, echo, atLine] }, projectFile);
    assert.ok(e);
    assert.equal(e.problem, atLine);
    assert.equal(
      e.message,
      'data/iris.csv:9: This row has 6 fields; the header has 5 (and 1 more error: see the Problems panel)',
    );
    assert.equal(e.action, 'Open Data File');
  });

  test('an error in mlloop.json itself opens mlloop.json', () => {
    const e = blockingError({ specValid: true, problems: [echo] }, projectFile);
    assert.equal(e?.action, 'Open mlloop.json');
    assert.match(e!.message, /^mlloop\.json:7: /);
  });

  test('warnings alone do not block', () => {
    assert.equal(blockingError({ specValid: true, problems: [warning] }, projectFile), undefined);
  });
});
