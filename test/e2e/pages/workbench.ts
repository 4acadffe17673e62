// The VS Code workbench as a person sees it. Selectors are those of VS Code 1.100 (code-server
// 4.100.3): pin the two together.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { Notifications } from './notifications';
import { Palette } from './palette';
import { Sidebar } from './sidebar';
import { Webview } from './webview';

export class Workbench {
  readonly palette: Palette;
  readonly sidebar: Sidebar;
  readonly notifications: Notifications;
  private shot = 0;

  constructor(
    readonly page: Page,
    private readonly screenshotDir: string,
    private readonly prefix: string,
  ) {
    mkdirSync(screenshotDir, { recursive: true });
    this.palette = new Palette(page);
    this.sidebar = new Sidebar(page);
    this.notifications = new Notifications(page);
  }

  /** Waits for the status bar and the ML Loop activity-bar item (the extension's manifest is read). */
  async waitReady(timeout = 60_000): Promise<void> {
    await this.page.locator('.monaco-workbench .part.statusbar').waitFor({ timeout });
    await this.sidebar.activityItem('ML Loop').waitFor({ timeout });
  }

  async title(): Promise<string> {
    return this.page.title();
  }

  /** The text of the Output panel's editor (visible lines only). */
  async outputText(): Promise<string> {
    const lines = this.page.locator('.part.panel .monaco-editor .view-lines');
    await lines.first().waitFor();
    return (await lines.first().innerText()).replace(/\u00a0/g, ' ');
  }

  /** The tab labels of the editor area. */
  async editorTabs(): Promise<string[]> {
    return this.page.locator('.part.editor .tabs-container .tab .label-name').allInnerTexts();
  }

  webview(): Webview {
    return new Webview(this.page);
  }

  /** Saves test-results/screenshots/<prefix>-NN-<name>.png. */
  async screenshot(name: string): Promise<string> {
    const file = join(this.screenshotDir, `${this.prefix}-${String(++this.shot).padStart(2, '0')}-${name}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }
}
