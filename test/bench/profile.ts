// Benchmark: profile a generated 1,000,000-row × 20-column CSV (15 numeric, 4 categorical columns and a
// binary target, ~150 MB). Target: under 10 s and 1.5 GB resident memory. Prints each run's wall and CPU
// time, the best time and the peak RSS. Run bundled (as the CLI ships), not through tsx.
//   npm run bench:profile [-- --rows N --runs N]
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { profileProject } from '../../src/core/data/profile';
import { mulberry32 } from '../../src/core/data/prng';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '3' },
    keep: { type: 'boolean', default: false },
  },
});
const ROWS = Number(values.rows);
const NUMERIC = 15;
const CATEGORIES = ['red', 'green', 'blue', 'amber', 'violet'];

async function generate(file: string): Promise<void> {
  const out = createWriteStream(file);
  const rand = mulberry32(42);
  const header = [...Array.from({ length: NUMERIC }, (_, j) => `n${j}`), 'c0', 'c1', 'c2', 'c3', 'label'];
  let buf = header.join(',') + '\n';
  for (let i = 0; i < ROWS; i++) {
    const f: string[] = [];
    for (let j = 0; j < NUMERIC; j++) f.push(rand() < 0.01 ? '' : (rand() * 1000 - 500).toFixed(3));
    for (let j = 0; j < 4; j++) f.push(CATEGORIES[Math.floor(rand() * CATEGORIES.length)]);
    f.push(rand() < 0.3 ? 'yes' : 'no');
    buf += f.join(',') + '\n';
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'finish');
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mlloop-bench-profile-'));
  try {
    const csv = join(dir, 'data.csv');
    await generate(csv);
    writeFileSync(
      join(dir, 'mlloop.json'),
      JSON.stringify({
        name: 'bench',
        task: 'classification',
        data: { path: 'data.csv', target: 'label', split: { dev: 0.2, test: 0.2, seed: 1 } },
        metric: 'accuracy',
        experiments: {},
      }),
    );
    const rssBefore = process.resourceUsage().maxRSS;
    const sizeMb = statSync(csv).size / 1024 ** 2;
    console.log(`profile: ${ROWS} rows × 20 columns, ${sizeMb.toFixed(0)} MB CSV, ${values.runs} runs`);
    // The machine is shared: the best of a few runs is the closest to what the work costs.
    let best = Infinity;
    let profile: Awaited<ReturnType<typeof profileProject>> | undefined;
    for (let run = 1; run <= Number(values.runs); run++) {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      profile = await profileProject(dir);
      const seconds = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      best = Math.min(best, seconds);
      console.log(
        `  run ${run}: ${seconds.toFixed(2)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s CPU (load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores)`,
      );
    }
    const peakMb = process.resourceUsage().maxRSS / 1024;
    console.log(`  best time ${best.toFixed(2)} s   (target < 10 s)`);
    console.log(
      `  peak RSS  ${peakMb.toFixed(0)} MB  (target < 1536 MB; ${(rssBefore / 1024).toFixed(0)} MB before profiling)`,
    );
    console.log(
      `  rows ${profile!.rows}, split ${JSON.stringify(profile!.split)}, findings ${profile!.findings.length}, version ${profile!.dataVersion}`,
    );
    if (best >= 10 || peakMb >= 1536) process.exitCode = 1;
  } finally {
    if (!values.keep) rmSync(dir, { recursive: true, force: true });
  }
}

void main();
