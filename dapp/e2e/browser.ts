/**
 * Debian's Chromium driven by playwright-core (never `npx playwright install`), headless, with every request
 * that leaves the machine blocked and counted: the dApp must make none by default.
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { injectedWalletScript } from "./wallet.ts";

export const CHROMIUM = "/usr/bin/chromium";

export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM)
    ? undefined
    : `${CHROMIUM} is missing: install Debian's chromium (npm test does it as root)`;
}

export interface E2eBrowser {
  browser: Browser;
  /** A page with the injected wallet for `account`; requests off loopback are aborted and recorded. */
  page(opts: { account: string; viewport?: { width: number; height: number } }): Promise<Page>;
  /** URLs of every request that tried to leave the machine. */
  external: string[];
  /** Saves a full-page screenshot as a test artifact under `dir`. */
  screenshot(page: Page, name: string): Promise<string>;
  close(): Promise<void>;
}

const LOOPBACK = /^(https?|wss?):\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\//;

export async function launch(opts: {
  rpcUrl: string;
  chainId: number;
  artifactsDir: string;
}): Promise<E2eBrowser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const external: string[] = [];
  const contexts: BrowserContext[] = [];
  await mkdir(opts.artifactsDir, { recursive: true });
  return {
    browser,
    external,
    async page({ account, viewport }) {
      const context = await browser.newContext({ viewport: viewport ?? { width: 1280, height: 900 } });
      contexts.push(context);
      await context.route("**/*", (route) => {
        const url = route.request().url();
        if (LOOPBACK.test(url) || url.startsWith("data:") || url.startsWith("blob:")) return route.continue();
        external.push(url);
        return route.abort("blockedbyclient");
      });
      await context.addInitScript(
        injectedWalletScript({ rpcUrl: opts.rpcUrl, account, chainId: opts.chainId }),
      );
      return context.newPage();
    },
    async screenshot(page, name) {
      const file = join(opts.artifactsDir, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => {});
      await browser.close();
    },
  };
}
