// Builds every bundle with esbuild and type-checks with tsc.
// Usage: node src/build/build.mjs [--watch] [--no-typecheck] [--production]
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, existsSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXTERNAL_MODULES } from './targets.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// The MLP's WebAssembly kernels are compiled from WAT (wabt) into a TS module the bundles import.
const { buildKernels } = await import('../core/train/kernels/build-wasm.mjs');
await buildKernels();
const args = new Set(process.argv.slice(2));
const watch = args.has('--watch');
const production = args.has('--production');

// Native or editor-provided modules are never bundled (the table of what each .vsix carries).
const nodeExternal = EXTERNAL_MODULES;

const nodeCommon = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: true,
  minify: production,
  external: nodeExternal,
  // Prefer ESM builds: jsonc-parser's UMD `main` requires its parts dynamically, which esbuild
  // cannot follow ("Cannot find module './impl/format'" at runtime).
  mainFields: ['module', 'main'],
  logLevel: 'warning',
  absWorkingDir: root,
};

const nodeEntries = [
  { in: 'src/extension/extension.ts', out: 'dist/extension.js' },
  { in: 'src/cli/main.ts', out: 'dist/cli.js', banner: '#!/usr/bin/env node' },
  { in: 'src/server/main.ts', out: 'dist/server.js' },
  { in: 'src/worker/train.ts', out: 'dist/worker-train.js' },
  { in: 'src/worker/checkProject.ts', out: 'dist/worker-check.js' },
  { in: 'src/worker/errors.ts', out: 'dist/worker-errors.js' },
  { in: 'src/worker/script.ts', out: 'dist/worker-script.js' },
  { in: 'src/worker/images.ts', out: 'dist/worker-images.js' },
  { in: 'src/worker/dataJobs.ts', out: 'dist/worker-dataJobs.js' },
  { in: 'src/worker/csvScan.ts', out: 'dist/worker-csvScan.js' },
].filter((e) => existsSync(join(root, e.in)));

// Integration tests run inside the extension host; mocha stays external (it loads files by path).
const testEntries = [{ in: 'test/integration/index.ts', out: 'dist/test/integration/index.js' }].filter((e) =>
  existsSync(join(root, e.in)),
);

const webviewDir = join(root, 'webview');
const webviewEntries = readdirSync(webviewDir, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(webviewDir, d.name, 'main.ts')))
  .map((d) => ({ in: `webview/${d.name}/main.ts`, out: `dist/webview/${d.name}.js` }));

const configs = [
  ...nodeEntries.map((e) => ({
    ...nodeCommon,
    entryPoints: [e.in],
    outfile: e.out,
    banner: e.banner ? { js: e.banner } : undefined,
  })),
  ...testEntries.map((e) => ({
    ...nodeCommon,
    entryPoints: [e.in],
    outfile: e.out,
    external: [...nodeExternal, 'mocha'],
  })),
  ...webviewEntries.map((e) => ({
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    sourcemap: true,
    minify: production,
    logLevel: 'warning',
    absWorkingDir: root,
    entryPoints: [e.in],
    outfile: e.out,
  })),
];

function typecheck() {
  const r = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', root], {
    stdio: 'inherit',
  });
  return r.status === 0;
}

/** Files the bundles read at run time: the gRPC service's .proto (@grpc/proto-loader, src/core/serve/grpc.ts). */
function copyAssets() {
  mkdirSync(join(root, 'dist'), { recursive: true });
  copyFileSync(join(root, 'src/core/serve/grpc_predict_v2.proto'), join(root, 'dist/grpc_predict_v2.proto'));
}

if (watch) {
  copyAssets();
  for (const c of configs) {
    const ctx = await esbuild.context({
      ...c,
      plugins: [
        {
          name: 'watch-log',
          setup(b) {
            b.onEnd((r) => console.log(`[watch] build finished ${c.outfile} (${r.errors.length} errors)`));
          },
        },
      ],
    });
    await ctx.watch();
  }
  console.log('[watch] build started');
} else {
  if (!args.has('--keep')) rmSync(join(root, 'dist'), { recursive: true, force: true });
  const t0 = Date.now();
  await Promise.all(configs.map((c) => esbuild.build(c)));
  copyAssets();
  console.log(`esbuild: ${configs.length} bundles in ${Date.now() - t0} ms`);
  if (!args.has('--no-typecheck')) {
    const t1 = Date.now();
    if (!typecheck()) {
      console.error('tsc: type errors');
      process.exit(1);
    }
    console.log(`tsc: no type errors (${Date.now() - t1} ms)`);
  }
}
