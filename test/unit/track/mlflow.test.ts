import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { exportMlflow, importMlflow, scanMlflowRuns } from '../../../src/core/track/mlflow';
import { listRuns, readHistory } from '../../../src/core/track/store';
import { trainExperiment } from '../../../src/core/experiment/trainExperiment';
import { digitsProject, tempDir, writeRun } from './fixtures';

test('MLflow export writes the mlruns layout and import restores the runs exactly', { timeout: 120_000 }, async () => {
  const project = digitsProject(12);
  const trained = await trainExperiment({ projectDir: project, experimentName: 'mlp' });
  assert.equal(trained.status, 'completed');
  writeRun(
    project,
    {
      runId: '20250101-000000-000-aaaaaa',
      experiment: 'softmax',
      model: 'logistic',
      params: { l2: 0.01, maxIter: 50 },
      status: 'failed',
      error: { message: 'diverged' },
    },
    { meta: { name: 'first try', note: 'does l2 help?', starred: true } },
  );
  const source = await listRuns(project);
  const mlruns = join(tempDir(), 'mlruns');
  const exported = exportMlflow(source.runs, mlruns);
  assert.equal(exported.exported.length, 2);

  // The file-store layout MLflow reads.
  const mlpExp = exported.exported.find((e) => e.runId === trained.runId)!;
  const expMeta = yaml.load(readFileSync(join(mlruns, mlpExp.experimentId, 'meta.yaml'), 'utf8')) as Record<
    string,
    unknown
  >;
  assert.equal(expMeta.name, 'mlp');
  assert.equal(expMeta.lifecycle_stage, 'active');
  assert.ok(existsSync(join(mlruns, '0', 'meta.yaml')));
  const runDir = join(mlruns, mlpExp.experimentId, mlpExp.mlflowRunId);
  const runMeta = yaml.load(readFileSync(join(runDir, 'meta.yaml'), 'utf8')) as Record<string, unknown>;
  assert.equal(runMeta.status, 3);
  assert.equal(runMeta.run_id, mlpExp.mlflowRunId);
  assert.equal(runMeta.experiment_id, mlpExp.experimentId);
  assert.equal(readFileSync(join(runDir, 'params', 'epochs'), 'utf8'), '12');
  assert.equal(readFileSync(join(runDir, 'params', 'hidden'), 'utf8'), '[64]');
  const devLoss = readFileSync(join(runDir, 'metrics', 'dev_loss'), 'utf8')
    .trim()
    .split('\n');
  assert.equal(devLoss.length, 12);
  assert.match(devLoss[0], /^\d{13} [\d.e-]+ 1$/);
  assert.match(readFileSync(join(runDir, 'metrics', 'final_dev_accuracy'), 'utf8'), /^\d{13} 0\.\d+ 12\n$/);
  assert.ok(readdirSync(join(runDir, 'artifacts')).includes('model.onnx'));
  assert.equal(readFileSync(join(runDir, 'tags', 'mlloop.runId'), 'utf8'), trained.runId);
  const failedDir = exported.exported.find((e) => e.runId !== trained.runId)!;
  const failedRoot = join(mlruns, failedDir.experimentId, failedDir.mlflowRunId);
  assert.equal((yaml.load(readFileSync(join(failedRoot, 'meta.yaml'), 'utf8')) as { status: number }).status, 4);
  assert.equal(readFileSync(join(failedRoot, 'tags', 'mlflow.note.content'), 'utf8'), 'does l2 help?');

  // Exporting again adds nothing.
  assert.equal(exportMlflow(source.runs, mlruns).exported.length, 0);

  // Import into an empty project: same ids, records, annotations, histories and model bytes.
  const other = tempDir();
  const imported = importMlflow(mlruns, other);
  assert.deepEqual(imported.problems, []);
  assert.deepEqual([...imported.imported].sort(), source.runs.map((r) => r.runId).sort());
  const back = await listRuns(other);
  assert.deepEqual(back.problems, []);
  for (const orig of source.runs) {
    const copy = back.runs.find((r) => r.runId === orig.runId)!;
    assert.deepEqual(copy.record, orig.record);
    assert.deepEqual(copy.annotations, orig.annotations);
    assert.equal(copy.status, orig.status);
    assert.deepEqual(readHistory(copy.dir), readHistory(orig.dir));
  }
  const model = join(back.runs.find((r) => r.runId === trained.runId)!.dir, 'model.onnx');
  assert.deepEqual(readFileSync(model), readFileSync(trained.model!));
  // Importing twice skips what is there.
  const again = importMlflow(mlruns, other);
  assert.equal(again.imported.length, 0);
  assert.equal(again.skipped.length, 2);
});

test('a run made by other MLflow tools is imported from its params, final_* metrics and per-step curves', () => {
  const mlruns = join(tempDir(), 'mlruns');
  const project = tempDir();
  writeRun(
    project,
    {
      runId: 'r1',
      experiment: 'exp',
      model: 'gbdt',
      params: { iterations: 3 },
      metrics: { dev: { accuracy: 0.5, f1: 0.4, logloss: 1 } },
    },
    {
      steps: [
        { step: 1, trainLoss: 2, devLoss: 2.1, devMetric: 0.4, metricName: 'accuracy' },
        { step: 2, trainLoss: 1, devLoss: 1.5, devMetric: 0.5, metricName: 'accuracy' },
      ],
    },
  );
  return listRuns(project).then(({ runs }) => {
    const out = exportMlflow(runs, mlruns).exported[0];
    const dir = join(mlruns, out.experimentId, out.mlflowRunId, 'tags');
    // Strip ML Loop's own tags: what remains is what any MLflow client writes.
    for (const t of ['mlloop.runId', 'mlloop.record', 'mlloop.status']) require('node:fs').rmSync(join(dir, t));
    const scan = scanMlflowRuns(mlruns);
    assert.equal(scan.runs.length, 1);
    const target = tempDir();
    const res = importMlflow(mlruns, target);
    assert.deepEqual(res.problems, []);
    assert.equal(res.imported.length, 1);
    return listRuns(target).then(({ runs: back }) => {
      assert.equal(back[0].record.experiment, 'exp');
      assert.deepEqual(back[0].record.params, { iterations: 3 });
      assert.deepEqual(back[0].record.metrics, { dev: { accuracy: 0.5, f1: 0.4, logloss: 1 } });
      assert.equal(back[0].status, 'completed');
      assert.deepEqual(
        readHistory(back[0].dir).steps.map((s) => [s.step, s.trainLoss, s.devLoss, s.devMetric]),
        [
          [1, 2, 2.1, 0.4],
          [2, 1, 1.5, 0.5],
        ],
      );
    });
  });
});
