// Base of every webview panel: strict HTML, the ready handshake, validation of arriving messages,
// complete snapshots. A panel subclass says what its state is and how to answer the webview.
import * as vscode from 'vscode';
import { isReadyMessage, type ReadyMessage, type Validator } from '../../protocol/common';
import { makeNonce, renderWebviewHtml } from './html';

export interface PanelOptions<W> {
  viewType: string;
  title: string;
  /** Name of the bundle: dist/webview/<bundle>.js. */
  bundle: string;
  /** Style sheets under media/. */
  styles: string[];
  extensionUri: vscode.Uri;
  log: vscode.LogOutputChannel;
  isWebviewMessage: Validator<W>;
  column?: vscode.ViewColumn;
  /** What the panel shows (JSON-safe), as its serializer needs it to bring the panel back after a window reload. */
  restoreKey: unknown;
}

/**
 * Panels VS Code brought back after a window reload, waiting to be adopted by the panel their
 * serializer opens through the usual show path (src/extension/webviewHost/serializers.ts): a panel
 * created with the same view type and restore key takes over the restored tab instead of opening one.
 */
const restored = new Map<string, vscode.WebviewPanel>();

function restoredKey(viewType: string, restoreKey: unknown): string {
  return `${viewType} ${JSON.stringify(restoreKey)}`;
}

/** Runs `open` (which shows the panel of `restoreKey`) so that it adopts `panel`; disposes `panel` if nothing adopted it. */
export async function adoptRestoredPanel(panel: vscode.WebviewPanel, restoreKey: unknown, open: () => unknown): Promise<void> {
  const key = restoredKey(panel.viewType, restoreKey);
  restored.set(key, panel);
  try {
    await open();
  } finally {
    // Not adopted: the panel was open already (revealed instead), or the show path failed.
    if (restored.get(key) === panel) {
      restored.delete(key);
      panel.dispose();
    }
  }
}

/** Where a webview may load from: the bundles and media/, nothing else. */
export function localResourceRoots(extensionUri: vscode.Uri): vscode.Uri[] {
  return [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')];
}

export function webviewHtml(webview: vscode.Webview, o: Pick<PanelOptions<unknown>, 'title' | 'bundle' | 'styles' | 'extensionUri'> & { restoreKey?: unknown }): string {
  const asUri = (...segments: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(o.extensionUri, ...segments)).toString();
  return renderWebviewHtml({
    title: o.title,
    cspSource: webview.cspSource,
    scriptUri: asUri('dist', 'webview', `${o.bundle}.js`),
    styleUris: o.styles.map((s) => asUri('media', s)),
    nonce: makeNonce(),
    ...(o.restoreKey !== undefined ? { restoreKey: JSON.stringify(o.restoreKey) } : {}),
  });
}

/** What the extension's API shows of an open panel (integration tests read its state and speak for its webview). */
export interface PanelProbe {
  viewType: string;
  title: string;
  /** The complete state message the webview would get now. */
  snapshot(): unknown;
  /** Delivers a message as if the webview had sent it: validated and handled like one. */
  deliver(message: unknown): Promise<void>;
  /** The last messages posted to the webview, oldest first (tests check what travels). */
  sent(): unknown[];
}

/** Messages a panel keeps for its probe's sent(), when recording (extension tests only). */
const SENT_KEPT = 20;

export abstract class WebviewPanelHost<H, W extends { type: string }> implements vscode.Disposable {
  private static readonly live = new Set<WebviewPanelHost<unknown, { type: string }>>();
  /** Whether panels keep their last sent messages: only for the extension's tests (a snapshot can hold megabytes). */
  static recordSent = false;
  protected readonly panel: vscode.WebviewPanel;
  protected readonly log: vscode.LogOutputChannel;
  private webviewReady = false;
  private readonly sentMessages: H[] = [];
  private readonly disposables: vscode.Disposable[] = [];
  private readonly disposeEmitter = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.disposeEmitter.event;

  constructor(private readonly options: PanelOptions<W>) {
    this.log = options.log;
    const webviewOptions = { enableScripts: true, localResourceRoots: localResourceRoots(options.extensionUri) };
    const key = restoredKey(options.viewType, options.restoreKey);
    const adopt = restored.get(key);
    restored.delete(key);
    if (adopt) {
      this.panel = adopt;
      this.panel.webview.options = webviewOptions;
      this.panel.title = options.title;
    } else {
      // The host owns the state and re-sends a snapshot when the webview comes back.
      this.panel = vscode.window.createWebviewPanel(options.viewType, options.title, options.column ?? vscode.ViewColumn.Active, { ...webviewOptions, retainContextWhenHidden: false });
    }
    this.panel.iconPath = vscode.Uri.joinPath(options.extensionUri, 'media', 'ml-loop.svg');
    this.disposables.push(
      this.panel.webview.onDidReceiveMessage((m: unknown) => this.receive(m)),
      this.panel.onDidDispose(() => this.dispose()),
    );
    this.panel.webview.html = webviewHtml(this.panel.webview, options);
    WebviewPanelHost.live.add(this);
  }

  /** The open panels, oldest first. */
  static probes(): PanelProbe[] {
    return [...WebviewPanelHost.live].map((p) => ({
      viewType: p.options.viewType,
      title: p.panel.title,
      snapshot: () => p.snapshot(),
      deliver: (m: unknown) => p.receive(m),
      sent: () => [...p.sentMessages],
    }));
  }

  /** Disposed with the panel. */
  protected own(d: vscode.Disposable): void {
    this.disposables.push(d);
  }

  /** The panel's complete state as one message. */
  protected abstract snapshot(): H;
  /** Handles a validated message other than `ready`. */
  protected abstract handle(message: Exclude<W, ReadyMessage>): void | Promise<void>;

  get isReady(): boolean {
    return this.webviewReady;
  }

  reveal(): void {
    this.panel.reveal();
  }

  /** Sends the current snapshot if the webview listens; otherwise `ready` will trigger it. */
  protected publish(): void {
    this.post(this.snapshot());
  }

  /** Sends a message if the webview listens (a delta of the last snapshot: one that is not heard is
   *  no loss, since the next `ready` gets the whole snapshot). */
  protected post(message: H): void {
    if (!this.webviewReady) return;
    void this.panel.webview.postMessage(message);
    if (!WebviewPanelHost.recordSent) return;
    this.sentMessages.push(message);
    if (this.sentMessages.length > SENT_KEPT) this.sentMessages.shift();
  }

  private async receive(message: unknown): Promise<void> {
    if (!this.options.isWebviewMessage(message)) {
      this.log.warn(`${this.options.viewType}: ignored an invalid message from the webview`, JSON.stringify(message)?.slice(0, 200));
      return;
    }
    if (isReadyMessage(message)) {
      // A webview (re)loads when shown again: each `ready` gets the full state.
      this.webviewReady = true;
      this.publish();
      return;
    }
    try {
      await this.handle(message as Exclude<W, ReadyMessage>);
    } catch (e) {
      this.log.error(`${this.options.viewType}: ${message.type} failed`, e instanceof Error ? e : String(e));
      void vscode.window.showErrorMessage(`ML Loop: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  dispose(): void {
    if (this.disposables.length === 0) return;
    WebviewPanelHost.live.delete(this);
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
    this.disposeEmitter.fire();
    this.disposeEmitter.dispose();
  }
}
