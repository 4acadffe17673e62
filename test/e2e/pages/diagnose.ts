// The Diagnostics panel, the Run Diagnostics view and the editor's quick-fix menu, as a person uses
// them. Selectors are those of VS Code 1.100 (code-server 4.100.3).
import type { FrameLocator, Locator, Page } from 'playwright-core';

/** The content frame of a webview (panel or sidebar view) whose root says `data-panel="<name>"`. */
export async function webviewRoot(
  page: Page,
  name: 'diagnostics' | 'runDiagnostics',
  timeout = 120_000,
): Promise<{ frame: FrameLocator; root: Locator }> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const frames = page.locator('iframe.webview.ready');
    const n = await frames.count();
    for (let i = 0; i < n; i++) {
      const frame = frames.nth(i).contentFrame().locator('iframe#active-frame').contentFrame();
      const root = frame.locator(`#root[data-panel="${name}"]`);
      if ((await root.count()) > 0)
        return { frame: page.frameLocator('iframe.webview.ready').nth(i).frameLocator('iframe#active-frame'), root };
    }
    if (Date.now() > deadline) throw new Error(`no ${name} webview within ${timeout} ms`);
    await page.waitForTimeout(250);
  }
}

/** Waits until the root is drawn (`data-ready="true"`). */
export async function waitDrawn(root: Locator, timeout = 120_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await root.evaluate((el) => el.getAttribute('data-ready') === 'true').catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`webview not drawn within ${timeout} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Painted (non-transparent) pixels of a canvas. */
export function paintedPixels(canvas: Locator): Promise<number> {
  return canvas.evaluate((c) => {
    const el = c as HTMLCanvasElement;
    const data = el.getContext('2d')!.getImageData(0, 0, el.width, el.height).data;
    let painted = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
    return painted;
  });
}

export class QuickFixMenu {
  constructor(private readonly page: Page) {}

  /** Ctrl+. at the cursor, then the item whose label matches. */
  async apply(label: string | RegExp): Promise<void> {
    await this.page.keyboard.press('Control+.');
    // A closed menu can stay in the DOM hidden: only the visible one counts.
    const item = this.page
      .locator('.action-widget .monaco-list-row', { hasText: label })
      .filter({ visible: true })
      .first();
    await item.waitFor({ timeout: 30_000 });
    // The menu's rows keep moving while it lays out (playwright never sees them "stable"): click where the row is.
    await item.click({ force: true });
  }

  /** The labels the menu offers at the cursor (closes it again). */
  async labels(): Promise<string[]> {
    await this.page.keyboard.press('Control+.');
    const rows = this.page.locator('.action-widget .monaco-list-row').filter({ visible: true });
    await rows.first().waitFor({ timeout: 30_000 });
    const labels = (await rows.allInnerTexts()).map((t) => t.trim());
    await this.page.keyboard.press('Escape');
    return labels;
  }
}
