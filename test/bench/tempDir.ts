// A benchmark's scratch folder under the system temp folder, removed when the process exits (a
// benchmark writes datasets of tens of megabytes; they used to pile up in /tmp).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function benchTempDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `mlloop-bench-${name}-`));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
