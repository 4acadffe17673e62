// The panels on the user-path benchmark's runs (test/bench/path.ts runs this after its trainings):
// what each panel computes when it opens, the way it computes it, with the longest stall of this
// (host) thread's event loop meanwhile — what the rest of VS Code would feel.
//   Error Analysis  analyseRunInWorker (worker thread: data from the dataset cache, ONNX predictions of
//                   dev, tags, slices); "open" is the error table (the panel's first state), then the slices
//   Compare         the table of two runs (this thread, from the store) and their error changes (worker)
//   Diagnostics     `ml-loop diagnose --json` (a child process, as the panel runs it), and the
//                   learning curve of 5 points (20 %, 40 %, …, 100 % of train, each fit in a training worker)
//   node --import tsx test/bench/pathPanels.ts PROJECT_DIR RUN_ID OTHER_RUN_ID CLI_JS
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { analyseRunInWorker, errorChangesInWorker } from '../../src/core/analysis/analysisWorker';
import { loadSplitDataset, resolveProject } from '../../src/core/data/dataset';
import { retrainSpecOf } from '../../src/core/diagnose/diagnoseRun';
import { learningCurveOfRun } from '../../src/core/diagnose/learningCurve';
import { buildCompareTable, curvesOf } from '../../src/core/track/compare';
import { readRun } from '../../src/core/train/runStore';
import { readHistory, readTrackedRun } from '../../src/core/track/store';

/** Runs `work` while sampling this thread's event loop every 10 ms; returns its result, wall ms and the longest stall. */
async function watched<T>(work: () => Promise<T>): Promise<{ value: T; ms: number; stallMs: number }> {
  let stall = 0;
  let tick = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    stall = Math.max(stall, now - tick - 10);
    tick = now;
  }, 10);
  const t0 = performance.now();
  try {
    const value = await work();
    return { value, ms: performance.now() - t0, stallMs: stall };
  } finally {
    clearInterval(timer);
  }
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function main(): Promise<void> {
  const [dir, runId, otherRunId, cli] = process.argv.slice(2);
  const ref = await resolveProject(dir);

  let tableMs = 0;
  const t0 = performance.now();
  const ea = await watched(() =>
    analyseRunInWorker({ projectDir: ref, run: runId }, undefined, join(cli, '..', 'worker-errors.js'), () => {
      tableMs = performance.now() - t0;
    }),
  );
  const a = ea.value;
  console.log(
    `  Error Analysis: the error table in ${s(tableMs || ea.ms)}, slices at ${s(ea.ms)} (worker: load ${a.timings.loadMs} ms, predict ${a.timings.predictMs} ms, tags+slices ${a.timings.analyseMs} ms); dev ${a.table.n} rows, ${a.table.errorCount} errors; longest host stall ${ea.stallMs.toFixed(0)} ms`,
  );

  const cmpStart = performance.now();
  const cmp = await watched(async () => {
    // As the panel does: each run from the store, the table, each run's curves.
    const runs = [runId, otherRunId].map((id) => {
      const r = readTrackedRun(dir, id);
      if (!('run' in r) || !r.run) throw new Error(`run ${id}: ${JSON.stringify(r)}`);
      return r.run;
    });
    const table = buildCompareTable(runs);
    runs.forEach((r) => curvesOf(r.runId, r.runId, readHistory(r.dir)));
    const tableAt = performance.now();
    const changes = await errorChangesInWorker({ projectDir: ref, runIds: [runId, otherRunId] });
    return { table, changes, tableAt };
  });
  console.log(
    `  Compare (2 runs): table ${s(cmp.value.tableAt - cmpStart)}, error changes at ${s(cmp.ms)}; longest host stall ${cmp.stallMs.toFixed(0)} ms`,
  );

  const runDir = join(dir, '.mlloop', 'runs', runId);
  rmSync(join(runDir, 'diagnostics'), { recursive: true, force: true });
  const diag = await watched(async () =>
    spawnSync(process.execPath, [cli, 'diagnose', dir, '--run', runId, '--json'], {
      encoding: 'utf8',
      maxBuffer: 1 << 28,
    }),
  );
  console.log(
    `  Diagnostics (ml-loop diagnose --json, child process: ONNX on every split, permutation importance): ${s(diag.ms)}${diag.value.status === 0 ? '' : ` FAILED: ${diag.value.stderr.trim().split('\n').pop()}`}`,
  );

  const dataset = await loadSplitDataset(ref, { cache: true });
  const points: string[] = [];
  const lcStart = performance.now();
  const lc = await watched(() =>
    learningCurveOfRun(runDir, dataset, retrainSpecOf(readRun(dir, runId)), ref.spec.metric ?? 'accuracy', {
      fractions: [0.2, 0.4, 0.6, 0.8, 1],
      onPoint: (done, total) => points.push(`${done}/${total} at ${s(performance.now() - lcStart)}`),
    }),
  );
  console.log(
    `  Learning curve, 5 points: ${s(lc.ms)} (${points.join(', ')}); dev error ${lc.value.points.map((p) => (p.devError * 100).toFixed(1)).join(' → ')} %; longest stall of this thread ${lc.stallMs.toFixed(0)} ms (the panel runs it in the ml-loop diagnose child process, not on the extension host)`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
