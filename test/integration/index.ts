// Entry of the integration suite inside the extension host (extensionTestsPath points at its
// bundle, dist/test/integration/index.js). The host calls run(); it settles when mocha is done.
// Add a suite: write test/integration/<name>.test.ts and list it in SUITES.
import Mocha from 'mocha';
import * as vscode from 'vscode';
import { EXTENSION_ID, MODULES_AT_ACTIVATION } from './helpers';

const SUITES: (() => Promise<unknown>)[] = [
  () => import('./activation.test'),
  () => import('./commands.test'),
  () => import('./dataPanel.test'),
  () => import('./deploy.test'),
  () => import('./diagnose.test'),
  () => import('./diagnostics.test'),
  () => import('./errorAnalysis.test'),
  () => import('./errorAnalysisProduction.test'),
  () => import('./experiments.test'),
  () => import('./monitoring.test'),
  () => import('./panelLifetime.test'),
  () => import('./panelRestore.test'),
  () => import('./scripts.test'),
  () => import('./scale.test'),
  // Last: it adds a second project (a copy of examples/fashion) to the workspace while it runs.
  () => import('./imageScripts.test'),
];

/** The line the runners parse for the tier summary (mocha's own output is for people). */
export const RESULT_MARKER = 'MLLOOP_MOCHA_RESULT';

export async function run(): Promise<void> {
  // MLLOOP_MOCHA_GREP (inherited through code-server) runs only the matching tests while developing.
  const grep = process.env.MLLOOP_MOCHA_GREP;
  const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: false, reporter: 'spec', ...(grep ? { grep } : {}) });
  // The suites are bundled into this file: expose describe/it before evaluating them.
  mocha.suite.emit('pre-require', globalThis, 'bundle', mocha);
  // What the activated extension had loaded, taken before the suites load: some suites import
  // onnxruntime-node for their own fixtures, which would otherwise show in require.cache.
  await vscode.extensions.getExtension(EXTENSION_ID)?.activate();
  (globalThis as Record<string, unknown>)[MODULES_AT_ACTIVATION] = Object.keys(require.cache);
  for (const load of SUITES) await load();
  await new Promise<void>((resolve, reject) => {
    const runner = mocha.run((failures) => {
      const s = runner.stats ?? { passes: 0, failures, pending: 0 };
      console.log(`${RESULT_MARKER} ${JSON.stringify({ passed: s.passes, failed: s.failures, skipped: s.pending })}`);
      if (failures > 0) reject(new Error(`${failures} integration test(s) failed`));
      else resolve();
    });
  });
}
