// The learning curve of the digits MLP (10 points: 10 %, 20 %, …, 100 % of the training split),
// as users get it: `ml-loop diagnose --learning-curve` of the bundled CLI (dist/cli.js), each point
// trained in the bundled training worker. A benchmark, never a test; the acceptance bar is 30 s.
//   npm run bench:diagnose [-- --repeat N]
// The machine is shared and noisy: the report gives every repeat and the load average.

import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchTempDir } from './tempDir';

const root = join(__dirname, '..', '..');
const cli = join(root, 'dist', 'cli.js');
const BAR_MS = 30_000;

function run(args: string[], cwd: string): { stdout: string; ms: number } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`ml-loop ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return { stdout: r.stdout, ms: performance.now() - t0 };
}

function main(): void {
  const { values } = parseArgs({ options: { repeat: { type: 'string', default: '2' } } });
  const repeats = Math.max(1, Number(values.repeat));
  if (!existsSync(cli)) throw new Error('dist/cli.js is missing: npm run build first');
  const dir = benchTempDir('lc');
  try {
    cpSync(join(root, 'examples', 'digits'), dir, { recursive: true, filter: (src) => !src.includes('.mlloop') });
    const trained = JSON.parse(run(['train', dir, '--experiment', 'mlp', '--json'], dir).stdout) as {
      runId: string;
      status: string;
    };
    if (trained.status !== 'completed') throw new Error(`training the digits mlp: ${trained.status}`);
    const runDir = join(dir, '.mlloop', 'runs', trained.runId);
    console.log(
      `digits mlp run ${trained.runId}; learning curve of 10 points, ${repeats} repeat(s), load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );
    const results: { curveMs: number; wallMs: number }[] = [];
    for (let i = 0; i < repeats; i++) {
      rmSync(join(runDir, 'diagnostics'), { recursive: true, force: true }); // no cache: a full computation each time
      const { stdout, ms } = run(
        ['diagnose', dir, '--run', trained.runId, '--learning-curve', '--no-importance', '--json'],
        dir,
      );
      const d = JSON.parse(stdout) as {
        learningCurve: { durationMs: number; points: { trainSize: number; trainError: number; devError: number }[] };
      };
      if (d.learningCurve.points.length !== 10)
        throw new Error(`expected 10 points, got ${d.learningCurve.points.length}`);
      results.push({ curveMs: d.learningCurve.durationMs, wallMs: ms });
      console.log(
        `  repeat ${i + 1}: curve ${(d.learningCurve.durationMs / 1000).toFixed(1)} s (whole command ${(ms / 1000).toFixed(1)} s); dev error ${d.learningCurve.points.map((p) => (p.devError * 100).toFixed(1)).join(' → ')} %`,
      );
    }
    const best = Math.min(...results.map((r) => r.curveMs));
    const worst = Math.max(...results.map((r) => r.curveMs));
    console.log(
      `learning curve, digits mlp, 10 points: best ${(best / 1000).toFixed(1)} s, worst ${(worst / 1000).toFixed(1)} s — ${worst < BAR_MS ? 'under' : 'OVER'} the ${BAR_MS / 1000} s bar`,
    );
    const cached = run(['diagnose', dir, '--run', trained.runId, '--learning-curve', '--no-importance', '--json'], dir);
    console.log(`cached (second look): whole command ${(cached.ms / 1000).toFixed(1)} s`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
