import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { eventually, loopbackTarget, startApp, type LoopbackTarget, type TestApp } from '../helpers/servers.js';
import { ADMIN_TOKEN, launch, openPage, requireBrowser, signIn, UI_DIR, waitForText } from './browser.js';
import { group } from './messages.js';

describe('console in Chromium: dead letters, bulk delete and replay by filter', function () {
  this.timeout(120_000);
  let browser: Browser | undefined;
  let app: TestApp | undefined;
  const targets: LoopbackTarget[] = [];
  const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

  before(function () {
    requireBrowser(this);
  });

  after(async () => {
    await browser?.close();
    await app?.close();
    await Promise.all(targets.map((t) => t.close()));
  });

  it('deletes the selected dead letters after a confirmation that counts them, and replays the rest by filter', async () => {
    let refusing = true;
    // 400 is permanent: each notification is dead-lettered at its first attempt.
    const hook = await loopbackTarget(() => (refusing ? { status: 400, body: 'bad payload' } : { status: 200 }));
    targets.push(hook);
    app = await startApp(
      `storage: {path: ":memory:"}
admin: {bearer_token: ${ADMIN_TOKEN}}
targets:
  - {name: hook, type: webhook, url: "${hook.url}/hook"}
`,
      { uiDir: UI_DIR },
    );
    for (const n of ['One', 'Two', 'Three']) expect((await app.post('/webhook', group(`Dead${n}`))).status).to.equal(202);
    const dead = async () => (await app!.get('/api/v1/deliveries?state=dead&target=hook', auth)).body.deliveries as Array<{ id: string }>;
    await eventually(async () => (await dead()).length === 3, 'three dead letters');

    browser = await launch();
    const { page, problems } = await openPage(browser);
    await signIn(page, app.base);
    await page.locator('header.top nav a', { hasText: 'Dead letters' }).click();
    const rows = page.locator('tbody tr[data-target="hook"]');
    await rows.nth(2).waitFor();
    expect(await rows.count()).to.equal(3);

    // All selected, then cancelled: nothing is deleted.
    await page.getByLabel('Select all on this page').check();
    await page.getByText('3 selected').waitFor();
    await page.getByRole('button', { name: 'Delete selected' }).click();
    const dialog = page.locator('dialog.confirm');
    await dialog.getByText('Delete 3 deliveries?').waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect((await dead()).length).to.equal(3);

    // One selected and deleted.
    await page.getByLabel('Select all on this page').uncheck();
    const first = await rows.first().getAttribute('data-id');
    await rows.first().getByRole('checkbox').check();
    await page.getByRole('button', { name: 'Delete selected' }).click();
    await dialog.getByText('Delete 1 delivery?').waitFor();
    await dialog.getByRole('button', { name: 'Delete 1' }).click();
    await waitForText(page, '.toast', 'Deleted 1 delivery.');
    const left = await dead();
    expect(left.map((d) => d.id)).to.have.length(2).and.not.include(first);
    await eventually(async () => (await rows.count()) === 2, 'the list without the deleted one');

    // The target is fixed; every dead letter of it replayed by filter, the confirmation saying how many.
    refusing = false;
    const received = hook.received.length;
    await page.getByRole('textbox', { name: 'Target' }).last().fill('hook');
    await page.getByRole('button', { name: 'Replay dead letters…' }).click();
    await dialog.getByText('Replay 2 dead letters of hook?').waitFor();
    await dialog.getByRole('button', { name: 'Replay', exact: true }).click();
    await waitForText(page, '.toast', 'Replayed 2 deliveries of hook.');
    await eventually(() => hook.received.length === received + 2, 'the two replayed deliveries');
    await page.getByText('Nothing here.').waitFor({ timeout: 20_000 });
    expect(problems).to.deep.equal([]);
  });
});
