import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { eventually, loopbackTarget, startApp, type LoopbackTarget, type TestApp } from '../helpers/servers.js';
import { ADMIN_TOKEN, launch, openPage, requireBrowser, shot, signIn, UI_DIR, waitForText } from './browser.js';
import { group } from './messages.js';

describe('console in Chromium: a failing target, found, inspected and replayed', function () {
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

  it('shows the failed chip and the attempts, replays the dead letter once the target is fixed, and the chip turns delivered', async () => {
    let broken = true;
    const flaky = await loopbackTarget(() => (broken ? { status: 500, body: 'boom: database down' } : { status: 200 }));
    const steady = await loopbackTarget();
    targets.push(flaky, steady);
    app = await startApp(
      `storage: {path: ":memory:"}
admin: {bearer_token: ${ADMIN_TOKEN}}
retry: {initial_backoff: 50ms, max_backoff: 100ms, max_attempts: 2}
targets:
  - {name: flaky, type: webhook, url: "${flaky.url}/hook"}
  - {name: steady, type: webhook, url: "${steady.url}/hook"}
`,
      { uiDir: UI_DIR },
    );
    const name = `DiskFull${Date.now().toString(36)}`;
    // Some history for the overview: a group delivered everywhere before the failing one.
    broken = false;
    expect((await app.post('/webhook', group(`${name}Earlier`, 'db-0'))).status).to.equal(200);
    broken = true;
    expect((await app.post('/webhook', group(name))).status).to.equal(202);
    await eventually(async () => (await app!.get('/api/v1/deliveries?state=dead&target=flaky', auth)).body.deliveries?.length === 1, 'the dead letter');

    browser = await launch();
    const { page, problems } = await openPage(browser);
    await signIn(page, app.base);
    await page.getByRole('heading', { name: 'Overview', exact: true }).waitFor();

    // Found by its alertname, with a failed chip for flaky and a delivered one for steady.
    await page.locator('header.top nav a', { hasText: 'Notifications' }).click();
    await page.getByLabel('Alertname').fill(name);
    await page.getByRole('button', { name: 'Apply filters' }).click();
    const row = page.locator('tbody tr', { has: page.locator('a.alertnames', { hasText: new RegExp(`^${name}$`) }) });
    await row.locator('.chip[data-target="flaky"][data-state="failed"]').waitFor();
    await row.locator('.chip[data-target="steady"][data-state="delivered"]').waitFor();
    expect(await page.locator('tbody tr').count()).to.equal(1);
    expect(page.url()).to.include(`alertname=${name}`).and.not.include(ADMIN_TOKEN);
    await shot(page, 'notifications');
    // The same one by a label matcher in Alertmanager's syntax (the earlier group is on db-0).
    await page.getByRole('button', { name: 'Clear' }).click();
    await page.getByLabel('Label matcher').fill('{instance="db-1", team=~"stor.*"}');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await row.locator('.chip[data-target="flaky"][data-state="failed"]').waitFor();
    expect(await page.locator('tbody tr').count()).to.equal(1);

    // The timeline: both attempts, each with the status and the target's error.
    await row.locator('a.alertnames').click();
    const result = page.locator('article.target-result[data-target="flaky"]');
    await result.locator('table.timeline').waitFor();
    const attempts = result.locator('table.timeline tbody tr');
    expect(await attempts.count()).to.equal(2);
    for (const text of await attempts.allInnerTexts()) expect(text).to.include('500').and.include('serverError').and.include('boom: database down');
    await page.locator('.alert-card dd', { hasText: 'Disk almost full on db-1' }).waitFor();
    expect(await page.getByRole('link', { name: 'runbook_url' }).getAttribute('href')).to.equal('https://runbooks.example.com/DiskFull');
    // What was sent: the request rendered from the stored notification, the body the alert group as flaky received it.
    await result.locator('details summary', { hasText: 'What was sent' }).click();
    const sent = JSON.parse(await result.locator('details pre.payload').innerText()) as { renderedWith: string; method: string; url: string; body: { alerts: unknown[] } };
    expect(sent.renderedWith).to.equal('current config');
    expect(sent.method).to.equal('POST');
    expect(sent.body).to.deep.equal(flaky.received.at(-1)!.body);
    await shot(page, 'notification');

    // Fixed; the dead letter is replayed from the dead letters screen, with a confirmation that counts.
    broken = false;
    const before = flaky.received.length;
    await page.locator('header.top nav a', { hasText: 'Dead letters' }).click();
    await page.locator('tr[data-target="flaky"]').waitFor();
    await page.getByLabel(/^Select delivery .* to flaky$/).check();
    await page.getByText('1 selected').waitFor();
    await shot(page, 'deliveries');
    await page.getByRole('button', { name: 'Replay selected' }).click();
    const dialog = page.locator('dialog.confirm');
    await dialog.getByText('Replay 1 delivery now?').waitFor();
    await dialog.getByRole('button', { name: 'Replay 1' }).click();
    await waitForText(page, '.toast', 'Replayed 1 delivery.');
    await eventually(() => flaky.received.length === before + 1, 'the replayed delivery');

    // The chip turns delivered (the list refreshes by itself), and the timeline keeps the failed attempts.
    await page.goto(`${app.base}/ui/#/notifications?alertname=${name}`);
    await row.locator('.chip[data-target="flaky"][data-state="delivered"]').waitFor({ timeout: 20_000 });
    await row.locator('a.alertnames').click();
    await result.locator('table.timeline tbody tr').nth(2).waitFor();
    expect(await result.locator('table.timeline tbody tr').count()).to.equal(3);
    expect(await result.locator('table.timeline tbody tr').nth(2).innerText()).to.include('(replay)').and.include('200');

    await page.locator('header.top nav a', { hasText: 'Overview' }).click();
    await page.locator('article.tile[data-target="flaky"]').waitFor();
    // Both notifications are delivered now: the chart counts them in the last hour.
    await waitForText(page, '.chart .legend', 'Delivered: 2');
    await shot(page, 'overview');
    await page.locator('header.top nav a', { hasText: 'Targets' }).click();
    await page.locator('article.target-card[data-target="flaky"]').waitFor();
    await shot(page, 'targets');
    await page.locator('header.top nav a', { hasText: 'Config' }).click();
    await page.getByRole('heading', { name: 'Config', exact: true }).waitFor();
    await page.locator('pre.config').waitFor();
    await shot(page, 'config');
    expect(problems).to.deep.equal([]);
  });
});
