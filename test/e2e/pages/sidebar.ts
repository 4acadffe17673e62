import type { Locator, Page } from 'playwright-core';

export class Sidebar {
  constructor(private readonly page: Page) {}

  activityItem(title: string): Locator {
    return this.page.locator(`.part.activitybar .action-item a[aria-label^="${title}"]`);
  }

  /** Opens a view container from the activity bar unless it is already showing. */
  async open(title: string): Promise<void> {
    if (!(await this.isShowing(title))) await this.activityItem(title).click();
    await this.page.locator('.part.sidebar .composite.title h2', { hasText: title }).waitFor();
  }

  /**
   * Opens the ML Loop sidebar (it opens by itself on a workspace's first activation) and waits until
   * the project is indexed: the Experiments view lists `experiment`.
   */
  async openProject(experiment: string): Promise<void> {
    const title = this.page.locator('.part.sidebar .composite.title h2', { hasText: /ML Loop/i });
    if (!(await title.isVisible())) await this.activityItem('ML Loop').click({ timeout: 60_000 });
    await title.waitFor({ timeout: 60_000 });
    await this.page
      .locator('.part.sidebar .monaco-list-row .label-name', { hasText: experiment })
      .first()
      .waitFor({ timeout: 90_000 });
  }

  async isShowing(title: string): Promise<boolean> {
    return this.page
      .locator('.part.sidebar .composite.title h2', { hasText: new RegExp(`^${title}`, 'i') })
      .isVisible();
  }

  /** Title of the container shown in the sidebar. */
  async containerTitle(): Promise<string> {
    return (await this.page.locator('.part.sidebar .composite.title h2').innerText()).trim();
  }

  /** Names of the views (panes) of the open container. */
  async viewNames(): Promise<string[]> {
    return (await this.page.locator('.part.sidebar .pane-header .title').allInnerTexts()).map((t) => t.trim());
  }

  /** Labels of the tree rows of a view, once it shows at least one. */
  async treeLabels(view: string): Promise<string[]> {
    const pane = this.page.locator('.part.sidebar .pane', {
      has: this.page.locator('.pane-header .title', { hasText: view }),
    });
    const labels = pane.locator('.monaco-list-row .label-name');
    await labels.first().waitFor();
    return labels.allInnerTexts();
  }

  /** Text of a view's welcome content. */
  async welcomeText(view: string): Promise<string> {
    const pane = this.page.locator('.part.sidebar .pane', {
      has: this.page.locator('.pane-header .title', { hasText: view }),
    });
    const welcome = pane.locator('.welcome-view-content');
    await welcome.waitFor();
    return welcome.innerText();
  }
}
