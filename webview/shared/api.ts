// The webview end of a panel's channel: typed posts, validated arrivals, the ready handshake.
import type { Validator } from '../../src/protocol/common';

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
export function connect<H, W extends { type: string }, S = unknown>(isHostMessage: Validator<H>, onMessage: (m: H) => void): PanelChannel<H, W, S> {
  const vscode = acquireVsCodeApi<S>();
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
    getUiState: () => vscode.getState(),
    setUiState: (s) => vscode.setState(s),
  };
}
