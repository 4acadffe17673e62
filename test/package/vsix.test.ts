// Opens every target's .vsix (made by `npm run package:all`; the package tier makes them first) and
// checks what it carries: this target's native binaries and everything they load, no other platform's,
// only the node_modules the bundles require, no sources or tests, a README and CHANGELOG without
// relative links (VS Code's extension page resolves none), a size within the target's budget. The
// linux-x64 one is also run from its unpacked files: the CLI trains a sample, the packaged ONNX
// Runtime loads the model, the packaged sharp decodes an image.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as esbuild from 'esbuild';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchFromRegistry } from '../../src/build/package.mjs';
import { NATIVE_PACKAGES, TARGETS, vsixPath } from '../../src/build/targets.mjs';
import { candidatePaths, isSystemLibrary, readBinary } from './binaries';
import { unpackVsix } from './vsix';

const root = join(__dirname, '..', '..');
const version: string = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;

/** Top-level packages a target's node_modules must hold: the table's native packages, their dependencies and platform packages. */
function expectedPackages(target: string): string[] {
  return Object.entries(NATIVE_PACKAGES)
    .flatMap(([name, spec]) => [
      name,
      ...Object.keys(spec.dependencies ?? {}),
      ...Object.keys(spec.platform?.(target) ?? {}),
    ])
    .sort();
}

/** Relative links and images of a markdown file (no URLs, no in-page anchors). */
function relativeLinks(markdown: string): string[] {
  const links = [
    ...markdown.matchAll(/!?\[[^\]]*\]\(([^)\s]+)[^)]*\)/g),
    ...markdown.matchAll(/<img[^>]+src=["']([^"']+)["']/g),
  ].map((m) => m[1]);
  return links.filter((l) => !/^[a-z][\w+.-]*:/i.test(l) && !l.startsWith('#')).map((l) => decodeURI(l.split('#')[0]));
}

for (const [target, { budgetMb }] of Object.entries(TARGETS)) {
  describe(`the ${target} .vsix`, () => {
    const [os, cpu] = target.split('-');
    let dir: string;
    let files: string[];
    let ext: string[]; // paths inside extension/
    before(async () => {
      assert.ok(
        existsSync(vsixPath(target)),
        `${vsixPath(target)} is missing: run npm run package:all (or node test/run-all.mjs --only package)`,
      );
      dir = mkdtempSync(join(tmpdir(), `mlloop-vsix-${target}-`));
      files = await unpackVsix(vsixPath(target), dir);
      ext = files.filter((f) => f.startsWith('extension/')).map((f) => f.slice('extension/'.length));
    });

    test(`is within its budget of ${budgetMb} MiB`, () => {
      const mb = statSync(vsixPath(target)).size / 1024 / 1024;
      console.log(`${target}: ${mb.toFixed(2)} MiB (${files.length} files)`);
      assert.ok(mb <= budgetMb, `${mb.toFixed(2)} MiB > ${budgetMb} MiB`);
    });

    test('is marked for its target and carries the manifest, README, CHANGELOG, LICENSE and icon', () => {
      const vsixManifest = readFileSync(join(dir, 'extension.vsixmanifest'), 'utf8');
      assert.match(vsixManifest, new RegExp(`TargetPlatform="${target}"`));
      const manifest = JSON.parse(readFileSync(join(dir, 'extension', 'package.json'), 'utf8'));
      assert.equal(manifest.version, version);
      assert.deepEqual(Object.keys(manifest.dependencies).sort(), Object.keys(NATIVE_PACKAGES).sort());
      assert.equal(manifest.devDependencies, undefined);
      for (const f of ['readme.md', 'changelog.md', 'LICENSE.txt', manifest.icon])
        assert.ok(ext.includes(f), `no ${f} in ${ext.filter((e) => !e.includes('/'))}`);
      // Marketplace fields: links in a form the owner edits (README.md, Publishing), never a placeholder host.
      for (const url of [manifest.repository.url, manifest.bugs.url, manifest.qna, manifest.homepage])
        assert.match(url, /^https:\/\/(?!example\.invalid)/);
      assert.ok(manifest.galleryBanner.color && manifest.keywords.length > 0 && manifest.categories.length > 0);
    });

    test(`carries the native packages of src/build/targets.mjs with ${target} binaries only, and what they load`, () => {
      const topLevel = [
        ...new Set(
          ext
            .filter((f) => f.startsWith('node_modules/'))
            .map((f) =>
              f
                .split('/')
                .slice(1, f.split('/')[1].startsWith('@') ? 3 : 2)
                .join('/'),
            ),
        ),
      ].sort();
      assert.deepEqual(topLevel, expectedPackages(target));
      assert.deepEqual(
        ext.filter((f) => /^node_modules\/.+\/node_modules\//.test(f)),
        [],
        'nested node_modules',
      );
      for (const spec of Object.values(NATIVE_PACKAGES)) {
        for (const b of spec.binaries(target)) assert.ok(ext.includes(`node_modules/${b}`), `no node_modules/${b}`);
      }
      const binaries = ext.flatMap((f) => {
        const info = readBinary(readFileSync(join(dir, 'extension', f)));
        return info ? [{ f, info }] : [];
      });
      assert.ok(binaries.length >= 2, `only ${binaries.length} native binaries`);
      for (const { f, info } of binaries) {
        assert.deepEqual([info.os, info.cpu], [os, cpu], `${f} is built for ${info.os}-${info.cpu}`);
        for (const lib of info.needs.filter((n) => !isSystemLibrary(info.os, n))) {
          const found = candidatePaths(info, `extension/${f}`, lib).some((p) =>
            files.some((x) => (os === 'win32' ? x.toLowerCase() === p.toLowerCase() : x === p)),
          );
          assert.ok(
            found,
            `${f} loads ${lib}, which the package does not carry where the loader looks (${info.searchPaths.join(', ') || 'its folder'})`,
          );
        }
      }
    });

    test('carries every module the bundles require and no other', async () => {
      // esbuild parses the bundles and lists the modules they leave to require() (not strings that look like one).
      const { metafile } = await esbuild.build({
        entryPoints: ext.filter((e) => /^dist\/[^/]+\.js$/.test(e)).map((e) => join(dir, 'extension', e)),
        bundle: true,
        write: false,
        metafile: true,
        platform: 'node',
        external: ['*'],
        outdir: join(dir, 'analysis'),
        logLevel: 'silent',
      });
      const required = new Set<string>();
      for (const output of Object.values(metafile.outputs)) {
        for (const i of output.imports.filter((i) => i.external)) {
          const name = i.path.startsWith('@') ? i.path.split('/').slice(0, 2).join('/') : i.path.split('/')[0];
          if (!builtinModules.includes(name) && !name.startsWith('node:')) required.add(name);
        }
      }
      required.delete('vscode'); // the editor provides it
      const shipped = Object.keys(NATIVE_PACKAGES).sort();
      assert.deepEqual(
        [...required].sort().filter((m) => !shipped.includes(m)),
        [],
        'required but not shipped',
      );
      assert.ok(required.has('onnxruntime-node'), [...required].join(', '));
    });

    test('ships no sources, tests, source maps, typings or run stores', () => {
      const unwanted = ext.filter(
        (f) =>
          /\.(ts|tsx|map|wat)$/.test(f) ||
          /(^|\/)(test|tests|__tests__|\.mlloop|\.vscode)\//.test(f) ||
          f.startsWith('src/') ||
          /^(webview|node_modules\/\.bin)\//.test(f) ||
          /(^|\/)(tsconfig\.json|\.npmrc|package-lock\.json)$/.test(f),
      );
      assert.deepEqual(unwanted, []);
    });

    test('has a README and CHANGELOG with no relative link, and the README screenshot inline', () => {
      // VS Code's extension page resolves no relative link and loads images from https: and data: only.
      for (const doc of ['readme.md', 'changelog.md'])
        assert.deepEqual(relativeLinks(readFileSync(join(dir, 'extension', doc), 'utf8')), [], doc);
      const screenshot = readFileSync(join(root, 'media', 'screenshot.png')).toString('base64');
      assert.ok(
        readFileSync(join(dir, 'extension', 'readme.md'), 'utf8').includes(`(data:image/png;base64,${screenshot})`),
      );
    });
  });
}

/** The packaged CLI, run with node. */
type Cli = (...args: string[]) => SpawnSyncReturns<string>;

const onLinuxX64 = { skip: `${process.platform}-${process.arch}` !== 'linux-x64' && 'runs on linux-x64 only' };

/** The linux-x64 package unpacked into a temp folder, with a copy of its iris sample beside it. */
async function unpackLinuxX64(): Promise<{ ext: string; project: string; cli: Cli }> {
  const dir = mkdtempSync(join(tmpdir(), 'mlloop-vsix-run-'));
  await unpackVsix(vsixPath('linux-x64'), dir);
  const ext = join(dir, 'extension');
  // The sample as Create ML Project copies it out of the installed extension.
  const project = join(dir, 'iris');
  cpSync(join(ext, 'examples', 'iris'), project, { recursive: true });
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [join(ext, 'dist', 'cli.js'), ...args], { encoding: 'utf8', timeout: 120_000 });
  return { ext, project, cli };
}

/** Trains the logistic experiment of the iris copy with the packaged CLI; resolves to the run's model.onnx. */
function trainIris(cli: Cli, project: string): { runId: string; model: string } {
  const r = cli('train', project, '--experiment', 'logistic', '--json');
  assert.equal(r.status, 0, r.stderr);
  const run = JSON.parse(r.stdout);
  assert.equal(run.status, 'completed');
  assert.ok(run.metrics.dev.accuracy > 0.8, JSON.stringify(run.metrics));
  return { runId: run.runId, model: join(project, '.mlloop', 'runs', run.runId, 'model.onnx') };
}

/** Runs `model` on one iris row in the onnxruntime-node at `ort`; resolves to the output names and the input metadata's names. */
function runInOrt(ort: string, model: string): { outputs: string[]; inputs: string[] } {
  const script = `const ort = require(${JSON.stringify(ort)});
    ort.InferenceSession.create(${JSON.stringify(model)}).then(async (s) => {
      const out = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', new Float32Array([5.1, 3.5, 1.4, 0.2]), [1, 4]) });
      console.log(JSON.stringify({ outputs: Object.keys(out), inputs: s.inputMetadata.map((m) => m.name) }));
    });`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe('the linux-x64 package, unpacked and run', onLinuxX64, () => {
  let ext: string;
  let project: string;
  let cli: Cli;
  before(async () => ({ ext, project, cli } = await unpackLinuxX64()));

  test('ml-loop --version prints the package version', () => {
    const r = cli('--version');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), version);
  });

  test('ml-loop train trains the iris sample, and the packaged ONNX Runtime runs the model', () => {
    const { model } = trainIris(cli, project);
    assert.ok(runInOrt(join(ext, 'node_modules', 'onnxruntime-node'), model).outputs.length > 0);
  });

  test('the packaged sharp decodes the packaged screenshot and knows its libvips build', () => {
    const script = `const sharp = require(${JSON.stringify(join(ext, 'node_modules', 'sharp'))});
      sharp(${JSON.stringify(join(ext, 'media', 'screenshot.png'))}).raw().toBuffer({ resolveWithObject: true })
        .then(({ info }) => console.log(JSON.stringify({ width: info.width, versions: sharp.versions })));`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const { width, versions } = JSON.parse(r.stdout);
    assert.equal(width, 1080);
    // versions.json of the libvips package: sharp reads it to enable AVIF/HEIF output.
    assert.ok(versions.vips && versions.heif, JSON.stringify(versions));
  });
});

// A target pinned to another ONNX Runtime release (darwin-x64: the last with macOS x64 binaries) runs
// the same bundles: here that release's linux-x64 binaries (in its npm package) stand in for it.
for (const [target, version] of Object.entries(NATIVE_PACKAGES['onnxruntime-node'].version ?? {})) {
  describe(`the bundles with onnxruntime-node ${version} (pinned for ${target})`, onLinuxX64, () => {
    test("ml-loop train, ml-loop diagnose (which evaluates model.onnx) and the server's session metadata work", async () => {
      const { ext, project, cli } = await unpackLinuxX64();
      const ort = fetchFromRegistry('onnxruntime-node', version);
      const common = fetchFromRegistry(
        'onnxruntime-common',
        JSON.parse(readFileSync(join(ort, 'package.json'), 'utf8')).dependencies['onnxruntime-common'],
      );
      for (const [name, from] of [
        ['onnxruntime-node', ort],
        ['onnxruntime-common', common],
      ]) {
        rmSync(join(ext, 'node_modules', name), { recursive: true });
        cpSync(from, join(ext, 'node_modules', name), { recursive: true });
      }
      assert.equal(
        JSON.parse(readFileSync(join(ext, 'node_modules', 'onnxruntime-node', 'package.json'), 'utf8')).version,
        version,
      );
      const { runId, model } = trainIris(cli, project);
      const diagnosis = cli('diagnose', project, '--run', runId, '--json');
      assert.equal(diagnosis.status, 0, diagnosis.stderr);
      assert.ok(JSON.parse(diagnosis.stdout).verdict.devError < 0.2, diagnosis.stdout);
      assert.deepEqual(runInOrt(join(ext, 'node_modules', 'onnxruntime-node'), model).inputs.length, 1);
    });
  });
}
