// Benchmark: audit Fashion-MNIST's 60,000 training images written as 28×28 grey PNGs in class folders
// (from Debian's dataset-fashion-mnist; written once to a /tmp folder and reused). Goal: the first
// audit (hash, decode, preprocess, properties, duplicates) under 30 s, a cached one under 3 s, peak
// memory under 1 GB. Prints each run's wall time and the peak RSS. Run bundled (as the CLI ships).
//   npm run bench:images [-- --runs N --images N]
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { profileProject } from '../../src/core/data/profile';
import { fashionMnistInstalled, readFashionMnist, writeFashionPngs } from '../fashionMnist';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '3' }, images: { type: 'string', default: '60000' } },
});
const N = Number(values.images);
const RUNS = Number(values.runs);
const DIR = `/tmp/mlloop-bench-fashion-${N}`;

async function main(): Promise<void> {
  if (!fashionMnistInstalled()) {
    console.log(
      'bench:images skipped: Debian package dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)',
    );
    return;
  }
  const done = join(DIR, '.complete');
  if (!existsSync(done)) {
    const t = performance.now();
    rmSync(DIR, { recursive: true, force: true });
    const data = readFashionMnist('train');
    await writeFashionPngs(
      data,
      Array.from({ length: Math.min(N, data.n) }, (_, i) => i),
      join(DIR, 'images'),
      'train',
    );
    writeFileSync(done, '');
    console.log(`wrote ${N} PNGs to ${DIR}/images in ${((performance.now() - t) / 1000).toFixed(1)} s (once)`);
  }
  writeFileSync(
    join(DIR, 'mlloop.json'),
    JSON.stringify({
      name: 'fashion-bench',
      task: 'classification',
      metric: 'accuracy',
      data: { images: 'images', split: { dev: 0.1, test: 0.1, seed: 0 } },
      experiments: {},
    }),
  );
  let peak = 0;
  const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const first: number[] = [];
  const cached: number[] = [];
  const firstCpu: number[] = [];
  const cachedCpu: number[] = [];
  // CPU time (all threads of the process: sharp decodes on libuv's) beside wall time: on a shared
  // machine the wall time says as much about the other processes as about this one.
  const cpuSeconds = (since: NodeJS.CpuUsage) => {
    const u = process.cpuUsage(since);
    return (u.user + u.system) / 1e6;
  };
  for (let r = 0; r < RUNS; r++) {
    rmSync(join(DIR, '.mlloop'), { recursive: true, force: true });
    let t = performance.now();
    let cpu = process.cpuUsage();
    const p = await profileProject(DIR);
    first.push((performance.now() - t) / 1000);
    firstCpu.push(cpuSeconds(cpu));
    t = performance.now();
    cpu = process.cpuUsage();
    const again = await profileProject(DIR);
    cached.push((performance.now() - t) / 1000);
    cachedCpu.push(cpuSeconds(cpu));
    if (!again.images!.cacheHit) throw new Error('the second audit did not come from the cache');
    const a = p.images!;
    console.log(
      `run ${r + 1}: first ${first[r].toFixed(2)} s (CPU ${firstCpu[r].toFixed(1)} s), cached ${cached[r].toFixed(2)} s (CPU ${cachedCpu[r].toFixed(1)} s) — ${a.images} images, ${a.findings.map((f) => `${f.code}${f.severity === 'information' ? '' : `(${f.severity})`} ${f.count}`).join(', ')}`,
    );
  }
  clearInterval(sample);
  peak = Math.max(peak, process.resourceUsage().maxRSS * 1024);
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  console.log(
    `bench:images ${N} PNGs: first audit median ${med(first).toFixed(2)} s wall, ${med(firstCpu).toFixed(1)} s CPU (goal < 30 s), cached median ${med(cached).toFixed(2)} s wall, ${med(cachedCpu).toFixed(1)} s CPU (goal < 3 s), peak RSS ${(peak / 1024 ** 2).toFixed(0)} MB (goal < 1024 MB); ${availableParallelism()} cores, load ${loadavg()[0].toFixed(1)}`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
