// Script experiments through trainExperiment, with small Node scripts as the training code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { trainExperiment } from '../../../src/core/experiment/trainExperiment';
import { readRun } from '../../../src/core/train/runStore';
import { readHistory } from '../../../src/core/track/store';
import { loadSplitDataset } from '../../../src/core/data/dataset';
import { splitMetrics } from '../../../src/core/train/metrics';
import { scriptArgv } from '../../../src/core/scripts/runScript';
import { fixtureScores, irisProject, nodeScript, scoresModel } from './fixtures';
import { datasetCacheDir } from '../../../src/core/spec/layout';

/** A script body that copies the fixture model (path in MODEL_SRC) to $MLLOOP_RUN_DIR/model.onnx. */
const WRITE_MODEL = `require('fs').copyFileSync(process.env.MODEL_SRC, require('path').join(process.env.MLLOOP_RUN_DIR, 'model.onnx'));`;

function withModel(dir: string, bytes = scoresModel()): Record<string, string> {
  writeFileSync(join(dir, 'fixture.onnx'), bytes);
  return { MODEL_SRC: join(dir, 'fixture.onnx') };
}

function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

test('argv without a shell, --name value params, the params JSON file, cwd, env and the input files', async () => {
  const dir = irisProject({});
  const command = nodeScript(
    dir,
    'echo.js',
    `const fs = require('fs');
     const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('MLLOOP_') || k === 'EXTRA'));
     fs.writeFileSync(process.env.MLLOOP_RUN_DIR + '/seen.json', JSON.stringify({ argv: process.argv.slice(2), cwd: process.cwd(), env }));
     ${WRITE_MODEL}`,
  );
  const spec = JSON.parse(readFileSync(join(dir, 'mlloop.json'), 'utf8'));
  // The argument with a space and a $ would be split or expanded by a shell.
  spec.experiments.echo = {
    command: [...command, 'two words $HOME'],
    env: { EXTRA: 'yes', ...withModel(dir) },
    params: { lr: 0.001, hidden: [64, 32], name: 'a b', fast: true },
  };
  writeFileSync(join(dir, 'mlloop.json'), JSON.stringify(spec));
  const o = await trainExperiment({ projectDir: dir, experimentName: 'echo' });
  assert.equal(o.status, 'completed', JSON.stringify(o.error));
  const seen = JSON.parse(readFileSync(join(o.runDir, 'seen.json'), 'utf8'));
  assert.deepEqual(seen.argv, [
    'two words $HOME',
    '--lr',
    '0.001',
    '--hidden',
    '[64,32]',
    '--name',
    'a b',
    '--fast',
    'true',
  ]);
  assert.equal(seen.cwd, dir);
  assert.equal(seen.env.EXTRA, 'yes');
  assert.equal(seen.env.MLLOOP_RUN_DIR, o.runDir);
  assert.deepEqual(JSON.parse(readFileSync(seen.env.MLLOOP_PARAMS, 'utf8')), {
    lr: 0.001,
    hidden: [64, 32],
    name: 'a b',
    fast: true,
  });
  assert.deepEqual(JSON.parse(readFileSync(seen.env.MLLOOP_CLASSES, 'utf8')), ['setosa', 'versicolor', 'virginica']);
  const features = JSON.parse(readFileSync(seen.env.MLLOOP_FEATURES, 'utf8'));
  assert.deepEqual(features.numeric, ['sepal_length', 'sepal_width', 'petal_length', 'petal_width']);
  // The split files hold exactly ML Loop's split: same rows, same order, class names as targets.
  const dataset = await loadSplitDataset(dir);
  for (const split of ['train', 'dev', 'test'] as const) {
    const lines = readFileSync(seen.env[`MLLOOP_${split.toUpperCase()}`], 'utf8').trim().split('\n');
    assert.equal(lines[0], 'sepal_length,sepal_width,petal_length,petal_width,species');
    assert.equal(lines.length - 1, dataset[split].features.n);
    const first = lines[1].split(',');
    assert.deepEqual(
      first.slice(0, 4).map(Number).map(Math.fround),
      Array.from(dataset[split].features.numeric.subarray(0, 4)),
    );
    assert.equal(first[4], dataset.schema.classes![dataset[split].y[0]]);
  }
  assert.deepEqual(readRun(dir, o.runId).command, [
    ...command,
    'two words $HOME',
    '--lr',
    '0.001',
    '--hidden',
    '[64,32]',
    '--name',
    'a b',
    '--fast',
    'true',
  ]);
  assert.equal(readRun(dir, o.runId).model, 'script');
});

test('ML Loop evaluates the model.onnx: the final metrics are those of the model on each split', async () => {
  const dir = irisProject({});
  const spec = JSON.parse(readFileSync(join(dir, 'mlloop.json'), 'utf8'));
  spec.experiments.s = { command: nodeScript(dir, 'm.js', WRITE_MODEL), env: withModel(dir) };
  writeFileSync(join(dir, 'mlloop.json'), JSON.stringify(spec));
  const o = await trainExperiment({ projectDir: dir, experimentName: 's' });
  assert.equal(o.status, 'completed', JSON.stringify(o.error));
  const dataset = await loadSplitDataset(dir);
  for (const split of ['train', 'dev', 'test'] as const) {
    const rows = dataset[split];
    const classIndex = new Int32Array(rows.features.n);
    const probabilities = new Float32Array(rows.features.n * 3);
    for (let i = 0; i < rows.features.n; i++) {
      const s = fixtureScores(rows.features.numeric.subarray(i * 4, i * 4 + 4));
      classIndex[i] = s.indexOf(Math.max(...s));
      const m = Math.max(...s);
      const z = s.reduce((a, v) => a + Math.exp(v - m), 0);
      s.forEach((v, c) => (probabilities[i * 3 + c] = Math.exp(v - m) / z));
    }
    const expected = splitMetrics('classification', rows.y, { classIndex, probabilities }, 3) as Record<string, number>;
    const got = o.metrics[split] as Record<string, number>;
    assert.equal(got.accuracy, expected.accuracy, split);
    assert.ok(
      Math.abs(got.logloss - expected.logloss) < 1e-4,
      `${split} logloss ${got.logloss} vs ${expected.logloss}`,
    );
  }
  assert.ok(readRun(dir, o.runId).modelSize! > 0);
});

test('metric lines from stdout (interleaved, split across writes, one invalid) and from metrics.jsonl become the curves; other output reaches the log as printed', async () => {
  const dir = irisProject({});
  const command = nodeScript(
    dir,
    'metrics.js',
    `const fs = require('fs');
     const out = (s) => new Promise((r) => process.stdout.write(s, r));
     const pause = () => new Promise((r) => setTimeout(r, 30));
     (async () => {
       await out('starting: {not json}\\n');
       await out('{"mlloop": "metric", "st'); await pause(); await out('ep": 1, "train_loss": 0.9, "dev_accuracy": 0.5}\\nplain line\\n');
       console.error('a warning on stderr');
       await out('{"mlloop": "metric", "step": 2, "train_loss": nan}\\n');
       fs.appendFileSync(process.env.MLLOOP_RUN_DIR + '/metrics.jsonl', JSON.stringify({ mlloop: 'metric', step: 2, train_loss: 0.5, dev_accuracy: 0.8 }) + '\\n');
       await new Promise((r) => setTimeout(r, 400));
       await out('{"mlloop": "metric", "step": 3, "train_loss": 0.2, "dev_accuracy": 0.9, "lr": 0.01}');
       ${WRITE_MODEL}
     })();`,
  );
  const spec = JSON.parse(readFileSync(join(dir, 'mlloop.json'), 'utf8'));
  spec.experiments.m = { command, env: withModel(dir) };
  writeFileSync(join(dir, 'mlloop.json'), JSON.stringify(spec));
  const progress: number[] = [];
  const output: string[] = [];
  const o = await trainExperiment({
    projectDir: dir,
    experimentName: 'm',
    onProgress: (e) => progress.push(e.step),
    onOutput: (l) => output.push(l),
  });
  assert.equal(o.status, 'completed', JSON.stringify(o.error));
  // Step 3 had no final newline: it still counts once the script has ended.
  assert.deepEqual(progress, [1, 2, 3]);
  const history = readHistory(o.runDir);
  assert.deepEqual(
    history.steps.map((s) => [s.step, s.trainLoss, s.devMetric]),
    [
      [1, 0.9, 0.5],
      [2, 0.5, 0.8],
      [3, 0.2, 0.9],
    ],
  );
  assert.equal((history.steps[2] as unknown as Record<string, unknown>).lr, 0.01);
  assert.equal(history.skippedLines, 0);
  assert.ok(history.final?.dev);
  const log = readFileSync(join(o.runDir, 'log.txt'), 'utf8');
  assert.match(log, /\nstarting: \{not json\}\nplain line\n|\nstarting: \{not json\}\n[^]*\nplain line\n/);
  assert.match(log, /\na warning on stderr\n/);
  assert.match(log, /warning: ignored a metric line that is not valid JSON/);
  assert.ok(output.includes('plain line') && output.includes('a warning on stderr'));
});

test('a non-zero exit fails the run with the last lines of stderr; a missing command or model fails clearly', async () => {
  const dir = irisProject({});
  const spec = JSON.parse(readFileSync(join(dir, 'mlloop.json'), 'utf8'));
  spec.experiments.crash = {
    command: nodeScript(dir, 'crash.js', `for (let i = 1; i <= 30; i++) console.error('line ' + i); process.exit(3);`),
  };
  spec.experiments.missing = { command: ['no-such-trainer-xyz', 'train.py'] };
  spec.experiments.nomodel = { command: nodeScript(dir, 'nomodel.js', `console.log('done')`) };
  spec.experiments.wrong = {
    command: nodeScript(dir, 'wrong.js', WRITE_MODEL),
    env: withModel(dir, scoresModel({ inputName: 'input.1' })),
  };
  writeFileSync(join(dir, 'mlloop.json'), JSON.stringify(spec));

  const crash = await trainExperiment({ projectDir: dir, experimentName: 'crash' });
  assert.equal(crash.status, 'failed');
  assert.match(crash.error!.message, /^The script exited with code 3:\nline 21\n[^]*line 30$/);
  assert.doesNotMatch(crash.error!.message, /line 20\n/);
  assert.match(readFileSync(join(crash.runDir, 'log.txt'), 'utf8'), /\nline 1\n[^]*\nline 30\n/);
  assert.equal(readRun(dir, crash.runId).status, 'failed');

  const missing = await trainExperiment({ projectDir: dir, experimentName: 'missing' });
  assert.equal(missing.status, 'failed');
  assert.match(missing.error!.message, /Could not start "no-such-trainer-xyz".*ENOENT/);

  const nomodel = await trainExperiment({ projectDir: dir, experimentName: 'nomodel' });
  assert.equal(nomodel.status, 'failed');
  assert.match(nomodel.error!.message, /exited 0 but wrote no model: expected .*model\.onnx/);

  const wrong = await trainExperiment({ projectDir: dir, experimentName: 'wrong' });
  assert.equal(wrong.status, 'failed');
  assert.match(wrong.error!.message, /expected features float32 \[N, 4\]; the model takes input\.1 float32 \[N, 4\]/);
});

test('cancel: SIGTERM to the process group, SIGKILL after the grace period, run cancelled, no process left', async () => {
  const dir = irisProject({});
  // The script starts a child that ignores SIGTERM (as a stuck data loader might) and then waits forever.
  const command = nodeScript(
    dir,
    'stuck.js',
    `const { spawn } = require('child_process');
     const child = spawn(process.execPath, ['-e', "process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1000)"], { stdio: ['ignore', 'pipe', 'ignore'] });
     // The metric line (which makes the test cancel) only once the child ignores SIGTERM: on a busy
     // machine an earlier SIGTERM would end it before its handler exists, and no SIGKILL would be needed.
     child.stdout.once('data', () => {
       console.log('child ' + child.pid);
       console.log(JSON.stringify({ mlloop: 'metric', step: 1, train_loss: 1 }));
     });
     setInterval(() => {}, 1000);`,
  );
  const spec = JSON.parse(readFileSync(join(dir, 'mlloop.json'), 'utf8'));
  spec.experiments.stuck = { command };
  writeFileSync(join(dir, 'mlloop.json'), JSON.stringify(spec));
  const abort = new AbortController();
  let pgid = 0;
  let childPid = 0;
  const { runScriptExperiment } = await import('../../../src/core/scripts/runScript');
  const { resolveProject } = await import('../../../src/core/data/dataset');
  const ref = await resolveProject(dir);
  const t0 = Date.now();
  const result = await runScriptExperiment({
    ref,
    projectDir: dir,
    experimentName: 'stuck',
    experiment: spec.experiments.stuck,
    params: {},
    killGraceMs: 500,
    signal: abort.signal,
    onSpawn: (pid) => (pgid = pid),
    onOutput: (line) => {
      const m = /^child (\d+)$/.exec(line);
      if (m) childPid = Number(m[1]);
    },
    onProgress: () => abort.abort(),
  });
  assert.equal(result.record.status, 'cancelled');
  assert.ok(pgid > 0 && childPid > 0);
  assert.ok(processGone(pgid), 'the script is gone');
  assert.ok(processGone(childPid), 'the child that ignored SIGTERM is gone');
  assert.throws(() => process.kill(-pgid, 0), { code: 'ESRCH' }, 'no process of the group is left');
  assert.ok(Date.now() - t0 < 10_000);
  assert.match(readFileSync(join(result.run.dir, 'log.txt'), 'utf8'), /SIGTERM to process group[^]*SIGKILL/);
});

test('scriptArgv swaps python/python3 for the configured interpreter only', () => {
  assert.deepEqual(scriptArgv(['python3', 't.py'], { lr: 1 }, '/usr/bin/python3'), [
    '/usr/bin/python3',
    't.py',
    '--lr',
    '1',
  ]);
  assert.deepEqual(scriptArgv(['python', 't.py'], {}, '/opt/py'), ['/opt/py', 't.py']);
  assert.deepEqual(scriptArgv(['bash', 'python3'], {}, '/opt/py'), ['bash', 'python3']);
  assert.deepEqual(scriptArgv(['python3', 't.py'], {}, undefined), ['python3', 't.py']);
});

test('a script run is diagnosed from its model.onnx (scores output); learning curves, which retrain, are refused', async () => {
  const { diagnoseRun } = await import('../../../src/core/diagnose/diagnoseRun');
  const dir = irisProject({});
  const spec = JSON.parse(readFileSync(join(dir, 'mlloop.json'), 'utf8'));
  spec.experiments.s = { command: nodeScript(dir, 'm.js', WRITE_MODEL), env: withModel(dir) };
  writeFileSync(join(dir, 'mlloop.json'), JSON.stringify(spec));
  const o = await trainExperiment({ projectDir: dir, experimentName: 's' });
  assert.equal(o.status, 'completed', JSON.stringify(o.error));
  const d = await diagnoseRun({ projectDir: dir, run: o.runId, importance: false });
  assert.equal((d.splits.dev as { accuracy: number }).accuracy, (o.metrics.dev as { accuracy: number }).accuracy);
  await assert.rejects(
    diagnoseRun({ projectDir: dir, run: o.runId, importance: false, learningCurve: 'compute' }),
    /trained by a script: learning and validation curves need a built-in model/,
  );
});

test('the data a script run loads is cached for the panels that open it next; data changed during the run fails it clearly', async () => {
  const dir = irisProject({});
  const spec = JSON.parse(readFileSync(join(dir, 'mlloop.json'), 'utf8'));
  spec.experiments.s = { command: nodeScript(dir, 'm.js', WRITE_MODEL), env: withModel(dir) };
  // This one also edits the data file while it "trains".
  spec.experiments.edits = {
    command: nodeScript(
      dir,
      'e.js',
      `require('fs').appendFileSync('iris.csv', '5.0,3.4,1.5,0.2,setosa\\n'); ${WRITE_MODEL}`,
    ),
    env: withModel(dir),
  };
  writeFileSync(join(dir, 'mlloop.json'), JSON.stringify(spec));
  const o = await trainExperiment({ projectDir: dir, experimentName: 's' });
  assert.equal(o.status, 'completed', JSON.stringify(o.error));
  assert.equal(readdirSync(datasetCacheDir(dir)).length, 1, 'the loaded split is in the dataset cache');
  const version = readRun(dir, o.runId).dataVersion!.id;
  assert.equal((await loadSplitDataset(dir, { cache: true })).version.id, version);

  const changed = await trainExperiment({ projectDir: dir, experimentName: 'edits' });
  assert.equal(changed.status, 'failed');
  assert.match(changed.error!.message, /The data changed while the script ran \(data version \w+ → \w+\)/);
});

test('a cancel while the data is being prepared stops it there: run cancelled, no inputs written, the script never started', async () => {
  const dir = irisProject({});
  const spec = JSON.parse(readFileSync(join(dir, 'mlloop.json'), 'utf8'));
  spec.experiments.s = {
    command: nodeScript(dir, 'm.js', `require('fs').writeFileSync('started', ''); ${WRITE_MODEL}`),
    env: withModel(dir),
  };
  writeFileSync(join(dir, 'mlloop.json'), JSON.stringify(spec));
  const abort = new AbortController();
  const o = await trainExperiment({
    projectDir: dir,
    experimentName: 's',
    signal: abort.signal,
    onRunCreated: () => abort.abort(),
  });
  assert.equal(o.status, 'cancelled');
  assert.equal(
    existsSync(join(o.runDir, 'inputs', 'train.csv')),
    false,
    'the inputs were written although the run was cancelled',
  );
  assert.equal(existsSync(join(dir, 'started')), false);
});
