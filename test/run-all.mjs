// One entry for every test tier: `npm test` runs them all and ends with one summary line.
//   node test/run-all.mjs [--only unit|integration|e2e]...
// Tiers: unit (plain Node, src/core), integration (mocha inside a real VS Code's extension host),
// e2e (a person's steps in a real VS Code, driven by Chromium). Extra tiers register in TIERS.
import { readdirSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeTestTier } from './runners/node-test.mjs';
import { snapshotTree, treeChanges } from './runners/sampleGuard.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const only = argv.flatMap((a, i) => (a === '--only' ? [argv[i + 1]] : []));

function findFiles(dir, suffix) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && d.name.endsWith(suffix))
    .map((d) => join(d.parentPath ?? d.path, d.name))
    .sort();
}

const TIERS = {
  unit: () => nodeTestTier(root, findFiles(join(root, 'test/unit'), '.test.ts')),
};

// Tiers that need a real VS Code register themselves from test/runners/*.tier.mjs:
// each exports `name` and `run(): Promise<{passed, failed, skipped}>`.
for (const f of findFiles(join(root, 'test/runners'), '.tier.mjs')) {
  const mod = await import(f);
  TIERS[mod.name] = mod.run;
}

const order = ['unit', 'integration', 'e2e', ...Object.keys(TIERS).filter((t) => !['unit', 'integration', 'e2e'].includes(t))];
const total = { passed: 0, failed: 0, skipped: 0 };
const lines = [];
for (const name of order) {
  if (!TIERS[name] || (only.length && !only.includes(name))) continue;
  console.log(`\n=== ${name} tests ===`);
  const t0 = Date.now();
  const samples = snapshotTree(join(root, 'examples'));
  let r;
  try {
    r = await TIERS[name]();
  } catch (e) {
    console.error(`${name} tier crashed:`, e);
    r = { passed: 0, failed: 1, skipped: 0 };
  }
  // Tests work on copies of the samples: anything written into examples/ fails the tier.
  const written = treeChanges(samples, snapshotTree(join(root, 'examples')));
  if (written.length) {
    console.error(`${name} tests changed examples/ (they must work on a copy):\n  ${written.slice(0, 20).join('\n  ')}`);
    r = { ...r, failed: r.failed + 1, notes: [...(r.notes ?? []), `changed examples/: ${written.slice(0, 5).join(', ')}${written.length > 5 ? ', …' : ''}`] };
  }
  for (const k of Object.keys(total)) total[k] += r[k] ?? 0;
  lines.push(`${name}: ${r.passed} passed, ${r.failed} failed, ${r.skipped ?? 0} skipped (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  for (const note of r.notes ?? []) lines.push(`  ${note}`);
}
console.log('\n=== summary ===');
for (const l of lines) console.log(l);
console.log(`${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(total.failed > 0 || total.passed === 0 ? 1 : 0);
