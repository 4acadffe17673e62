// Packages the built bundles (dist/) into one .vsix per VS Code target: dist/ml-loop-<target>.vsix.
// Usage: node src/build/package.mjs [--target <target>]... [--all] [--rewrite-relative-links]
//        (default: this machine's target)
//
// Each target is staged in .cache/package/<target>/: the extension's own files (the .vscodeignore
// allow-list) plus a node_modules holding only the native packages of src/build/targets.mjs with that
// target's binaries. A platform's packages that npm did not install here (other platforms' optional
// packages, a pinned release) are fetched from the npm registry with `npm pack` and kept in
// .cache/natives/, so later runs need no network.
import { createVSIX, listFiles, PackageManager } from '@vscode/vsce';
import * as esbuild from 'esbuild';
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isShippedFile, NATIVE_PACKAGES, TARGETS, vsixPath } from './targets.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cacheDir = join(root, '.cache');

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

/** The folder of `name` at exactly `version`: the installed copy when it is that version, else the registry's. */
function packageSource(name, version) {
  const installed = join(root, 'node_modules', name);
  if (existsSync(join(installed, 'package.json')) && readJson(join(installed, 'package.json')).version === version)
    return installed;
  return fetchFromRegistry(name, version);
}

/** `npm pack name@version` into .cache/natives/name@version/ (the tarball's package/ folder), once. */
export function fetchFromRegistry(name, version) {
  const dir = join(cacheDir, 'natives', `${name.replace('/', '+')}@${version}`);
  const pkg = join(dir, 'package');
  if (existsSync(join(pkg, 'package.json'))) return pkg;
  console.log(`fetching ${name}@${version} from the npm registry`);
  const tmp = mkdtempSync(join(cacheDir, 'natives-'));
  try {
    const [packed] = JSON.parse(
      execFileSync('npm', ['pack', `${name}@${version}`, '--json', '--loglevel=error', '--pack-destination', tmp], {
        cwd: tmp,
        encoding: 'utf8',
        shell: process.platform === 'win32',
      }),
    );
    execFileSync('tar', ['-xzf', join(tmp, packed.filename), '-C', tmp]);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    renameSync(join(tmp, 'package'), pkg);
    return pkg;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Copies the files of `from` under `paths` (see NATIVE_PACKAGES) that ship into `to`. */
function copyPaths(from, to, paths) {
  const files = readdirSync(from, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) =>
      relative(from, join(d.parentPath ?? d.path, d.name))
        .split('\\')
        .join('/'),
    )
    .filter(
      (rel) => paths.some((p) => p === '' || rel === p || (p.endsWith('/') && rel.startsWith(p))) && isShippedFile(rel),
    );
  for (const rel of files) {
    mkdirSync(dirname(join(to, rel)), { recursive: true });
    copyFileSync(join(from, rel), join(to, rel));
  }
  return files.length;
}

/** Stages `name` (from `source`) into node_modules; its package.json lists only the dependencies that ship. */
function stagePackage(staging, name, source, paths, shippedDependencies) {
  const to = join(staging, 'node_modules', name);
  if (!copyPaths(source, to, paths)) throw new Error(`${name}: no files under ${paths.join(', ')} in ${source}`);
  const manifest = readJson(join(source, 'package.json'));
  const dependencies = Object.fromEntries(
    Object.entries(manifest.dependencies ?? {}).filter(([d]) => shippedDependencies.includes(d)),
  );
  writeFileSync(
    join(to, 'package.json'),
    JSON.stringify({ ...manifest, dependencies, scripts: undefined, devDependencies: undefined }, null, 2),
  );
  return manifest;
}

/** Stages the native packages of `target`; returns the top-level ones with their versions. */
async function stageNativePackages(staging, target) {
  const shipped = {};
  for (const [name, spec] of Object.entries(NATIVE_PACKAGES)) {
    const installedVersion = readJson(join(root, 'node_modules', name, 'package.json')).version;
    const version = spec.version?.[target] ?? installedVersion;
    const source = packageSource(name, version);
    const dependencies = Object.keys(spec.dependencies ?? {});
    const platform = spec.platform?.(target) ?? {};
    const manifest = stagePackage(staging, name, source, spec.paths(target, version), [
      ...dependencies,
      ...Object.keys(platform),
    ]);
    for (const [dep, paths] of Object.entries(spec.dependencies ?? {})) {
      // The installed copy when this is the installed release (hoisted or nested), else the release it pins.
      const installed = [join(source, 'node_modules', dep), join(root, 'node_modules', dep)].find((d) =>
        existsSync(join(d, 'package.json')),
      );
      const depSource =
        source.startsWith(join(root, 'node_modules')) && installed
          ? installed
          : fetchFromRegistry(dep, manifest.dependencies[dep]);
      stagePackage(staging, dep, depSource, paths, []);
    }
    for (const [pkg, paths] of Object.entries(platform)) {
      const pinned = manifest.optionalDependencies?.[pkg];
      if (!pinned) throw new Error(`${name}@${version} has no optional package ${pkg} for ${target}`);
      const pkgManifest = stagePackage(staging, pkg, packageSource(pkg, pinned), paths, Object.keys(platform));
      if (pkgManifest.version !== pinned)
        throw new Error(`${pkg}: staged ${pkgManifest.version}, ${name} wants ${pinned}`);
    }
    shipped[name] = version;
  }
  await pruneUnreachableScripts(staging);
  return shipped;
}

/**
 * Removes the scripts of the pure-JavaScript dependencies that the native packages never require
 * (semver ships 50 modules; sharp uses three): esbuild follows the requires from each native package's
 * entry and lists what it reached.
 */
async function pruneUnreachableScripts(staging) {
  const { metafile } = await esbuild.build({
    stdin: {
      contents: Object.keys(NATIVE_PACKAGES)
        .map((n) => `require(${JSON.stringify(n)});`)
        .join('\n'),
      resolveDir: staging,
    },
    absWorkingDir: staging,
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    logLevel: 'silent',
    external: ['*.node'],
  });
  const reached = new Set(Object.keys(metafile.inputs).map((f) => f.split('\\').join('/')));
  for (const spec of Object.values(NATIVE_PACKAGES)) {
    for (const dep of Object.keys(spec.dependencies ?? {})) {
      const dir = join(staging, 'node_modules', dep);
      for (const d of readdirSync(dir, { recursive: true, withFileTypes: true })) {
        const file = relative(staging, join(d.parentPath ?? d.path, d.name))
          .split('\\')
          .join('/');
        if (d.isFile() && /\.[cm]?js$/.test(d.name) && !reached.has(file)) rmSync(join(staging, file));
      }
    }
  }
}

const IMAGE_TYPES = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
};

/**
 * VS Code's extension page shows README.md and CHANGELOG.md in a webview that loads images from
 * https: and data: URLs only and resolves no relative link (media/screenshot.png showed broken). So the
 * relative images of `name` become data: URLs, and any other relative link is an error.
 */
function inlineRelativeImages(dir, name) {
  const file = join(dir, name);
  if (!existsSync(file)) return;
  const isRelative = (link) => !/^[a-z][\w+.-]*:/i.test(link) && !link.startsWith('#');
  const text = readFileSync(file, 'utf8');
  for (const [, src] of text.matchAll(/<img[^>]+src=["']([^"']+)["']/g)) {
    if (isRelative(src))
      throw new Error(`${name}: write the image ${src} as markdown (![alt](path)) so that it can be inlined`);
  }
  const inlined = text.replace(/(!?)\[([^\]]*)\]\(([^)\s]+)([^)]*)\)/g, (all, bang, label, link, title) => {
    if (!isRelative(link)) return all;
    const type = IMAGE_TYPES[extname(link).toLowerCase()];
    if (!bang || !type)
      throw new Error(
        `${name}: the relative link "${link}" would be broken on VS Code's extension page; use an https URL`,
      );
    return `![${label}](data:${type};base64,${readFileSync(join(dir, decodeURI(link))).toString('base64')}${title})`;
  });
  writeFileSync(file, inlined);
}

export async function packageTarget(target, { rewriteRelativeLinks = false } = {}) {
  if (!TARGETS[target]) throw new Error(`unknown target "${target}"; known: ${Object.keys(TARGETS).join(', ')}`);
  if (!existsSync(join(root, 'dist', 'extension.js')))
    throw new Error('dist/extension.js is missing: run npm run build (or npm run package) first');
  const staging = join(cacheDir, 'package', target);
  rmSync(staging, { recursive: true, force: true });
  // The extension's own files: what `vsce ls` lists here, through the .vscodeignore allow-list.
  for (const rel of await listFiles({ cwd: root, packageManager: PackageManager.None })) {
    mkdirSync(dirname(join(staging, rel)), { recursive: true });
    copyFileSync(join(root, rel), join(staging, rel));
  }
  const dependencies = await stageNativePackages(staging, target);
  const { scripts, devDependencies, ...manifest } = readJson(join(root, 'package.json'));
  writeFileSync(join(staging, 'package.json'), JSON.stringify({ ...manifest, dependencies }, null, 2));
  writeFileSync(join(staging, '.vscodeignore'), '# Staged by src/build/package.mjs: every file here ships.\n');
  // A Marketplace upload has vsce rewrite relative links against the repository URL (README.md,
  // Publishing); an offline package carries its images inline instead.
  if (!rewriteRelativeLinks) for (const doc of ['README.md', 'CHANGELOG.md']) inlineRelativeImages(staging, doc);
  await createVSIX({ cwd: staging, packagePath: vsixPath(target), target, rewriteRelativeLinks });
  return vsixPath(target);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const requested = argv.includes('--all')
    ? Object.keys(TARGETS)
    : argv.flatMap((a, i) => (a === '--target' ? [argv[i + 1]] : []));
  const targets = requested.length ? requested : [`${process.platform}-${process.arch}`];
  const rewriteRelativeLinks = argv.includes('--rewrite-relative-links');
  // A chain, not a top-level await: the package tests require this module.
  targets
    .reduce((done, target) => done.then(() => packageTarget(target, { rewriteRelativeLinks })), Promise.resolve())
    .catch((e) => {
      console.error(e);
      process.exitCode = 1;
    });
}
