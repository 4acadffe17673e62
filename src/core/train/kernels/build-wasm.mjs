// Compiles the WebAssembly kernels from their WAT source with wabt (a devDependency) into a small
// TypeScript module holding the bytes, so the kernels bundle into every entry (extension, CLI,
// worker) without a separate file to locate at run time. Run by src/build/build.mjs before esbuild;
// the generated module is committed so a fresh clone also runs the unit tests without building.
//   node src/core/train/kernels/build-wasm.mjs [--check]   (--check: fail if the module is stale)
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export const KERNEL_SOURCES = [
  { wat: 'gemm.wat', out: 'gemm.wasm.ts', constName: 'GEMM_WASM_BASE64' },
  // The same kernels on a shared memory, for the CNN's two threads (a module declares its memory shared or not).
  { wat: 'gemm.wat', out: 'gemmShared.wasm.ts', constName: 'GEMM_SHARED_WASM_BASE64', sharedMemory: true },
  { wat: 'conv.wat', out: 'conv.wasm.ts', constName: 'CONV_WASM_BASE64' },
  { wat: 'hist.wat', out: 'hist.wasm.ts', constName: 'HIST_WASM_BASE64' },
  { wat: 'logistic.wat', out: 'logistic.wasm.ts', constName: 'LOGISTIC_WASM_BASE64' },
  { wat: 'binning.wat', out: 'binning.wasm.ts', constName: 'BINNING_WASM_BASE64' },
  { wat: 'forest.wat', out: 'forest.wasm.ts', constName: 'FOREST_WASM_BASE64' },
];

/** The generated TypeScript module for one WAT source. */
export async function generateModule(watPath, constName, sharedMemory = false) {
  const wabt = await (await import('wabt')).default();
  let source = readFileSync(watPath, 'utf8');
  if (sharedMemory) {
    const plain = '(import "env" "memory" (memory 1))';
    if (!source.includes(plain)) throw new Error(`${watPath}: no ${plain} to make shared`);
    source = source.replace(plain, '(import "env" "memory" (memory 1 65536 shared))');
  }
  const features = { simd: true, bulk_memory: true, threads: true };
  const mod = wabt.parseWat(watPath, source, features);
  try {
    mod.resolveNames();
    mod.validate(features);
    const { buffer } = mod.toBinary({ canonicalize_lebs: true, write_debug_names: false });
    const b64 = Buffer.from(buffer).toString('base64');
    return (
      `// Generated from ${watPath.split(/[\\/]/).pop()} by build-wasm.mjs (wabt). Do not edit: change the WAT and rebuild.\n` +
      `export const ${constName} =\n  '${b64}';\n`
    );
  } finally {
    mod.destroy();
  }
}

/** Regenerates every kernel module whose content changed; returns the paths written. */
export async function buildKernels({ check = false } = {}) {
  const written = [];
  for (const k of KERNEL_SOURCES) {
    const text = await generateModule(join(here, k.wat), k.constName, k.sharedMemory);
    const outPath = join(here, k.out);
    const current = existsSync(outPath) ? readFileSync(outPath, 'utf8') : '';
    if (current === text) continue;
    if (check) throw new Error(`${k.out} is stale: run node src/core/train/kernels/build-wasm.mjs`);
    writeFileSync(outPath, text);
    written.push(outPath);
  }
  return written;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const written = await buildKernels({ check: process.argv.includes('--check') });
  console.log(written.length ? `wasm kernels: wrote ${written.join(', ')}` : 'wasm kernels: up to date');
}
