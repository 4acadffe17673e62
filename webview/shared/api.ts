// The webview end of a panel's channel: typed posts, validated arrivals, the ready handshake.
import { RESTORE_KEY_META, type Validator } from '../../src/protocol/common';

/** The webview state VS Code keeps: the panel's restore key and the bundle's UI state. */
interface KeptState<S> {
  panel?: unknown;
  ui?: S;
}

interface VsCodeApi<S> {
  postMessage(message: unknown): void;
  getState(): S | undefined;
  setState(state: S): void;
}
declare function acquireVsCodeApi<S>(): VsCodeApi<S>;

export interface PanelChannel<H, W, S> {
  post(message: W): void;
  /** UI-only state (scroll, selection) kept by VS Code across reloads of the webview. */
  getUiState(): S | undefined;
  setUiState(state: S): void;
}

/**
 * Listens for host messages that pass `isHostMessage` (others are dropped with a console warning),
 * then tells the host the webview is ready: the host sends its snapshot only after that.
 */
export function connect<H, W extends { type: string }, S = unknown>(
  isHostMessage: Validator<H>,
  onMessage: (m: H) => void,
): PanelChannel<H, W, S> {
  const vscode = acquireVsCodeApi<KeptState<S>>();
  // VS Code keeps this state across window reloads and gives it to the panel's serializer: the panel
  // key (what it shows) lets the extension bring the panel back; `ui` is the bundle's own.
  const panel = document.querySelector(`meta[name="${RESTORE_KEY_META}"]`)?.getAttribute('content');
  const ui = vscode.getState()?.ui;
  let kept: KeptState<S> = {
    ...(panel ? { panel: JSON.parse(panel) as unknown } : {}),
    ...(ui !== undefined ? { ui } : {}),
  };
  vscode.setState(kept);
  window.addEventListener('message', (event: MessageEvent<unknown>) => {
    if (!isHostMessage(event.data)) {
      console.warn('ML Loop: ignored an invalid message from the extension', event.data);
      return;
    }
    onMessage(event.data);
  });
  vscode.postMessage({ type: 'ready' });
  return {
    post: (m) => vscode.postMessage(m),
    getUiState: () => kept.ui,
    setUiState: (ui) => vscode.setState((kept = { ...kept, ui })),
  };
}
