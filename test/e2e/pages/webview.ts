import type { FrameLocator, Page } from 'playwright-core';

// Functions run in the browser are built from source text: tsx (which runs these specs) wraps
// named functions in a `__name` helper that does not exist in the page.
export const countPaintedPixels = new Function(
  'canvas',
  `const d = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
   let painted = 0;
   for (let i = 3; i < d.length; i += 4) if (d[i] > 0) painted++;
   return painted;`,
) as (canvas: Element) => number;

/** How many pixels of a canvas have exactly the colour [r, g, b] (chart.js fills bars solid). */
export const countColour = new Function(
  'canvas',
  'rgb',
  `const d = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
   let n = 0;
   for (let i = 0; i < d.length; i += 4) if (d[i] === rgb[0] && d[i + 1] === rgb[1] && d[i + 2] === rgb[2] && d[i + 3] === 255) n++;
   return n;`,
) as (canvas: Element, rgb: number[]) => number;

/** The content of the active webview panel: two nested iframes in VS Code's web workbench. */
export class Webview {
  readonly frame: FrameLocator;

  constructor(page: Page) {
    // Webview views (sidebar) carry purpose=webviewView in their src; editor panels carry none.
    this.frame = page
      .frameLocator('iframe.webview.ready:not([src*="purpose=webviewView"])')
      .frameLocator('iframe#active-frame');
  }

  /** Waits for the panel's root to say it has drawn (data-ready="true"). */
  async waitDrawn(timeout = 60_000): Promise<void> {
    await this.frame.locator('#root[data-ready="true"]').waitFor({ timeout, state: 'attached' });
  }

  async rootAttribute(name: string): Promise<string | null> {
    return this.frame.locator('#root').getAttribute(name);
  }

  async text(selector: string): Promise<string> {
    return this.frame.locator(selector).first().innerText();
  }

  async count(selector: string): Promise<number> {
    return this.frame.locator(selector).count();
  }

  /** Number of canvas pixels with some opacity: above zero once a chart has been painted. */
  async paintedPixels(selector: string): Promise<number> {
    return this.frame.locator(selector).first().evaluate(countPaintedPixels);
  }
}

/** Retries a step that a redraw of the panel (a new report arriving) may interrupt. */
export async function settled<T>(step: () => Promise<T>, tries = 5): Promise<T> {
  for (let k = 1; ; k++) {
    try {
      return await step();
    } catch (e) {
      if (k >= tries) throw e;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}
