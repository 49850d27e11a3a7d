import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { loopbackTarget, startApp, type LoopbackTarget, type TestApp } from '../helpers/servers.js';
import { launch, openPage, requireBrowser, signIn, UI_DIR } from './browser.js';
import { group } from './messages.js';

describe('console in Chromium: pause and resume a target', function () {
  this.timeout(120_000);
  let browser: Browser | undefined;
  let app: TestApp | undefined;
  const targets: LoopbackTarget[] = [];

  before(function () {
    requireBrowser(this);
  });

  after(async () => {
    await browser?.close();
    await app?.close();
    await Promise.all(targets.map((t) => t.close()));
  });

  it('queues new notifications for a paused target and delivers them on resume', async () => {
    const audit = await loopbackTarget();
    const chat = await loopbackTarget();
    targets.push(audit, chat);
    app = await startApp(
      `storage: {path: ":memory:"}
admin: {bearer_token: console-admin-token-3f9a1c}
targets:
  - {name: audit, type: webhook, url: "${audit.url}/hook"}
  - {name: chat, type: webhook, url: "${chat.url}/hook"}
`,
      { uiDir: UI_DIR },
    );
    browser = await launch();
    const { page, problems } = await openPage(browser);
    await signIn(page, app.base);
    await page.locator('header.top nav a', { hasText: 'Targets' }).click();
    const card = page.locator('article.target-card[data-target="audit"]');
    // The other actions of a target, each answered in the live region.
    await card.getByRole('button', { name: 'Send test alert' }).click();
    await page.locator('.toast', { hasText: 'audit: test alert delivered' }).waitFor();
    expect(audit.received.length).to.equal(1);
    expect(chat.received.length).to.equal(0);
    await card.getByRole('button', { name: 'Check now' }).click();
    await page.locator('.toast', { hasText: 'audit: no health probe configured' }).waitFor();
    await card.getByRole('button', { name: 'Try now' }).click();
    await page.locator('.toast', { hasText: 'audit: not tried: nothing queued for this target' }).waitFor();
    await card.getByRole('button', { name: 'Pause' }).click();
    await card.locator('header .badge[data-value="paused"]').waitFor();
    await page.locator('.toast', { hasText: 'audit paused' }).waitFor();

    // While paused: audit gets nothing new, chat gets it at once; the console shows audit's delivery queued.
    const name = `QueueWhilePaused${Date.now().toString(36)}`;
    expect((await app.post('/webhook', group(name))).status).to.equal(202);
    expect(audit.received.length).to.equal(1);
    expect(chat.received.length).to.equal(1);
    await page.goto(`${app.base}/ui/#/notifications?alertname=${name}`);
    const row = page.locator('tbody tr', { has: page.locator('a.alertnames', { hasText: new RegExp(`^${name}$`) }) });
    await row.locator('.chip[data-target="audit"][data-state^="queued"]').waitFor();
    await row.locator('.chip[data-target="chat"][data-state="delivered"]').waitFor();
    await page.goto(`${app.base}/ui/#/deliveries?state=pending&target=audit`);
    await page.locator('tr[data-target="audit"]', { hasText: 'paused' }).waitFor();
    expect(audit.received.length).to.equal(1);

    // Resumed from the console: the queued delivery goes out and the chip turns delivered by itself.
    await page.locator('header.top nav a', { hasText: 'Targets' }).click();
    await card.getByRole('button', { name: 'Resume' }).click();
    await page.locator('.toast', { hasText: 'audit resumed' }).waitFor();
    await card.getByRole('button', { name: 'Pause' }).waitFor();
    await page.goto(`${app.base}/ui/#/notifications?alertname=${name}`);
    await row.locator('.chip[data-target="audit"][data-state="delivered"]').waitFor({ timeout: 20_000 });
    expect(audit.received.length).to.equal(2);
    expect(problems).to.deep.equal([]);
  });
});
