// The path a user takes, end to end (a benchmark, never a test): `ml-loop train` of a 3-class GBDT
// (100 iterations) on a 600,000 × 30 CSV, run as a user runs it (the built CLI, its own process),
// side by side with pandas.read_csv + XGBoost on the same file (/usr/bin/python3, no torch import).
//   npm run bench:path [-- --repeat 3 --rows 600000 --features 30 --iterations 100 --no-panels --host]
// Each repeat runs, interleaved (the machine is shared: trust the ratios of one run, not the seconds):
//   cold   no .mlloop in the project: the CSV is parsed, the split stored and the dataset cache written
//   warm   a second `train` on the same data: the split comes back from the dataset cache
//   python read_csv, split, fit, dev prediction (the issue's reference), then train/test prediction
// ML Loop's stages come from the run's log.txt (src/core/train/job.ts times them in the worker);
// "other" is the rest of the process's wall time (Node start, project check, worker start, writes).
// Peak memory is each process's maximum RSS (ML Loop: the worker threads included).
// pandas + XGBoost's totals exclude its interpreter start and imports (printed as "import"), whereas
// ML Loop's wall time is its whole process.
// --host: one more train in this process through trainExperiment, as the extension host runs it (the
// work in a worker thread): the calling thread's share of busy time and its longest stall.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance as nodePerformance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { pathProject } from './pathData';
import { trainExperiment } from '../../src/core/experiment/trainExperiment';

const { values } = parseArgs({
  options: {
    repeat: { type: 'string', default: '3' },
    rows: { type: 'string', default: '600000' },
    features: { type: 'string', default: '30' },
    iterations: { type: 'string', default: '100' },
    /** Skip the panels' measurements (test/bench/pathPanels.ts) on the last runs. */
    'no-panels': { type: 'boolean', default: false },
    /** Also train once in this process as the extension does, and report what its calling thread did. */
    host: { type: 'boolean', default: false },
  },
});
const REPEAT = Number(values.repeat);
const root = join(__dirname, '../..');
const benchDir = join(root, '.cache/bench');
const PYTHON = '/usr/bin/python3';

interface MlLoopRun {
  runId: string;
  wall: number;
  peakMb: number;
  stages: Record<'load' | 'fit' | 'evaluate' | 'export' | 'reference' | 'other', number>;
  source: string;
  dev: number;
  fitDev?: number;
}

interface PythonRun {
  stages: Record<string, number>;
  total_dev: number;
  total_all: number;
  wall: number;
  dev_accuracy: number;
  peak_mb: number;
}

const load = () =>
  loadavg()
    .map((v) => v.toFixed(1))
    .join(' ');
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** A copy of the built CLI and its training worker: another build of dist/ mid-run must not change what is timed. */
function cliCopy(): string {
  execFileSync(process.execPath, [join(root, 'src/build/build.mjs'), '--no-typecheck'], { stdio: 'inherit' });
  const dir = join(benchDir, 'path-cli');
  mkdirSync(dir, { recursive: true });
  for (const f of ['cli.js', 'worker-train.js', 'worker-csvScan.js', 'worker-errors.js'])
    copyFileSync(join(root, 'dist', f), join(dir, f));
  // Preloaded into the CLI's process: its peak RSS (worker threads included) when it exits.
  writeFileSync(
    join(dir, 'peak-rss.js'),
    `process.on('exit', () => require('fs').writeFileSync(process.env.MLLOOP_BENCH_RSS, String(process.resourceUsage().maxRSS)));\n`,
  );
  return dir;
}

function mlLoopTrain(cli: string, project: string, cold: boolean): MlLoopRun | string {
  if (cold) rmSync(join(project, '.mlloop'), { recursive: true, force: true });
  const rssFile = join(cli, 'peak-rss.txt');
  rmSync(rssFile, { force: true });
  const t = performance.now();
  const r = spawnSync(
    process.execPath,
    ['-r', join(cli, 'peak-rss.js'), join(cli, 'cli.js'), 'train', project, '--experiment', 'gbdt', '--json'],
    { encoding: 'utf8', env: { ...process.env, MLLOOP_BENCH_RSS: rssFile }, maxBuffer: 1 << 24 },
  );
  const wall = (performance.now() - t) / 1000;
  if (r.status !== 0) return `failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`;
  const out = JSON.parse(r.stdout) as { runId: string; metrics: { dev: { accuracy: number } } };
  const log = readFileSync(join(project, '.mlloop/runs', out.runId, 'log.txt'), 'utf8');
  // The fit's own dev accuracy at its last step (from its scores): a run whose evaluation disagrees with
  // it (or both low) is reported with both, since the next cold run deletes the run folder.
  const steps = readFileSync(join(project, '.mlloop/runs', out.runId, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n');
  const fitDev = (JSON.parse(steps.filter((l) => l.includes('"step"')).pop() ?? '{}') as { devMetric?: number })
    .devMetric;
  const loaded = /rows \((read from the dataset cache|parsed) in (\d+) ms\)/.exec(log);
  const done = /trained in (\d+) ms;.* in (\d+) ms, ONNX export (\d+) ms, monitoring reference (\d+) ms/.exec(log);
  if (!loaded || !done) return `no stage times in log.txt:\n${log}`;
  const stages = {
    load: Number(loaded[2]) / 1000,
    fit: Number(done[1]) / 1000,
    evaluate: Number(done[2]) / 1000,
    export: Number(done[3]) / 1000,
    reference: Number(done[4]) / 1000,
    other: 0,
  };
  stages.other = wall - (stages.load + stages.fit + stages.evaluate + stages.export + stages.reference);
  return {
    runId: out.runId,
    wall,
    peakMb: Number(readFileSync(rssFile, 'utf8')) / 1024,
    stages,
    source: loaded[1] === 'parsed' ? 'file' : 'cache',
    dev: out.metrics.dev.accuracy,
    fitDev,
  };
}

function pythonReference(csv: string, iterations: number): PythonRun | string {
  const r = spawnSync(PYTHON, [join(__dirname, 'path_reference.py'), csv, 'y', String(iterations)], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
    // XGBoost's OpenMP threads spin while they wait: on a machine shared by other jobs they collapse
    // (a 100-iteration fit took 752 s instead of seconds at load 20). Waiting passively, as ML Loop's helpers do.
    env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' },
  });
  const line = r.stdout?.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as PythonRun;
  } catch {
    return `failed: ${(r.stderr || r.stdout || String(r.error)).trim().split('\n').slice(-3).join(' | ')}`;
  }
}

/** Trains as the extension host does (trainExperiment: the data and the fit in a worker thread) and reports this thread's load. */
async function hostThread(project: string): Promise<void> {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const before = nodePerformance.eventLoopUtilization();
  const t = performance.now();
  // The stall before the run exists is this process loading the trainer's modules (here TypeScript
  // through tsx; the extension's are bundled): counted apart.
  let startStall = 0;
  const outcome = await trainExperiment({
    projectDir: project,
    experimentName: 'gbdt',
    onProgress: () => undefined,
    onRunCreated: () => {
      startStall = delay.max;
      delay.reset();
    },
  });
  const used = nodePerformance.eventLoopUtilization(before);
  delay.disable();
  console.log(
    `  in-process train (as the extension host): ${outcome.status} in ${((performance.now() - t) / 1000).toFixed(1)} s; the calling thread busy ${(used.utilization * 100).toFixed(1)} % of it (${(used.active / 1000).toFixed(2)} s), longest event-loop stall once the run was created ${(delay.max / 1e6).toFixed(0)} ms (before it: ${(startStall / 1e6).toFixed(0)} ms)  [load ${load()}]`,
  );
}

function stagesText(r: MlLoopRun): string {
  return (Object.entries(r.stages) as [string, number][])
    .map(([k, v]) => `${k} ${v.toFixed(2)} s (${((v / r.wall) * 100).toFixed(0)} %)`)
    .join(', ');
}

(async () => {
  const rows = Number(values.rows);
  const features = Number(values.features);
  const iterations = Number(values.iterations);
  const t = performance.now();
  const project = await pathProject(benchDir, { rows, features, seed: 21, iterations });
  const csv = join(project, 'data.csv');
  console.log(
    `bench:path — ${rows.toLocaleString('en')} × ${features} CSV (${(readFileSync(csv).length / 1e6).toFixed(0)} MB, ready in ${((performance.now() - t) / 1000).toFixed(1)} s), 3 classes, GBDT ${iterations} iterations; ${availableParallelism()} cores, load average ${load()}`,
  );
  const cli = cliCopy();
  const havePython =
    spawnSync(PYTHON, ['-c', 'import pandas, xgboost'], { stdio: 'ignore', env: process.env }).status === 0;
  if (!havePython) console.log('pandas or xgboost is missing under /usr/bin/python3: ML Loop only');
  const runs: { cold: MlLoopRun[]; warm: MlLoopRun[]; py: PythonRun[] } = { cold: [], warm: [], py: [] };
  for (let i = 0; i < REPEAT; i++) {
    for (const kind of ['cold', 'warm'] as const) {
      const r = mlLoopTrain(cli, project, kind === 'cold');
      if (typeof r === 'string') {
        console.log(`  ml-loop train (${kind}): ${r}`);
        process.exitCode = 1;
        continue;
      }
      runs[kind].push(r);
      console.log(
        `  ml-loop train, ${kind} (data from the ${r.source}): ${r.wall.toFixed(2)} s, peak ${r.peakMb.toFixed(0)} MB, dev acc ${r.dev.toFixed(4)}${r.fitDev !== undefined && Math.abs(r.fitDev - r.dev) > 1e-3 ? ` (the fit's own: ${r.fitDev.toFixed(4)})` : ''} — ${stagesText(r)}  [load ${load()}]`,
      );
      if (kind === 'warm' && r.source !== 'cache') {
        console.log('  the second train did not read the dataset cache');
        process.exitCode = 1;
      }
    }
    if (havePython) {
      const p = pythonReference(csv, iterations);
      if (typeof p === 'string') console.log(`  pandas + XGBoost: ${p}`);
      else {
        runs.py.push(p);
        console.log(
          `  pandas + XGBoost: ${p.total_dev.toFixed(2)} s read+split+fit+dev (all splits ${p.total_all.toFixed(2)} s), peak ${p.peak_mb.toFixed(0)} MB, dev acc ${p.dev_accuracy.toFixed(4)} — ${Object.entries(
            p.stages,
          )
            .map(([k, v]) => `${k} ${v.toFixed(2)} s`)
            .join(', ')}  [load ${load()}]`,
        );
      }
    }
  }
  const med = (rs: MlLoopRun[], f: (r: MlLoopRun) => number) => median(rs.map(f));
  console.log(`\nmedians of ${REPEAT}:`);
  for (const kind of ['cold', 'warm'] as const) {
    const rs = runs[kind];
    if (!rs.length) continue;
    const stages = Object.keys(rs[0].stages) as (keyof MlLoopRun['stages'])[];
    const wall = med(rs, (r) => r.wall);
    console.log(
      `  ml-loop train ${kind}: ${wall.toFixed(2)} s, peak ${med(rs, (r) => r.peakMb).toFixed(0)} MB; ${stages
        .map(
          (s) =>
            `${s} ${med(rs, (r) => r.stages[s]).toFixed(2)} s (${((med(rs, (r) => r.stages[s]) / wall) * 100).toFixed(0)} %)`,
        )
        .join(', ')}`,
    );
  }
  if (runs.py.length) {
    const py = runs.py;
    const dev = median(py.map((p) => p.total_dev));
    const all = median(py.map((p) => p.total_all));
    const peak = median(py.map((p) => p.peak_mb));
    console.log(
      `  pandas + XGBoost: ${dev.toFixed(2)} s read+split+fit+dev, ${all.toFixed(2)} s with train/test predicted too, peak ${peak.toFixed(0)} MB; fit ${median(py.map((p) => p.stages.fit)).toFixed(2)} s, read_csv ${median(py.map((p) => p.stages.read_csv)).toFixed(2)} s`,
    );
    // Ratios within each repeat (same load), then their median.
    const ratio = (kind: 'cold' | 'warm', f: (r: MlLoopRun, p: PythonRun) => number) =>
      median(runs[kind].slice(0, py.length).map((r, i) => f(r, py[i])));
    for (const kind of ['cold', 'warm'] as const) {
      if (!runs[kind].length) continue;
      console.log(
        `  ${kind}: ml-loop / pandas+XGBoost (read+fit+dev) = ${ratio(kind, (r, p) => r.wall / p.total_dev).toFixed(2)}x time (goal ≤ 1), ${ratio(kind, (r, p) => r.peakMb / p.peak_mb).toFixed(2)}x peak memory (goal ≤ 1); fit alone ${ratio(kind, (r, p) => r.stages.fit / p.stages.fit).toFixed(2)}x; like for like (pandas+XGBoost also predicting train and test, as ML Loop evaluates every split) ${ratio(kind, (r, p) => r.wall / p.total_all).toFixed(2)}x`,
      );
    }
  }
  if (values.host) await hostThread(project);
  const [a, b] = [runs.cold.at(-1), runs.warm.at(-1)];
  if (!values['no-panels'] && a && b) {
    console.log(`\npanels on run ${b.runId} (compared with ${a.runId}) [load ${load()}]:`);
    spawnSync(
      process.execPath,
      ['--import', 'tsx', join(__dirname, 'pathPanels.ts'), project, b.runId, a.runId, join(cli, 'cli.js')],
      { stdio: 'inherit' },
    );
  }
  console.log(`load average at the end: ${load()}`);
  if (existsSync(join(project, '.mlloop/runs')) && readdirSync(join(project, '.mlloop/runs')).length > 20)
    rmSync(join(project, '.mlloop/runs'), { recursive: true, force: true });
})();
