// Integration tier: the mocha suite of test/integration runs inside a real VS Code extension host
// (code-server 4.100.3), started the way @vscode/test-electron starts desktop VS Code: the
// workbench URL carries extensionDevelopmentPath and extensionTestsPath.
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { format } from 'node:util';
import { startCodeServer, root } from './code-server.mjs';
import { launchBrowser, closeBrowser } from './browser.mjs';
import { copyOfSample } from './sampleGuard.mjs';

export const name = 'integration';

const TESTS_BUNDLE = join(root, 'dist', 'test', 'integration', 'index.js');
// MLLOOP_SAMPLE runs the suite on another project folder.
const SAMPLE = process.env.MLLOOP_SAMPLE ?? join(root, 'examples', 'digits');
const RESULT_MARKER = 'MLLOOP_MOCHA_RESULT';

// Generous: several engineers' suites run here, on a machine that may be busy.
export async function run({ timeoutMs = Number(process.env.MLLOOP_INTEGRATION_TIMEOUT_MS ?? 600_000) } = {}) {
  if (!existsSync(TESTS_BUNDLE)) throw new Error(`${TESTS_BUNDLE} is missing: run npm run build first`);
  if (!existsSync(join(SAMPLE, 'mlloop.json'))) throw new Error(`${SAMPLE}/mlloop.json is missing`);
  // A fresh copy of the sample: the suite neither sees the runs a user trained in examples/ nor leaves its own there.
  const folder = copyOfSample(SAMPLE, 'mlloop-integration-');
  // The suites edit documents in memory and save (or revert) them themselves: code-server's web
  // default (save after a second) once saved a quick fix into the sample before its revert.
  const server = await startCodeServer({ folder, settings: { 'files.autoSave': 'off' } });
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    let result;
    let exitCode;
    let finished;
    const done = new Promise((resolve) => (finished = resolve));
    // The workbench calls these in extension-test mode: the exit code when run() settles, and
    // the extension host's console output (mocha's report).
    await page.exposeFunction('codeAutomationExit', (code) => {
      exitCode = code;
      finished();
    });
    await page.exposeFunction('codeAutomationLog', (_level, args) => {
      const line = format(...(Array.isArray(args) ? args : [args]));
      const marker = line.indexOf(RESULT_MARKER);
      if (marker >= 0) result = JSON.parse(line.slice(marker + RESULT_MARKER.length).trim());
      else process.stdout.write(line.endsWith('\n') ? line : line + '\n');
    });
    await page.goto(server.workbenchUrl({ devPath: root, testsPath: TESTS_BUNDLE.replace(/\.js$/, '') }));
    const timer = new Promise((_, reject) => setTimeout(() => reject(new Error(`integration suite did not finish within ${timeoutMs / 1000} s`)), timeoutMs).unref());
    await Promise.race([done, timer]);
    if (!result) return { passed: 0, failed: 1, skipped: 0 }; // the suite crashed before reporting
    if (exitCode !== 0 && result.failed === 0) result.failed = 1;
    return result;
  } finally {
    await closeBrowser(browser);
    await server.stop();
    rmSync(dirname(folder), { recursive: true, force: true });
  }
}
