/** An SVG drawn to a PNG by the Chromium the bench already runs: no image library needed. */
import type { BrowserContext } from 'playwright-core';

export async function svgToPng(browser: BrowserContext, svg: string, path: string): Promise<void> {
  const page = await browser.newPage();
  try {
    const size = (name: string) => Number(new RegExp(`${name}="(\\d+)"`).exec(svg)?.[1] ?? 520);
    await page.setViewportSize({ width: size('width'), height: size('height') });
    await page.setContent(`<!doctype html><body style="margin:0">${svg}</body>`);
    await page.screenshot({ path });
  } finally {
    await page.close();
  }
}
