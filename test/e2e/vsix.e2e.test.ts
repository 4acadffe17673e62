// The packaged linux-x64 .vsix installs into code-server with --install-extension and activates.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { vsixPath } from '../../src/build/targets.mjs';
import { installVsix, root, startCodeServer } from '../runners/code-server.mjs';
import { DEFAULT_FOLDER } from '../runners/demo.mjs';
import { ACTIVATE_OWN, ACTIVATED, openSession, recordFigure, type Session } from './session';

// Where src/build/package.mjs writes it (dist/ exists after the build; vsce keeps .vsix files out of packages).
const vsix = vsixPath('linux-x64');

describe('the packaged extension', () => {
  let s: Session | undefined;
  let extensionsDir: string;
  let installedDir: string;

  before(() => {
    // Packages the bundles `npm test` just built (npm run package also makes a production build first;
    // the package tier checks every target's production package and its size budget).
    const r = spawnSync(process.execPath, ['src/build/package.mjs', '--target', 'linux-x64'], {
      cwd: root,
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    extensionsDir = mkdtempSync(join(tmpdir(), 'mlloop-exts-'));
  });
  after(async () => {
    await s?.close();
  });

  test('installs with --install-extension, carrying only the linux-x64 onnxruntime and sharp binaries', () => {
    const bytes = statSync(vsix).size;
    recordFigure('vsix', { file: vsix, bytes, mb: +(bytes / 1024 / 1024).toFixed(2) });
    const out = installVsix(vsix, extensionsDir);
    assert.match(out, /was successfully installed/);
    const dir = readdirSync(extensionsDir).find((d) => d.startsWith('ml-loop.ml-loop-'));
    assert.ok(dir, `not in ${extensionsDir}: ${readdirSync(extensionsDir)}`);
    installedDir = join(extensionsDir, dir);
    const napi = join(installedDir, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6');
    assert.deepEqual(readdirSync(napi), ['linux']);
    assert.deepEqual(readdirSync(join(napi, 'linux')), ['x64']);
    assert.deepEqual(readdirSync(join(installedDir, 'node_modules', '@img')).sort(), [
      'colour',
      'sharp-libvips-linux-x64',
      'sharp-linux-x64',
    ]);
    // The shipped native module loads in plain Node (the extension host under code-server is Node 20).
    const r = spawnSync(
      process.execPath,
      [
        '-e',
        `const ort = require(${JSON.stringify(join(installedDir, 'node_modules', 'onnxruntime-node'))}); console.log(typeof ort.InferenceSession.create)`,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(r.stdout.trim(), 'function', r.stderr);
  });

  test('activates on the sample in code-server and logs its activation time', async () => {
    const server = await startCodeServer({ folder: DEFAULT_FOLDER, extensionsDir });
    s = await openSession(server, server.workbenchUrl(), 'vsix');
    const wb = s.workbench;
    await wb.waitReady();
    assert.doesNotMatch(await wb.title(), /Extension Development Host/);
    await wb.palette.run('ML Loop: Show Log');
    const text = await wb.outputText();
    const m = ACTIVATED.exec(text);
    assert.ok(m, 'no "Activated in" line in the ML Loop output');
    recordFigure('activation-vsix', { activationMs: Number(m[1]), activateMs: Number(ACTIVATE_OWN.exec(text)?.[1]) });
    await wb.screenshot('activated');
  });

  test("shows its README on the extension's page, with the packaged screenshot loaded", async () => {
    assert.ok(s, 'no session');
    const wb = s.workbench;
    // Ctrl+Shift+X shows the Extensions view; again if the first activation's reveal of the ML Loop
    // sidebar came after it (seen on a loaded machine).
    const row = wb.page.locator('.part.sidebar .monaco-list-row', { hasText: 'ML Loop' }).first();
    for (let attempt = 1; ; attempt++) {
      await wb.page.keyboard.press('Control+Shift+X');
      if (
        await row.waitFor({ timeout: 20_000 }).then(
          () => true,
          () => attempt === 3,
        )
      )
        break;
    }
    await row.click();
    // The README is a webview in the extension editor, which loads https: and data: images only:
    // src/build/package.mjs inlines media/screenshot.png.
    const readme = wb.webview().frame;
    await readme.locator('h1', { hasText: 'ML Loop' }).first().waitFor({ timeout: 60_000 });
    const image = readme.locator('img[src^="data:image/png"]').first();
    await image.waitFor({ timeout: 30_000 });
    // Built from source text, as page functions are here (tsx's __name helper does not exist in the page).
    const loadedWidth = new Function(
      'img',
      `return img.complete ? img.naturalWidth : new Promise((resolve) => {
         img.addEventListener('load', () => resolve(img.naturalWidth));
         img.addEventListener('error', () => resolve(0));
       });`,
    ) as (img: Element) => Promise<number>;
    await image.scrollIntoViewIfNeeded();
    const width = await image.evaluate(loadedWidth);
    await wb.screenshot('readme');
    assert.equal(width, 1080);
  });
});
