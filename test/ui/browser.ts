import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's chromium package; playwright-core drives it (no browser is ever downloaded). */
export const CHROMIUM = '/usr/bin/chromium';
const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
/** What `npm run build` writes and the app serves at /ui/. */
export const UI_DIR = join(ROOT, 'dist', 'ui');
/** Screenshots of each screen, taken by the test run so that docs/console.md stays current. */
export const SHOTS = join(ROOT, 'docs', 'console');
/** The admin token of the browser tests' configs. */
export const ADMIN_TOKEN = 'console-admin-token-3f9a1c';

/** Skip (saying why) without Chromium; under CI that is a failure, as .ci/run installs it. Needs the built console. */
export function requireBrowser(ctx: Mocha.Context): void {
  if (!existsSync(CHROMIUM)) {
    if (process.env['CI']) throw new Error(`CI is set but ${CHROMIUM} is missing: .ci/run must apt-get install chromium`);
    console.log(`      (skipped: no ${CHROMIUM}; apt-get install chromium to run the browser tests)`);
    ctx.skip();
  }
  if (!existsSync(join(UI_DIR, 'index.html'))) throw new Error(`${UI_DIR}/index.html is missing: run npm run build (npm test does)`);
}

/** Headless Chromium with nothing that talks to the outside (air-gapped like the console's users). */
export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * A laptop-sized page that records every page error, console error, failed request and HTTP error answer, and
 * every request that leaves 127.0.0.1 (the console must work air-gapped: no CDN, no font, no telemetry).
 */
export async function openPage(browser: Browser): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, timezoneId: 'Europe/Berlin', locale: 'en-GB' });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  page.on('request', (req) => {
    const url = new URL(req.url());
    if (url.protocol !== 'data:' && url.hostname !== '127.0.0.1') problems.push(`outside request: ${req.method()} ${req.url()}`);
  });
  page.on('requestfailed', (req) => problems.push(`request failed: ${req.method()} ${req.url()}: ${req.failure()?.errorText ?? ''}`));
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()}: ${res.request().method()} ${res.url()}`);
  });
  return { page, problems };
}

/** Save a screenshot of the viewport as docs/console/NAME.png. */
export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  // The toasts of earlier actions would stand over the screen shown: hidden for the picture only.
  const hide = (visibility: string) =>
    page.locator('.toasts').evaluateAll((els, v) => els.forEach((el) => void ((el as unknown as { style: { visibility: string } }).style.visibility = v)), visibility);
  await hide('hidden');
  await page.screenshot({ path: join(SHOTS, `${name}.png`), animations: 'disabled' });
  await hide('');
}

/** Sign in through the form, with the keyboard (the field has focus; Enter submits). */
export async function signIn(page: Page, base: string, token = ADMIN_TOKEN): Promise<void> {
  await page.goto(`${base}/ui/`);
  await page.getByLabel('Admin token').waitFor();
  await page.keyboard.type(token);
  await page.keyboard.press('Enter');
}

/** Wait for `text` in the page (polling refreshes the view every few seconds). */
export async function waitForText(page: Page, selector: string, text: string | RegExp, timeout = 20_000): Promise<void> {
  await page.locator(selector, { hasText: text }).first().waitFor({ state: 'visible', timeout });
}
