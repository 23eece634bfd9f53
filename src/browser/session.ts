import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './chromium.js';
import { harnessHtml, HarnessPage, type RuntimeLoading } from './page.js';
import { startStaticServer, type Mount, type StaticServer } from './server.js';

const requireModule = createRequire(import.meta.url);

/** Folder of the built runtime bundles (dist/runtime, beside dist/src). */
const RUNTIME_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'runtime');

/** A console message or page error seen in the browser. */
export interface PageMessage {
  type: string;
  text: string;
}

/**
 * Headless Chromium, a static server on 127.0.0.1 serving TF.js's browser builds (the
 * same version Node runs), the hmf runtime's bundles and the given model folders, and
 * pages on it. Close it in a finally / after().
 */
export class BrowserSession {
  /** Console messages and page errors of every page opened, in order. */
  readonly messages: PageMessage[] = [];

  private constructor(
    private readonly browser: Browser,
    private readonly server: StaticServer,
    readonly version: string,
  ) {}

  /**
   * Starts the server and the browser. `models` maps a URL folder name to a model folder
   * on disk or in memory (file name -> bytes): `/models/<name>/model.json`.
   */
  static async start(models: Readonly<Record<string, Mount>>, flag = '--browser'): Promise<BrowserSession> {
    const mounts: Record<string, Mount> = {
      '/tfjs/': join(dirname(requireModule.resolve('@tensorflow/tfjs/package.json')), 'dist'),
      '/tfjs-wasm/': dirname(requireModule.resolve('@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js')),
      '/hmf/': RUNTIME_DIR,
      '/page/': new Map((['script', 'module', 'none'] as const).map((r) => [`${r}.html`, harnessHtml(r)])),
    };
    for (const [name, mount] of Object.entries(models)) mounts[`/models/${name}/`] = mount;
    const server = await startStaticServer(mounts);
    try {
      const { browser, version } = await launchChromium(flag);
      return new BrowserSession(browser, server, version);
    } catch (err) {
      await server.close();
      throw err;
    }
  }

  /** URL of a served model's model.json. */
  modelUrl(name: string): string {
    return `${this.server.origin}/models/${name}/model.json`;
  }

  /** Opens a page with stock TF.js (cpu, webgl and wasm backends) and the runtime loaded as asked. */
  async open(runtime: RuntimeLoading = 'script'): Promise<HarnessPage> {
    const page: Page = await this.browser.newPage();
    page.on('console', (m) => this.messages.push({ type: m.type(), text: m.text() }));
    page.on('pageerror', (e) => this.messages.push({ type: 'pageerror', text: e.message }));
    await page.goto(`${this.server.origin}/page/${runtime}.html`);
    if (runtime === 'module') await page.waitForFunction(() => (globalThis as { hmfModuleReady?: boolean }).hmfModuleReady === true);
    return new HarnessPage(page);
  }

  async close(): Promise<void> {
    try {
      await this.browser.close();
    } finally {
      await this.server.close();
    }
  }
}
