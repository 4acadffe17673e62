// `npm run test:electron`: the same integration suite in desktop VS Code via @vscode/test-electron,
// for machines that can download VS Code (this offline one cannot; the integration tier runs the
// suite in code-server instead). Pinned to 1.100.3: the release code-server 4.100.3 embeds, and
// the last line whose extension host runs on Node 20.
import { runTests } from '@vscode/test-electron';
import { copyOfSample } from './sampleGuard.mjs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const VSCODE_VERSION = '1.100.3';

try {
  await runTests({
    version: VSCODE_VERSION,
    extensionDevelopmentPath: root,
    extensionTestsPath: join(root, 'dist', 'test', 'integration', 'index'),
    launchArgs: [copyOfSample(join(root, 'examples', 'digits'), 'mlloop-electron-'), '--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes'],
  });
} catch (e) {
  console.error(`integration tests in VS Code ${VSCODE_VERSION} failed: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
}
