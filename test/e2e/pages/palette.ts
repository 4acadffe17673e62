import type { Page } from 'playwright-core';

export class Palette {
  constructor(private readonly page: Page) {}

  private get widget() {
    return this.page.locator('.quick-input-widget');
  }

  /** Runs a command by its full title ("ML Loop: Open Data Panel") as a person would: F1, type, Enter. */
  async run(title: string): Promise<void> {
    const input = this.widget.locator('.quick-input-box input');
    // F1 pressed while a modal dialog is still closing opens nothing (seen in a clean-clone run):
    // press it again, as a person would.
    for (let attempt = 1; ; attempt++) {
      await this.page.keyboard.press('F1');
      if (
        await input.waitFor({ timeout: 5_000 }).then(
          () => true,
          () => attempt === 3,
        )
      )
        break;
    }
    await input.waitFor();
    await input.fill(`>${title}`);
    // Click the row that shows the title: Enter would run whichever row has focus, which can be a
    // stale one while the list is still filtering on a busy machine.
    const row = this.widget
      .locator('.monaco-list-row:visible', { has: this.page.locator('.label-name', { hasText: title }) })
      .first();
    await row.waitFor();
    await row.click();
    await this.widget.waitFor({ state: 'hidden' }).catch(() => {});
  }

  /** Picks an item of an open quick pick by its label. */
  async pick(label: string): Promise<void> {
    // Visible rows only: the widget can keep an earlier pick's list, hidden, with a row of the same
    // label (seen in a clean-clone run: the first match stayed hidden until the timeout).
    const row = this.widget.locator('.monaco-list-row:visible', { hasText: label }).first();
    await row.waitFor();
    await row.click();
  }

  async isOpen(): Promise<boolean> {
    return this.widget.isVisible();
  }
}
