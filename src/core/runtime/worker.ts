// Where the worker entries (src/worker/<name>.ts) are and how long a cancelled one may take to stop.

import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** After a cancel request a worker gets this long to stop by itself before it is terminated. */
export const CANCEL_GRACE_MS = 2000;

/**
 * How to start a worker (src/worker/<name>.ts; the training worker by default): the bundled
 * dist/worker-<name>.js, or, when this module runs from TypeScript source (unit tests under tsx),
 * the source entry loaded through tsx's require hook.
 */
export function workerScript(name: 'train' | 'errors' | 'script' = 'train'): { source: string; eval: boolean } {
  if (__filename.endsWith('.ts')) {
    const entry = join(__dirname, '..', '..', 'worker', `${name}.ts`);
    return { source: `require('tsx/cjs'); require(${JSON.stringify(entry)});`, eval: true };
  }
  // dist/extension.js and dist/cli.js sit beside it; bundled test entries live deeper under dist/.
  for (const dir of [__dirname, join(__dirname, '..'), join(__dirname, '..', '..')]) {
    const file = join(dir, `worker-${name}.js`);
    if (existsSync(file)) return { source: file, eval: false };
  }
  throw new Error(`worker-${name}.js not found next to ${__filename}`);
}
