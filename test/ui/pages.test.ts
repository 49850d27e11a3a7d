import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { loopbackTarget, startApp, type LoopbackTarget, type TestApp } from '../helpers/servers.js';
import { launch, openPage, requireBrowser, signIn, UI_DIR } from './browser.js';
import { group } from './messages.js';

describe('console in Chromium: notification pages', function () {
  this.timeout(120_000);
  let browser: Browser | undefined;
  let app: TestApp | undefined;
  let target: LoopbackTarget | undefined;

  before(function () {
    requireBrowser(this);
  });

  after(async () => {
    await browser?.close();
    await app?.close();
    await target?.close();
  });

  it('shows 50 newest first, then the older ones through the cursor, and back to the newest', async () => {
    target = await loopbackTarget();
    app = await startApp(
      `storage: {path: ":memory:"}
admin: {bearer_token: console-admin-token-3f9a1c}
targets:
  - {name: audit, type: webhook, url: "${target.url}/hook"}
`,
      { uiDir: UI_DIR },
    );
    for (let i = 0; i < 53; i++) expect((await app.post('/webhook', group(`Paged${String(i).padStart(2, '0')}`))).status).to.equal(200);

    browser = await launch();
    const { page, problems } = await openPage(browser);
    await signIn(page, app.base);
    await page.locator('header.top nav a', { hasText: 'Notifications' }).click();
    const names = page.locator('tbody a.alertnames');
    await names.nth(49).waitFor();
    expect(await names.count()).to.equal(50);
    expect(await names.first().innerText()).to.equal('Paged52');
    expect(await names.last().innerText()).to.equal('Paged03');

    await page.getByRole('button', { name: 'Older' }).click();
    await page.locator('tbody a.alertnames', { hasText: 'Paged00' }).waitFor();
    expect(await names.allInnerTexts()).to.deep.equal(['Paged02', 'Paged01', 'Paged00']);
    expect(await page.getByRole('button', { name: 'Older' }).count()).to.equal(0);

    await page.getByRole('button', { name: 'Newest' }).click();
    await page.locator('tbody a.alertnames', { hasText: 'Paged52' }).waitFor();
    expect(await names.count()).to.equal(50);
    expect(problems).to.deep.equal([]);
  });
});
