import type { Page } from 'playwright-core';

/** The active text editor, driven with the keyboard. */
export class TextEditor {
  constructor(private readonly page: Page) {}

  /** Ctrl+P, the file name, Enter: opens a workspace file as a person would. */
  async quickOpen(fileName: string): Promise<void> {
    // An Enter that lands while Quick Open is still filling its list can open nothing (seen in a
    // clean-clone run): try again, as a person would, when no tab shows the file.
    for (let attempt = 1; ; attempt++) {
      await this.page.keyboard.press('Control+P');
      const input = this.page.locator('.quick-input-widget .quick-input-box input');
      // A key that lands while a dialog or another widget is closing can open nothing: press again.
      if (
        !(await input.waitFor({ timeout: 5_000 }).then(
          () => true,
          () => attempt === 3,
        ))
      )
        continue;
      await input.fill(fileName);
      await this.page.locator('.quick-input-widget .monaco-list-row', { hasText: fileName }).first().waitFor();
      await this.page.waitForTimeout(200);
      await this.page.keyboard.press('Enter');
      const tab = this.page.locator('.part.editor .tab.active .label-name', { hasText: fileName }).first();
      if (
        await tab.waitFor({ timeout: 10_000 }).then(
          () => true,
          () => attempt === 3,
        )
      )
        break;
      await this.page.keyboard.press('Escape');
    }
    await this.focus(fileName);
  }

  /** Waits for the active tab to be `fileName` and puts the focus in its text. */
  async focus(fileName: string): Promise<void> {
    await this.page.locator('.part.editor .tab.active .label-name', { hasText: fileName }).first().waitFor();
    await this.page.locator('.part.editor .editor-instance .monaco-editor .view-lines').first().click();
  }

  /** Ctrl+G, the line number, Enter: the cursor at the start of that line. */
  async goToLine(line: number): Promise<void> {
    await this.page.keyboard.press('Control+G');
    const input = this.page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor();
    await input.fill(`:${line}`);
    await this.page.keyboard.press('Enter');
    await this.page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
    // Quick input hands the focus back to the editor a moment after it hides; keys pressed before
    // that go nowhere (a clean-clone run once lost the character typed next).
    await this.waitFocused();
  }

  /** Waits until the text of an editor has the keyboard focus. */
  async waitFocused(): Promise<void> {
    await this.page.locator('.part.editor .monaco-editor.focused').first().waitFor();
  }

  async press(key: string, times = 1): Promise<void> {
    for (let i = 0; i < times; i++) await this.page.keyboard.press(key);
  }

  /**
   * Types text without line breaks into the focused editor and waits for the cursor to move past it
   * (the tab's dirty mark is no sign: code-server saves after a second by default and hides it).
   */
  async type(text: string): Promise<void> {
    await this.waitFocused();
    const before = await this.steadyCursor();
    await this.page.keyboard.type(text, { delay: 40 });
    const after = new RegExp(`Ln ${before.line}, Col ${before.column + text.length}(\\D|$)`);
    await this.page.locator('.part.statusbar .statusbar-item', { hasText: after }).first().waitFor({ timeout: 10_000 });
  }

  async save(): Promise<void> {
    await this.page.keyboard.press('Control+S');
    await this.page.locator('.part.editor .tab.active.dirty').waitFor({ state: 'detached' });
  }

  /** The cursor once the status bar shows the same position twice in a row (it lags the keys). */
  private async steadyCursor(): Promise<{ line: number; column: number }> {
    let last = await this.cursor();
    for (let i = 0; i < 20; i++) {
      await this.page.waitForTimeout(150);
      const now = await this.cursor();
      if (now.line === last.line && now.column === last.column) return now;
      last = now;
    }
    return last;
  }

  /** The "Ln 12, Col 1" of the status bar. */
  async cursor(): Promise<{ line: number; column: number }> {
    const text = await this.page
      .locator('.part.statusbar .statusbar-item', { hasText: /^Ln \d+, Col \d+/ })
      .first()
      .innerText();
    const m = /Ln (\d+), Col (\d+)/.exec(text)!;
    return { line: Number(m[1]), column: Number(m[2]) };
  }
}
