// The Deployments view as a person reads it: server rows (URL), model rows, version rows ("v1") with
// their description (alias · run · requests). Selectors are those of VS Code 1.100.
import type { Locator, Page } from 'playwright-core';

export class DeploymentsView {
  constructor(private readonly page: Page) {}

  get pane(): Locator {
    return this.page.locator('.part.sidebar .pane', {
      has: this.page.locator('.pane-header .title', { hasText: 'Deployments' }),
    });
  }

  row(label: string | RegExp): Locator {
    return this.pane.locator('.monaco-list-row', { has: this.page.locator('.label-name', { hasText: label }) }).first();
  }

  async description(label: string | RegExp): Promise<string> {
    return (await this.row(label).locator('.label-description').innerText()).trim();
  }

  /** Waits until the row's description matches. */
  async waitForDescription(label: string | RegExp, description: RegExp, timeout = 60_000): Promise<string> {
    const row = this.pane
      .locator('.monaco-list-row', { has: this.page.locator('.label-name', { hasText: label }) })
      .filter({ has: this.page.locator('.label-description', { hasText: description }) });
    await row.first().waitFor({ timeout });
    return (await row.first().locator('.label-description').innerText()).trim();
  }
}
