import { fileURLToPath } from 'node:url';

// The VS Code targets ML Loop ships a .vsix for, and the one table of what each carries besides the
// bundles: the native packages (kept external by the build), their runtime dependencies, and per target
// the files or platform packages that hold that platform's binaries. Read by src/build/build.mjs,
// src/build/package.mjs and the package tests (test/package/).

/**
 * VS Code target → budget of its .vsix in MiB (enforced by test/package/vsix.test.ts). Measured at
 * 0.1.0 with the fashion image sample (2,000 PNGs, about 1 MiB): linux-x64 27.7 (ONNX Runtime's x64
 * library alone is 17.0 compressed), linux-arm64 20.7, darwin-arm64 23.1, darwin-x64 22.1, win32-x64 21.7,
 * win32-arm64 21.0.
 */
export const TARGETS = {
  'linux-x64': { budgetMb: 29 },
  'linux-arm64': { budgetMb: 22 },
  'darwin-arm64': { budgetMb: 24 },
  'darwin-x64': { budgetMb: 23 },
  'win32-x64': { budgetMb: 23 },
  'win32-arm64': { budgetMb: 22 },
};

/** Where `npm run package` writes a target's .vsix. */
export const vsixPath = (target) => fileURLToPath(new URL(`../../dist/ml-loop-${target}.vsix`, import.meta.url));

const [os, cpu] = [(target) => target.split('-')[0], (target) => target.split('-')[1]];

// macOS: since 1.24 the binding links @rpath/libonnxruntime.1.dylib; npm's copy of the symlink
// libonnxruntime.<version>.dylib is a second 44 MB file. 1.23 links the versioned name.
const ortLibrary = (target, version) =>
  ({
    linux: 'libonnxruntime.so.1',
    win32: 'onnxruntime.dll',
    darwin: Number(version.split('.')[1]) < 24 ? `libonnxruntime.${version}.dylib` : 'libonnxruntime.1.dylib',
  })[os(target)];

/**
 * Each native package, as the bundles require it. A package ships the files under
 * `paths(target, version)` (folder prefixes ending in '/', or file names; '' is the whole package)
 * minus source maps, typings and READMEs. `dependencies` are its runtime dependencies (install-time
 * ones are left out), `platform` the packages holding a target's binaries, and `binaries` the native
 * files a target's node_modules must have (the package tests also check that every native file is
 * built for the target and that whatever it loads ships with it). `version` pins a target to another
 * release when the installed one has no binaries for it.
 */
export const NATIVE_PACKAGES = {
  'onnxruntime-node': {
    // The binding and the one library it links. Not DirectML.dll, dxcompiler.dll, dxil.dll: onnxruntime.dll
    // delay-loads them for the DirectML execution provider, and ML Loop runs the CPU one.
    paths: (target, version) => [
      'package.json',
      'LICENSE',
      'dist/',
      ...['onnxruntime_binding.node', ortLibrary(target, version)].map(
        (f) => `bin/napi-v6/${os(target)}/${cpu(target)}/${f}`,
      ),
    ],
    binaries: (target) => [`onnxruntime-node/bin/napi-v6/${os(target)}/${cpu(target)}/onnxruntime_binding.node`],
    // adm-zip and global-agent serve only its install script (CUDA downloads), which never runs here.
    dependencies: { 'onnxruntime-common': ['package.json', 'LICENSE', 'dist/cjs/'] },
    // ONNX Runtime stopped shipping macOS x64 binaries after 1.23 (microsoft/onnxruntime#27961).
    version: { 'darwin-x64': '1.23.2' },
  },
  sharp: {
    paths: () => ['package.json', 'LICENSE', 'lib/'],
    binaries: (target) => [`@img/sharp-${target}/lib/sharp-${target}.node`],
    dependencies: { '@img/colour': [''], 'detect-libc': [''], semver: [''] },
    // Windows builds carry libvips inside @img/sharp-win32-*; the others load it from its own package.
    platform: (target) =>
      os(target) === 'win32'
        ? { [`@img/sharp-${target}`]: [''] }
        : {
            [`@img/sharp-${target}`]: [''],
            [`@img/sharp-libvips-${target}`]: ['package.json', 'versions.json', 'lib/'],
          },
  },
};

/** Files never shipped from a package, whatever its paths say (LICENSE.md stays). */
export function isShippedFile(relativePath) {
  const name = relativePath.split('/').pop() ?? '';
  if (/^licen[cs]e/i.test(name)) return true;
  return !/\.(map|d\.ts|d\.cts|d\.mts|md|h|gyp|cc|cpp)$/i.test(name) && !relativePath.includes('/include/');
}

/** The modules the bundles leave to node_modules: the editor's API and the native packages. */
export const EXTERNAL_MODULES = ['vscode', ...Object.keys(NATIVE_PACKAGES)];
