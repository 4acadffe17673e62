// The Error Analysis panel as a person uses it. Selectors are those of VS Code 1.100 (code-server 4.100.3).
import type { FrameLocator, Locator, Page } from 'playwright-core';
import { ExperimentsView } from './experiments';

export class ErrorAnalysisPage {
  constructor(private readonly page: Page) {}

  /**
   * Right-clicks a run row of the Experiments view and picks "Error Analysis" (a left click first
   * would open the Training panel and steal the menu); with `runId`, until the run's Errors tab
   * shows (tried again up to three times).
   */
  async openFromTree(runLabel: string, runId?: string): Promise<void> {
    const row = this.page.locator('.part.sidebar .pane .monaco-list-row', { has: this.page.locator('.label-name', { hasText: runLabel }) }).first();
    await row.waitFor({ timeout: 60_000 });
    const item = this.page.locator('.monaco-menu .action-item', { hasText: 'Error Analysis' }).first();
    const tab = this.page.locator('.part.editor .tabs-container .tab', { hasText: runId ? new RegExp(`Errors: \\S+ ${runId.slice(-6)}$`) : 'Errors: ' });
    for (let tries = 1; ; tries++) {
      // A webview holding the keyboard focus makes the menu ignore the click and Enter.
      await new ExperimentsView(this.page).focusTree();
      for (let attempt = 0; ; attempt++) {
        await row.click({ button: 'right' });
        if (await item.waitFor({ timeout: 5_000 }).then(() => true, () => false)) break;
        if (attempt === 3) throw new Error('no "Error Analysis" in the run\'s context menu');
        await this.page.keyboard.press('Escape');
      }
      await this.page.waitForTimeout(300); // the workbench ignores a click that lands right after a menu opens
      await item.click();
      await this.page.waitForTimeout(300);
      // Under load the menu sometimes keeps the (highlighted) item open after the click: Enter picks it.
      if (await item.isVisible().catch(() => false)) await item.hover().then(() => this.page.keyboard.press('Enter'));
      if (!runId) return;
      if (await tab.first().waitFor({ timeout: 20_000 }).then(() => true, () => false)) return;
      if (tries === 3) throw new Error(`no Errors tab for run ${runId} after three tries`);
      await this.page.keyboard.press('Escape');
    }
  }

  /** Waits for the panel's frame (the newest one when `runId` is given, by its title) and for it to be drawn. */
  async open(runId?: string, timeout = 120_000): Promise<{ frame: FrameLocator; root: Locator }> {
    const deadline = Date.now() + timeout;
    for (;;) {
      const frames = this.page.locator('iframe.webview.ready');
      const n = await frames.count();
      for (let i = n - 1; i >= 0; i--) {
        const frame = this.page.frameLocator('iframe.webview.ready').nth(i).frameLocator('iframe#active-frame');
        const root = frame.locator('#root[data-panel="errorAnalysis"][data-ready="true"]');
        // Frames go by position: one may close (and the rest shift) between these two reads, so a read that fails is a miss, not a wait.
        if ((await root.count()) > 0 && (!runId || (await root.locator('h1').innerText({ timeout: 2_000 }).catch(() => '')).includes(runId))) return { frame, root };
      }
      if (Date.now() > deadline) throw new Error(`no drawn Error Analysis panel${runId ? ` for ${runId}` : ''} within ${timeout} ms`);
      await this.page.waitForTimeout(250);
    }
  }

  /** Selects the examples at these list positions (click, then Ctrl+click), types a tag, Enter. */
  async tag(frame: FrameLocator, positions: number[], tag: string): Promise<void> {
    await frame.locator(`.scroller .row[data-pos="${positions[0]}"]`).click();
    for (const p of positions.slice(1)) await frame.locator(`.scroller .row[data-pos="${p}"]`).click({ modifiers: ['Control'] });
    await this.page.keyboard.press('Enter'); // Enter in the list moves to the tag box
    await this.page.keyboard.type(tag);
    await this.page.keyboard.press('Enter');
  }

  /** The tag table's row of a tag. */
  tagRow(frame: FrameLocator, tag: string): Locator {
    return frame.locator(`[data-role="tag-table"] tr[data-tag-row="${tag}"]`);
  }

  /** Painted pixels of the canvases in the list. */
  async paintedImages(frame: FrameLocator): Promise<number> {
    return frame.locator('.scroller').evaluate((el) => {
      let painted = 0;
      for (const c of el.querySelectorAll('canvas.digit')) {
        const canvas = c as HTMLCanvasElement;
        const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        let any = false;
        for (let i = 3; i < data.length; i += 4) if (data[i] > 0) any = true;
        if (any) painted++;
      }
      return painted;
    });
  }
}
