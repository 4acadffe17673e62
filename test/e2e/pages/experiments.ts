// The Experiments view, the CodeLens of mlloop.json and the Training/Compare panels, as a person
// uses them. Selectors are those of VS Code 1.100 (code-server 4.100.3).
import type { Locator, Page } from 'playwright-core';

/** A run's row: its short name, the experiment and the id's random suffix (src/core/track/format runLabel). */
export const RUN_LABEL = /^[\w.-]+ [0-9a-f]{6}$/;

export class ExperimentsView {
  constructor(private readonly page: Page) {}

  private get pane(): Locator {
    return this.page.locator('.part.sidebar .pane', {
      has: this.page.locator('.pane-header .title', { hasText: 'Experiments' }),
    });
  }

  /** Rows of unnamed runs, in tree order (newest first within an experiment). */
  runRows(): Locator {
    return this.pane.locator('.monaco-list-row', { has: this.page.locator('.label-name', { hasText: RUN_LABEL }) });
  }

  /** The row of a run by its label (`mlp f94b54`). */
  runRow(label: string): Locator {
    return this.pane.locator('.monaco-list-row', { has: this.page.locator('.label-name', { hasText: label }) });
  }

  async description(row: Locator): Promise<string> {
    return ((await row.locator('.label-description').textContent()) ?? '').trim();
  }

  /**
   * The run rows' labels and descriptions, read in one go: the tree re-renders its rows in place when
   * a run is added or finishes, so a label and a description read one after the other can belong to two runs.
   */
  async runs(): Promise<{ label: string; description: string }[]> {
    return this.runRows().evaluateAll((rows) =>
      rows.map((r) => ({
        label: (r.querySelector('.label-name')?.textContent ?? '').trim(),
        description: (r.querySelector('.label-description')?.textContent ?? '').trim(),
      })),
    );
  }

  /** Waits for a run row whose description matches (it may be cut off by the sidebar's width), returns its label. */
  async waitForRun(description: RegExp, timeout = 60_000, except: readonly string[] = []): Promise<string> {
    const deadline = Date.now() + timeout;
    for (;;) {
      const found = (await this.runs()).find((r) => !except.includes(r.label) && description.test(r.description));
      if (found) return found.label;
      if (Date.now() > deadline) throw new Error(`no run row described ${description} within ${timeout} ms`);
      await this.page.waitForTimeout(100);
    }
  }

  /**
   * Moves the keyboard focus from wherever it is (often a webview panel) to the workbench's tree:
   * while a webview holds the focus, a context menu opened on the tree shows but ignores both the
   * click on its item and Enter. The Baseline row has no command, so clicking it opens nothing.
   */
  async focusTree(): Promise<void> {
    await this.pane.locator('.monaco-list-row', { hasText: 'Baseline' }).first().click();
    await this.page.keyboard.press('Escape');
  }

  /**
   * Selects runs (click, then Ctrl+click) and picks an item of their context menu. With `effect`
   * (which waits up to the given ms for what the action shows), the whole gesture is tried again,
   * up to three times, until the effect shows, as a person would click again.
   */
  async contextAction(
    labels: string[],
    action: string,
    effect?: (timeoutMs: number) => Promise<unknown>,
  ): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      await this.focusTree();
      await this.chooseFromMenu(labels, action);
      if (!effect) return;
      const shown = await effect(20_000).then(
        () => true,
        (e: unknown) => (attempt === 3 ? Promise.reject(e) : false),
      );
      if (shown) return;
      await this.page.keyboard.press('Escape');
    }
  }

  /** The row of an experiment by its name. */
  experimentRow(name: string): Locator {
    return this.pane.locator('.monaco-list-row', {
      has: this.page.locator('.label-name', {
        hasText: new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`),
      }),
    });
  }

  /** Picks an item of an experiment row's context menu (right-clicks again if a tree refresh closed the menu). */
  async experimentAction(name: string, action: string): Promise<void> {
    const item = this.page.locator('.monaco-menu .action-item', { hasText: action }).first();
    for (let attempt = 1; ; attempt++) {
      await this.focusTree();
      await this.experimentRow(name).click({ button: 'right' });
      if (
        await item.waitFor({ timeout: 10_000 }).then(
          () => true,
          () => false,
        )
      ) {
        if (
          await this.choose(item).then(
            () => true,
            () => false,
          )
        )
          return;
      }
      await this.page.keyboard.press('Escape');
      await this.page.mouse.move(0, 0);
      if (attempt === 3) throw new Error(`could not choose "${action}" on experiment ${name}`);
    }
  }

  private async chooseFromMenu(labels: string[], action: string): Promise<void> {
    const item = this.page.locator('.monaco-menu .action-item', { hasText: action }).first();
    // A row can move under the pointer when the tree refreshes between clicks, and a refresh closes
    // an open context menu: select again until exactly these rows are selected, their menu offers
    // the action, and the action was chosen before the menu went.
    for (let attempt = 1; ; attempt++) {
      await this.runRow(labels[0]).click();
      for (const l of labels.slice(1)) await this.runRow(l).click({ modifiers: ['Control'] });
      const selected = (await this.pane.locator('.monaco-list-row.selected .label-name').allInnerTexts()).map((t) =>
        t.trim(),
      );
      const exact = selected.length === labels.length && labels.every((l) => selected.includes(l));
      if (exact) {
        await this.runRow(labels.at(-1)!).click({ button: 'right' });
        if (
          await item.waitFor({ timeout: 10_000 }).then(
            () => true,
            () => false,
          )
        ) {
          if (
            await this.choose(item).then(
              () => true,
              () => false,
            )
          )
            return;
        }
        // Close the menu, and move the pointer off the rows: its hover card would take the next click.
        await this.page.keyboard.press('Escape');
        await this.page.mouse.move(0, 0);
        await this.page.keyboard.press('Escape');
      }
      if (attempt === 3)
        throw new Error(
          `could not choose "${action}" after selecting ${JSON.stringify(labels)} (selected ${JSON.stringify(selected)})`,
        );
      await this.page.waitForTimeout(500);
    }
  }

  /** Chooses an item of the open context menu; rejects when the menu closed first. */
  private async choose(item: Locator): Promise<void> {
    // The workbench ignores a click that lands right after a context menu opens: let it settle, and
    // if the menu is still open after the click, choose the hovered item with the keyboard.
    await this.page.waitForTimeout(300);
    await item.hover({ timeout: 10_000 });
    await item.click({ timeout: 10_000 });
    await this.page.waitForTimeout(300);
    if (await item.isVisible().catch(() => false)) {
      await item.hover({ timeout: 10_000 });
      await this.page.keyboard.press('Enter');
    }
  }
}

export class CodeLenses {
  constructor(private readonly page: Page) {}

  /** The lenses with this title, top to bottom. */
  async byTitle(title: string | RegExp): Promise<Locator[]> {
    const anchors = this.page.locator('.part.editor .monaco-editor .codelens-decoration a', { hasText: title });
    await anchors.first().waitFor({ timeout: 60_000 });
    const all = await anchors.all();
    const ys = await Promise.all(all.map(async (a) => (await a.boundingBox())?.y ?? 0));
    return all
      .map((a, i) => ({ a, y: ys[i] }))
      .sort((p, q) => p.y - q.y)
      .map((p) => p.a);
  }

  async titles(): Promise<string[]> {
    return (await this.page.locator('.part.editor .monaco-editor .codelens-decoration a').allInnerTexts()).map((t) =>
      t.trim(),
    );
  }
}

/**
 * The content frame of an ML Loop panel by its `#root[data-panel]` (other webviews, such as
 * sidebar views, may be ready at the same time).
 */
export class PanelFrame {
  constructor(
    private readonly page: Page,
    private readonly panel: 'training' | 'compare',
  ) {}

  /** Waits until one webview frame holds this panel; returns its root. */
  async root(timeout = 60_000): Promise<Locator> {
    const deadline = Date.now() + timeout;
    for (;;) {
      const frames = this.page.locator('iframe.webview.ready');
      const n = await frames.count();
      for (let i = 0; i < n; i++) {
        const root = frames
          .nth(i)
          .contentFrame()
          .locator('iframe#active-frame')
          .contentFrame()
          .locator(`#root[data-panel="${this.panel}"]`);
        if ((await root.count()) > 0) return root;
      }
      if (Date.now() > deadline) throw new Error(`no ${this.panel} panel within ${timeout} ms`);
      await this.page.waitForTimeout(250);
    }
  }

  /** Waits for the root to match an attribute selector, e.g. `[data-status="completed"]`. */
  async waitFor(attributes: string, timeout = 60_000): Promise<Locator> {
    const deadline = Date.now() + timeout;
    for (;;) {
      const root = await this.root(Math.max(1000, deadline - Date.now()));
      if (await root.evaluate((el, sel) => el.matches(sel), `#root${attributes}`).catch(() => false)) return root;
      if (Date.now() > deadline)
        throw new Error(`the ${this.panel} panel did not reach ${attributes} within ${timeout} ms`);
      await this.page.waitForTimeout(200);
    }
  }

  /** Number of canvas pixels with some opacity: above zero once a chart has been painted. */
  async paintedPixels(root: Locator, selector: string): Promise<number> {
    return root
      .locator(selector)
      .first()
      .evaluate((canvas) => {
        const c = canvas as HTMLCanvasElement;
        const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let painted = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
        return painted;
      });
  }
}

/** The `▶ Train` lens over an experiment: the nearest one above the line that names it. */
export async function trainLensFor(page: Page, lenses: CodeLenses, experiment: string): Promise<Locator> {
  const line = page
    .locator('.part.editor .monaco-editor .view-lines .view-line', { hasText: `"${experiment}":` })
    .first();
  await line.waitFor({ timeout: 60_000 });
  const lineY = (await line.boundingBox())!.y;
  let best: { a: Locator; y: number } | undefined;
  for (const a of await lenses.byTitle('▶ Train')) {
    const y = (await a.boundingBox())?.y ?? Infinity;
    if (y < lineY && (!best || y > best.y)) best = { a, y };
  }
  if (!best) throw new Error(`no ▶ Train lens above "${experiment}"`);
  return best.a;
}
