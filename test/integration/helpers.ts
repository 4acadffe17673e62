// Shared by the integration suites: the extension under test and small waits.
import * as vscode from 'vscode';
import type { MlLoopApi } from '../../src/extension/extension';
import type { PanelProbe } from '../../src/extension/webviewHost/panel';
import type { ErrorAnalysisState } from '../../src/protocol/errorAnalysis';

export const EXTENSION_ID = 'ml-loop.ml-loop';
/** globalThis key: the require.cache keys once the extension had activated, before any suite loaded. */
export const MODULES_AT_ACTIVATION = 'mlloopModulesAtActivation';

export async function activatedExtension(): Promise<vscode.Extension<MlLoopApi>> {
  const ext = vscode.extensions.getExtension<MlLoopApi>(EXTENSION_ID);
  if (!ext) throw new Error(`${EXTENSION_ID} is not installed in this extension host`);
  await ext.activate();
  return ext;
}

/** Polls `probe` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function workspaceRoot(): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('the integration tests need a workspace folder (examples/digits)');
  return folder.uri;
}

/** The ML Loop output channel's text so far (its log file), for assertion messages. */
export async function channelText(): Promise<string> {
  const { exports } = await activatedExtension();
  try {
    return new TextDecoder().decode(
      await vscode.workspace.fs.readFile(vscode.Uri.joinPath(exports.logUri, 'ML Loop.log')),
    );
  } catch {
    return '';
  }
}

export type LoadedErrorAnalysis = Extract<ErrorAnalysisState, { status: 'loaded' }>;

/** The state an Error Analysis panel's webview would get now. */
export function errorAnalysisState(p: PanelProbe): ErrorAnalysisState {
  return (p.snapshot() as { type: 'state'; state: ErrorAnalysisState }).state;
}

/** Waits for the Error Analysis panel's loaded state to satisfy `until`; a failed analysis fails at once. */
export function loadedErrorAnalysis(
  p: PanelProbe,
  until: (s: LoadedErrorAnalysis) => boolean = () => true,
  what = 'the loaded analysis',
): Promise<LoadedErrorAnalysis> {
  return waitFor(
    () => {
      const s = errorAnalysisState(p);
      if (s.status === 'error') throw new Error(`the analysis failed: ${s.message}`);
      return s.status === 'loaded' && until(s) && s;
    },
    what,
    120_000,
  );
}
