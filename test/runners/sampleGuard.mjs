// Tests never write into the checkout's samples (examples/): integration and e2e run on a fresh copy
// (copyOfSample), and run-all.mjs compares a snapshot of examples/ before and after each tier, so a
// test that leaves a run, a split cache or an edit behind fails its tier, naming the paths.
import { cpSync, existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';

/** Every file under `dir` → "size:mtime" (empty when the folder does not exist). */
export function snapshotTree(dir) {
  const out = new Map();
  if (!existsSync(dir)) return out;
  for (const d of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!d.isFile()) continue;
    const path = join(d.parentPath ?? d.path, d.name);
    try {
      const st = statSync(path);
      out.set(relative(dir, path), `${st.size}:${st.mtimeMs}`);
    } catch {
      // removed while listing
    }
  }
  return out;
}

/** The paths added, removed or changed between two snapshots, sorted ("+ a", "- b", "~ c"). */
export function treeChanges(before, after) {
  const changes = [];
  for (const [path, sig] of after) {
    if (!before.has(path)) changes.push(`+ ${path}`);
    else if (before.get(path) !== sig) changes.push(`~ ${path}`);
  }
  for (const path of before.keys()) if (!after.has(path)) changes.push(`- ${path}`);
  return changes.sort((a, b) => a.slice(2).localeCompare(b.slice(2)));
}

/** A fresh copy of a sample project in a temporary folder, without its run store (.mlloop): what a test works on.
 *  The copy keeps the sample's folder name (<tmp>/<prefix>XXXX/digits), as titles that name the folder show it. */
export function copyOfSample(folder, prefix = 'mlloop-sample-') {
  const copy = join(mkdtempSync(join(tmpdir(), prefix)), basename(folder));
  cpSync(folder, copy, { recursive: true, filter: (src) => !relative(folder, src).split(/[\\/]/).includes('.mlloop') });
  return copy;
}
