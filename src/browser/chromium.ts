import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { UsageError } from '../errors.js';

/** Where Chromium is looked for when $HMF_CHROMIUM is not set (Debian's package first). */
export const CHROMIUM_PATHS: readonly string[] = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

/** How to get a browser, for messages. */
export const CHROMIUM_HINT = "install Debian's chromium (apt-get install -y chromium) or set HMF_CHROMIUM to a Chromium executable";

/**
 * Launch flags: nothing on the network but our own server on 127.0.0.1 (the machine's
 * closed network refuses Chromium's own connections), no sandbox (the pages are our own
 * local files, and Chromium refuses to run as root with one), and WebGL on SwiftShader
 * when there is no GPU. Playwright adds --headless and a fresh profile folder, which it
 * removes when the browser closes.
 */
export const CHROMIUM_FLAGS: readonly string[] = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--enable-unsafe-swiftshader',
];

/** The Chromium executable to use: $HMF_CHROMIUM if set, else the first of CHROMIUM_PATHS present; null if none. */
export function findChromium(): string | null {
  const fromEnv = process.env.HMF_CHROMIUM;
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : null;
  return CHROMIUM_PATHS.find((p) => existsSync(p)) ?? null;
}

export interface LaunchedChromium {
  browser: Browser;
  /** e.g. `Chromium 150.0.7871.100`. */
  version: string;
  executable: string;
}

/** The Chromium executable, or a usage error naming `flag` and saying how to get one (checked before any work). */
export function requireChromium(flag: string): string {
  const executable = findChromium();
  if (executable) return executable;
  const where = process.env.HMF_CHROMIUM ? `HMF_CHROMIUM=${process.env.HMF_CHROMIUM} does not exist` : `none of ${CHROMIUM_PATHS.join(', ')} exists`;
  throw new UsageError(`${flag}: no Chromium found (${where}); ${CHROMIUM_HINT}`);
}

/** Starts headless Chromium through playwright-core (never a downloaded browser). */
export async function launchChromium(flag: string): Promise<LaunchedChromium> {
  const executable = requireChromium(flag);
  const { chromium } = await import('playwright-core');
  try {
    const browser = await chromium.launch({ executablePath: executable, headless: true, args: [...CHROMIUM_FLAGS] });
    return { browser, version: `Chromium ${browser.version()}`, executable };
  } catch (err) {
    throw new UsageError(`${flag}: Chromium at ${executable} did not start: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
}
