import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { loopbackTarget, startApp, type LoopbackTarget, type TestApp } from '../helpers/servers.js';
import { ADMIN_TOKEN, launch, openPage, requireBrowser, shot, signIn, UI_DIR } from './browser.js';

/** What the page keeps in sessionStorage, as JSON (evaluated in the page). */
const stored = (page: Page) => page.evaluate<string>('JSON.stringify(Object.entries(sessionStorage))');

describe('console in Chromium: sign-in and read-only mode', function () {
  this.timeout(120_000);
  let browser: Browser | undefined;
  const apps: TestApp[] = [];
  let target: LoopbackTarget | undefined;

  before(async function () {
    requireBrowser(this);
    target = await loopbackTarget();
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await Promise.all(apps.map((a) => a.close()));
    await target?.close();
  });

  const configText = (admin: string) => `storage: {path: ":memory:"}
${admin}
targets:
  - {name: audit, type: webhook, url: "${target?.url}/hook"}
`;
  const start = async (admin: string) => {
    const app = await startApp(configText(admin), { uiDir: UI_DIR });
    apps.push(app);
    return app;
  };

  it('asks for the admin token, refuses a wrong one, keeps the right one out of URLs, and signs out', async () => {
    const app = await start(`admin: {bearer_token: ${ADMIN_TOKEN}}`);
    // Without the token the API refuses every read and action the console would make.
    expect((await app.get('/api/v1/notifications')).status).to.equal(401);
    expect((await app.post('/api/v1/targets/audit/pause', undefined)).status).to.equal(401);
    expect((await app.get('/api/v1/ui/session')).body).to.deep.equal({ tokenRequired: true, authenticated: false, actions: false });

    const { page, problems } = await openPage(browser!);
    await page.goto(`${app.base}/`);
    expect(new URL(page.url()).pathname).to.equal('/ui/');
    await page.getByLabel('Admin token').waitFor();
    // Nothing but the sign-in form: no navigation, no data.
    expect(await page.locator('header.top nav').count()).to.equal(0);
    await shot(page, 'sign-in');

    await signIn(page, app.base, 'not-the-token');
    await page.getByRole('alert').filter({ hasText: 'That token was refused' }).waitFor();
    expect(await stored(page)).to.equal('[]');
    expect(await page.locator('header.top nav').count()).to.equal(0);

    // The field is cleared and typed again with the keyboard; Enter submits.
    await page.getByLabel('Admin token').fill('');
    await page.getByLabel('Admin token').focus();
    await page.keyboard.type(ADMIN_TOKEN);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Overview', exact: true }).waitFor();
    expect(await stored(page)).to.equal(JSON.stringify([['alertmux.adminToken', ADMIN_TOKEN]]));
    expect(page.url()).not.to.include(ADMIN_TOKEN);

    // Keyboard: the first Tab stops are the skip link and the screens, in order.
    await page.keyboard.press('Tab');
    expect(await page.locator(':focus').innerText()).to.equal('Skip to content');
    await page.keyboard.press('Tab');
    expect(await page.locator(':focus').innerText()).to.equal('Overview');
    await page.keyboard.press('Tab');
    expect(await page.locator(':focus').innerText()).to.equal('Notifications');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Notifications', exact: true }).waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin token').waitFor();
    expect(await stored(page)).to.equal('[]');
    expect(problems).to.deep.equal([]);
  });

  it('is read-only without a configured admin token: actions hidden, with the note that enables them', async () => {
    const app = await start('');
    const { page, problems } = await openPage(browser!);
    await page.goto(`${app.base}/ui/#/targets`);
    const card = page.locator('article.target-card[data-target="audit"]');
    await card.waitFor();
    await page.locator('.note.readonly', { hasText: 'admin.bearer_token' }).waitFor();
    expect(await page.locator('header.top .who').innerText()).to.include('Read-only');
    expect(await page.getByRole('button', { name: /Pause|Check now|Try now|Send test alert/ }).count()).to.equal(0);
    await page.goto(`${app.base}/ui/#/deliveries`);
    await page.getByRole('heading', { name: 'Dead letters and queue' }).waitFor();
    expect(await page.getByRole('button', { name: /Replay|Delete/ }).count()).to.equal(0);
    await page.goto(`${app.base}/ui/#/config`);
    await page.locator('pre.config').waitFor();
    expect(await page.getByRole('button', { name: 'Reload config' }).count()).to.equal(0);
    expect(problems).to.deep.equal([]);
  });

  it('asks for the token again when it changes under the console (a reload with a new one)', async () => {
    const app = await start(`admin: {bearer_token: ${ADMIN_TOKEN}}`);
    const { page, problems } = await openPage(browser!);
    await signIn(page, app.base);
    await page.getByRole('heading', { name: 'Overview', exact: true }).waitFor();
    app.setConfig(configText('admin: {bearer_token: the-new-admin-token}'));
    expect((await app.mux.reload()).ok).to.equal(true);
    // The next refresh is refused: the console forgets the token and asks again, saying why.
    await page.getByRole('alert').filter({ hasText: 'alertmux refused the token' }).waitFor({ timeout: 20_000 });
    expect(await stored(page)).to.equal('[]');
    await page.getByLabel('Admin token').fill('the-new-admin-token');
    await page.getByLabel('Admin token').press('Enter');
    await page.getByRole('heading', { name: 'Overview', exact: true }).waitFor();
    // The refused refresh is the only error: its 401 (and the browser's console line about it).
    expect(problems.length).to.be.within(1, 4);
    expect(problems.filter((p) => !/\b401\b/.test(p))).to.deep.equal([]);
  });
});
