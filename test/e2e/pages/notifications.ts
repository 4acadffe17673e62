import type { Page } from 'playwright-core';

export class Notifications {
  constructor(private readonly page: Page) {}

  /** Waits for a toast whose message contains `text`, once it has faded in; returns its message. */
  async waitFor(text: string | RegExp, timeout = 30_000): Promise<string> {
    const toast = this.page.locator('.notifications-toasts .notification-toast.notification-fade-in-done', {
      has: this.page.locator('.notification-list-item-message', { hasText: text }),
    });
    await toast.first().waitFor({ timeout });
    return (await toast.first().locator('.notification-list-item-message').innerText()).trim();
  }

  async messages(): Promise<string[]> {
    return this.page.locator('.notifications-toasts .notification-list-item-message').allInnerTexts();
  }

  async clearAll(): Promise<void> {
    await this.page.keyboard.press('Escape');
  }
}
