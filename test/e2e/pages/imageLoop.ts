// The image loop of the Error Analysis panel as a person uses it: Augment… with its preview, finding
// images like an error, labelling unlabelled picks, the embedding map. Selectors of VS Code 1.100.
import type { FrameLocator, Locator, Page } from 'playwright-core';

export class ImageLoopPage {
  constructor(
    private readonly page: Page,
    private readonly frame: FrameLocator,
  ) {}

  /** Types the count in a tag's row and presses its Augment…: the preview section opens. */
  async augmentTag(tag: string, count: number): Promise<Locator> {
    const row = this.frame.locator(`[data-role="tag-table"] tr[data-tag-row="${tag}"]`);
    await row.locator('input.count').fill(String(count));
    await row.locator('[data-action="augment"]').click();
    return this.preview();
  }

  preview(): Locator {
    return this.frame.locator('[data-role="augment-preview"]');
  }

  /** Waits until the preview grid holds its images, drawn. */
  async waitForPreviewImages(timeout = 90_000): Promise<number> {
    const grid = this.frame.locator('[data-role="preview-grid"]');
    await grid.waitFor({ timeout });
    return grid.locator('figure').count();
  }

  similar(): Locator {
    return this.frame.locator('[data-role="similar"]');
  }

  /** Thumbnails of one place of the similar images (train, dev, unlabelled). */
  thumbnails(place: 'train' | 'dev' | 'unlabelled'): Locator {
    return this.frame.locator(`[data-similar="${place}"] canvas`);
  }

  /** Clicks the list row at `pos` (the detail view follows it), then Find More Like These. */
  async findMoreLikeRow(pos: number): Promise<void> {
    await this.frame.locator(`.scroller .row[data-pos="${pos}"]`).click();
    const find = this.frame.locator('[data-action="find-more"]');
    await find.waitFor({ timeout: 20_000 });
    await find.click();
  }

  /** Labels the k-th unlabelled pick with `label` (which ticks it). */
  async labelPick(k: number, label: string): Promise<string> {
    const pick = this.frame.locator('[data-similar="unlabelled"] figure.pick').nth(k);
    await pick.locator('select').selectOption(label);
    return (await pick.getAttribute('data-file'))!;
  }

  /** Drags a box over the middle of the map (fractions of its width and height). */
  async brush(from: [number, number], to: [number, number]): Promise<void> {
    const canvas = this.frame.locator('[data-role="map-canvas"]');
    const box = (await canvas.boundingBox())!;
    await this.page.mouse.move(box.x + box.width * from[0], box.y + box.height * from[1]);
    await this.page.mouse.down();
    await this.page.mouse.move(box.x + box.width * to[0], box.y + box.height * to[1], { steps: 8 });
    await this.page.mouse.up();
  }
}
