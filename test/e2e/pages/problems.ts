import type { Locator, Page } from 'playwright-core';

/** One entry of the Problems panel as the user reads it. */
export interface ProblemRow {
  text: string;
  /** 1-based, from the row's "[Ln 7, Col 15]". */
  line: number;
  column: number;
}

/** The Problems panel (VS Code 1.100). */
export class ProblemsPanel {
  constructor(private readonly page: Page) {}

  private get rows(): Locator {
    return this.page.locator('.part.panel .markers-panel .monaco-list-row');
  }

  /** Opens the panel with its keyboard shortcut, as a person would. */
  async open(): Promise<void> {
    if (!(await this.page.locator('.part.panel .markers-panel').isVisible()))
      await this.page.keyboard.press('Control+Shift+M');
    await this.page.locator('.part.panel .markers-panel').waitFor();
  }

  /** Hides the bottom panel (View: Hide Panel). */
  async close(): Promise<void> {
    if (!(await this.page.locator('.part.panel .markers-panel').isVisible())) return;
    await this.page.keyboard.press('Control+J');
    await this.page.locator('.part.panel .markers-panel').waitFor({ state: 'hidden' });
  }

  /** Waits for an entry whose text matches, and reads its position. */
  async waitFor(text: string | RegExp, timeout = 60_000): Promise<ProblemRow> {
    const row = this.rows.filter({ hasText: text }).first();
    await row.waitFor({ timeout });
    const rowText = (await row.innerText()).replace(/\s+/g, ' ').trim();
    const m = /\[Ln (\d+), Col (\d+)\]/.exec(rowText);
    if (!m) throw new Error(`no [Ln, Col] in the Problems row: ${rowText}`);
    return { text: rowText, line: Number(m[1]), column: Number(m[2]) };
  }

  /** Waits until no entry matches. */
  async waitGone(text: string | RegExp, timeout = 60_000): Promise<void> {
    await this.rows.filter({ hasText: text }).first().waitFor({ state: 'detached', timeout });
  }

  async texts(): Promise<string[]> {
    return (await this.rows.allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
  }
}
