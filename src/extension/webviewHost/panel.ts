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
  /** What the panel shows (JSON-safe): its key among the open panels, and what its serializer needs to bring it back after a window reload. */
  restoreKey: unknown;
  /** The window's open panels: the panel joins them until it is closed. */
  panels: PanelRegistry;
  /** Folders besides the bundles and media/ the webview may load images from (e.g. a project's pictures). */
  resourceRoots?: vscode.Uri[];
}

/** One panel per view type and restore key. */
function panelKey(viewType: string, restoreKey: unknown): string {
  return `${viewType} ${JSON.stringify(restoreKey)}`;
}

type AnyPanel = WebviewPanelHost<unknown, { type: string }>;

/**
 * The window's open panels, created in activate(). Showing a panel whose view type and key are
 * open already reveals it; a closed panel leaves the registry, and nothing else holds it, so what
 * it loaded (a whole split dataset for Error Analysis) is freed with it; deactivation disposes the
 * panels still open. Tabs VS Code restored after a reload wait here until a panel adopts them.
 */
export class PanelRegistry implements vscode.Disposable {
  private readonly live = new Set<AnyPanel>();
  private readonly keyed = new Map<string, AnyPanel>();
  /**
   * Panels VS Code brought back after a window reload, waiting to be adopted by the panel their
   * serializer opens through the usual show path (src/extension/webviewHost/serializers.ts): a panel
   * created with the same view type and restore key takes over the restored tab instead of opening one.
   */
  private readonly restored = new Map<string, vscode.WebviewPanel>();
  /** Counts the panels garbage-collected after they were closed (extension tests only). */
  private readonly finalization: FinalizationRegistry<string> | undefined;
  private readonly finalized = new Map<string, number>();

  constructor(
    /** Whether panels keep their last sent messages and are counted when collected: only for the extension's tests (a snapshot can hold megabytes). */
    readonly testing = false,
  ) {
    if (testing)
      this.finalization = new FinalizationRegistry((viewType) =>
        this.finalized.set(viewType, (this.finalized.get(viewType) ?? 0) + 1),
      );
  }

  /** The open panel of `viewType` and `key`, revealed (and passed to `reuse`); else the one `create` opens. */
  show<P extends AnyPanel>(viewType: string, key: unknown, create: () => P, reuse?: (existing: P) => void): P {
    const existing = this.keyed.get(panelKey(viewType, key)) as P | undefined;
    if (existing) {
      existing.reveal();
      reuse?.(existing);
      return existing;
    }
    return create();
  }

  /** Called by each panel as it opens (WebviewPanelHost's constructor). */
  add(panel: AnyPanel, viewType: string, key: unknown): void {
    this.live.add(panel);
    this.keyed.set(panelKey(viewType, key), panel);
    this.finalization?.register(panel, viewType);
  }

  /** Called by each panel as it closes. */
  remove(panel: AnyPanel, viewType: string, key: unknown): void {
    this.live.delete(panel);
    const k = panelKey(viewType, key);
    if (this.keyed.get(k) === panel) this.keyed.delete(k);
  }

  /** The tab restored after a reload for this view type and key, if one waits (taken: adopted once). */
  takeRestored(viewType: string, key: unknown): vscode.WebviewPanel | undefined {
    const k = panelKey(viewType, key);
    const panel = this.restored.get(k);
    this.restored.delete(k);
    return panel;
  }

  /** Runs `open` (which shows the panel of `restoreKey`) so that it adopts `panel`; disposes `panel` if nothing adopted it. */
  async adopt(panel: vscode.WebviewPanel, restoreKey: unknown, open: () => unknown): Promise<void> {
    const k = panelKey(panel.viewType, restoreKey);
    this.restored.set(k, panel);
    try {
      await open();
    } finally {
      // Not adopted: the panel was open already (revealed instead), or the show path failed.
      if (this.restored.get(k) === panel) {
        this.restored.delete(k);
        panel.dispose();
      }
    }
  }

  /** The open panels, oldest first. */
  probes(): PanelProbe[] {
    return [...this.live].map((p) => p.probe());
  }

  /** How many closed panels of a view type were garbage-collected so far (counted when testing only). */
  collected(viewType: string): number {
    return this.finalized.get(viewType) ?? 0;
  }

  dispose(): void {
    for (const p of [...this.live]) p.dispose();
    for (const p of this.restored.values()) p.dispose();
    this.restored.clear();
  }
}

/** Where a webview may load from: the bundles and media/, nothing else. */
export function localResourceRoots(extensionUri: vscode.Uri): vscode.Uri[] {
  return [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')];
}

export function webviewHtml(
  webview: vscode.Webview,
  o: Pick<PanelOptions<unknown>, 'title' | 'bundle' | 'styles' | 'extensionUri'> & { restoreKey?: unknown },
): string {
  const asUri = (...segments: string[]) =>
    webview.asWebviewUri(vscode.Uri.joinPath(o.extensionUri, ...segments)).toString();
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
  protected readonly panel: vscode.WebviewPanel;
  protected readonly log: vscode.LogOutputChannel;
  private webviewReady = false;
  private readonly sentMessages: H[] = [];
  private readonly disposables: vscode.Disposable[] = [];
  private readonly disposeEmitter = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.disposeEmitter.event;

  constructor(private readonly options: PanelOptions<W>) {
    this.log = options.log;
    const webviewOptions = {
      enableScripts: true,
      localResourceRoots: [...localResourceRoots(options.extensionUri), ...(options.resourceRoots ?? [])],
    };
    const adopt = options.panels.takeRestored(options.viewType, options.restoreKey);
    if (adopt) {
      this.panel = adopt;
      this.panel.webview.options = webviewOptions;
      this.panel.title = options.title;
    } else {
      // The host owns the state and re-sends a snapshot when the webview comes back.
      this.panel = vscode.window.createWebviewPanel(
        options.viewType,
        options.title,
        options.column ?? vscode.ViewColumn.Active,
        { ...webviewOptions, retainContextWhenHidden: false },
      );
    }
    this.panel.iconPath = vscode.Uri.joinPath(options.extensionUri, 'media', 'ml-loop.svg');
    this.disposables.push(
      this.panel.webview.onDidReceiveMessage((m: unknown) => this.receive(m)),
      this.panel.onDidDispose(() => this.dispose()),
    );
    this.panel.webview.html = webviewHtml(this.panel.webview, options);
    options.panels.add(this as AnyPanel, options.viewType, options.restoreKey);
  }

  /** What the extension's API shows of this panel (integration tests). */
  probe(): PanelProbe {
    return {
      viewType: this.options.viewType,
      title: this.panel.title,
      snapshot: () => this.snapshot(),
      deliver: (m: unknown) => this.receive(m),
      sent: () => [...this.sentMessages],
    };
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
    if (!this.options.panels.testing) return;
    this.sentMessages.push(message);
    if (this.sentMessages.length > SENT_KEPT) this.sentMessages.shift();
  }

  private async receive(message: unknown): Promise<void> {
    if (!this.options.isWebviewMessage(message)) {
      this.log.warn(
        `${this.options.viewType}: ignored an invalid message from the webview`,
        JSON.stringify(message)?.slice(0, 200),
      );
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
    this.options.panels.remove(this as AnyPanel, this.options.viewType, this.options.restoreKey);
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
    this.disposeEmitter.fire();
    this.disposeEmitter.dispose();
  }
}
