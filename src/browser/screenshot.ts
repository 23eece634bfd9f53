import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { launchChromium } from './chromium.js';
import type { PageMessage } from './session.js';

/** One plot of a page as the browser laid it out. */
export interface RenderedPlot {
  kind: string;
  width: number;
  height: number;
  /** Drawn marks: bars, dots, points. */
  marks: number;
}

export interface RenderedPage {
  browser: string;
  /** Console messages and page errors while it loaded. */
  messages: PageMessage[];
  plots: RenderedPlot[];
  /** Full-page screenshot (PNG). */
  png: Buffer;
}

/**
 * Opens an HTML file (file://) in headless Chromium at `width` CSS pixels, waits for it to
 * load, and returns its plots' laid-out sizes, its console messages and a full-page
 * screenshot (`node dist/scripts/screenshot.js report.html report.png`).
 */
export async function renderPage(htmlPath: string, width = 1200): Promise<RenderedPage> {
  const { browser, version } = await launchChromium('screenshot');
  try {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    const messages: PageMessage[] = [];
    page.on('console', (m) => messages.push({ type: m.type(), text: m.text() }));
    page.on('pageerror', (e) => messages.push({ type: 'pageerror', text: e.message }));
    await page.goto(pathToFileURL(resolve(htmlPath)).href, { waitUntil: 'load' });
    const plots = await page.evaluate(() => {
      // The DOM as far as used here (the project compiles without the DOM library).
      type El = { getAttribute(n: string): string | null; querySelector(s: string): El | null; querySelectorAll(s: string): ArrayLike<El>; getBoundingClientRect(): { width: number; height: number } };
      const document = (globalThis as unknown as { document: El }).document;
      return Array.from(document.querySelectorAll('figure.plot')).map((f) => {
        const svg = f.querySelector('svg');
        const box = svg?.getBoundingClientRect();
        return {
          kind: f.getAttribute('data-plot') ?? '',
          width: box?.width ?? 0,
          height: box?.height ?? 0,
          marks: svg ? svg.querySelectorAll('rect.bar, circle.run, .point').length : 0,
        };
      });
    });
    const png = await page.screenshot({ fullPage: true, type: 'png' });
    return { browser: version, messages, plots, png };
  } finally {
    await browser.close();
  }
}
