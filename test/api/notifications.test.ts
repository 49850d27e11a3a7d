import { expect } from 'chai';
import { alert } from '../helpers/fixtures.js';
import { byMode, config, group } from '../helpers/console.js';
import { eventually, loopbackTarget, startApp, type LoopbackTarget, type TestApp } from '../helpers/servers.js';
import type { WebhookMessage } from '../../src/alerts/types.js';

const ADMIN = { authorization: 'Bearer adm-7f3e' };
const T0 = Date.parse('2026-11-22T10:00:00Z');

describe('GET /api/v1/notifications', () => {
  let hook: LoopbackTarget;
  let app: TestApp;
  let clock: number;
  const list = async (query = '') => {
    const res = await app.get(`/api/v1/notifications${query}`, ADMIN);
    expect(res.status, res.text).to.equal(200);
    return res.body as { notifications: Array<{ id: string; alertnames: string[]; outcome: string; receivedAt: string; targets: Array<{ target: string; state: string; deliveryId: string; lastError?: string }> }>; nextCursor: string | null };
  };
  const names = async (query = '') => (await list(query)).notifications.map((n) => n.alertnames.join('+'));
  const send = async (msg: WebhookMessage) => {
    clock += 1000;
    const res = await app.post('/webhook', msg);
    expect(res.status, res.text).to.be.oneOf([200, 202]);
    return res.body as { id: string };
  };

  beforeEach(async () => {
    clock = T0;
    hook = await loopbackTarget(byMode);
    app = await startApp(config(hook.url), { now: () => clock });
    // Oldest first: Delivered, Partial, Failed, Accepted (and still pending), Resolved (delivered), Multi (two alertnames).
    await send(group('a', [{ alertname: 'Delivered', team: 'web' }]));
    await send(group('b', [{ alertname: 'Partial', team: 'db', mode: '400', severity: 'critical' }]));
    await send(group('c', [{ alertname: 'Failed', team: 'db', mode: '400', route: 'hook-only' }]));
    await send(group('d', [{ alertname: 'Accepted', team: 'db', mode: '503', route: 'hook-only' }], { receiver: 'other' }));
    await send(group('e', [{ alertname: 'Resolved', team: 'web' }], { status: 'resolved', alerts: [alert({ alertname: 'Resolved', team: 'web' }, { status: 'resolved', endsAt: '2026-11-22T10:00:05Z' })] }));
    await send(group('f', [{ alertname: 'Multi', team: 'web', severity: 'warning' }, { alertname: 'Other', team: 'web', severity: 'critical' }]));
    await app.mux.dispatcher.idle();
  });

  afterEach(async () => {
    await app.close();
    await hook.close();
  });

  it('lists every notification newest first, with its outcome and one entry per delivery', async () => {
    const page = await list();
    expect(page.notifications.map((n) => [n.alertnames.join('+'), n.outcome])).to.deep.equal([
      ['Multi+Other', 'delivered'],
      ['Resolved', 'delivered'],
      ['Accepted', 'accepted'],
      ['Failed', 'failed'],
      ['Partial', 'partial'],
      ['Delivered', 'delivered'],
    ]);
    expect(page.nextCursor).to.equal(null);
    const partial = page.notifications[4]!;
    expect(partial.receivedAt).to.equal(new Date(T0 + 2000).toISOString());
    expect(partial.targets).to.deep.equal([
      { target: 'logs', type: 'log', deliveryId: partial.targets[0]?.deliveryId, state: 'delivered', attempts: 1 },
      {
        target: 'hook',
        type: 'webhook',
        deliveryId: partial.targets[1]?.deliveryId,
        state: 'dead',
        attempts: 1,
        lastStatus: 400,
        lastReason: 'clientError',
        lastError: partial.targets[1]?.lastError,
      },
    ]);
    expect(partial.targets[1]?.lastError).to.match(/400/);
    expect(page.notifications[0]).to.include({ alerts: 2, receiver: 'fanout', groupKey: '{}:{group="f"}', status: 'firing' });
  });

  it('filters by alertname, exactly, whichever alert of the group carries it', async () => {
    expect(await names('?alertname=Other')).to.deep.equal(['Multi+Other']);
    expect(await names('?alertname=Partial')).to.deep.equal(['Partial']);
    expect(await names('?alertname=Parti')).to.deep.equal([]);
  });

  it('filters by receiver, group key and status', async () => {
    expect(await names('?receiver=other')).to.deep.equal(['Accepted']);
    expect(await names(`?groupKey=${encodeURIComponent('{}:{group="c"}')}`)).to.deep.equal(['Failed']);
    expect(await names('?status=resolved')).to.deep.equal(['Resolved']);
    expect(await names('?status=firing')).to.have.length(5);
  });

  it('filters by outcome, as of now', async () => {
    expect(await names('?outcome=delivered')).to.deep.equal(['Multi+Other', 'Resolved', 'Delivered']);
    expect(await names('?outcome=partial')).to.deep.equal(['Partial']);
    expect(await names('?outcome=failed')).to.deep.equal(['Failed']);
    expect(await names('?outcome=accepted')).to.deep.equal(['Accepted']);
    expect(await names('?outcome=pending')).to.deep.equal(['Accepted']);
    // The dead letter replayed once the target is fixed: the notification is delivered now.
    const failed = (await list('?alertname=Failed')).notifications[0]!;
    const dead = failed.targets.find((t) => t.target === 'hook')!;
    expect(dead.state).to.equal('dead');
    hook.reply = () => ({ status: 200 });
    expect((await app.post('/api/v1/deliveries/replay', { ids: [dead.deliveryId] }, ADMIN)).status).to.equal(202);
    // Replayed, it is pending (no longer failed) until the attempt is written: wait for the delivery itself.
    await eventually(async () => (await names('?outcome=delivered')).includes('Failed'), 'the replayed dead letter delivered');
    expect(await names('?outcome=delivered')).to.deep.equal(['Multi+Other', 'Resolved', 'Failed', 'Delivered']);
    expect(await names('?outcome=failed')).to.deep.equal([]);
  });

  it('filters by target: the notifications that went (or go) to it, not those it filtered out', async () => {
    expect(await names('?target=hook')).to.deep.equal(['Accepted', 'Failed', 'Partial']);
    expect(await names('?target=logs')).to.deep.equal(['Multi+Other', 'Resolved', 'Partial', 'Delivered']);
    expect(await names('?target=nobody')).to.deep.equal([]);
  });

  it('filters by time: RFC 3339 or a duration before now, both bounds inclusive', async () => {
    expect(await names(`?since=${new Date(T0 + 5000).toISOString()}`)).to.deep.equal(['Multi+Other', 'Resolved']);
    expect(await names(`?until=${encodeURIComponent('2026-11-22T10:00:02+00:00')}`)).to.deep.equal(['Partial', 'Delivered']);
    // now is T0 + 6 s: 2s before it is T0 + 4 s.
    expect(await names('?since=2s')).to.deep.equal(['Multi+Other', 'Resolved', 'Accepted']);
    expect(await names(`?since=${new Date(T0 + 2000).toISOString()}&until=${new Date(T0 + 3000).toISOString()}`)).to.deep.equal(['Failed', 'Partial']);
  });

  it('filters by an Alertmanager matcher set applied to any alert of the group', async () => {
    expect(await names(`?match=${encodeURIComponent('{severity="critical"}')}`)).to.deep.equal(['Multi+Other', 'Partial']);
    expect(await names(`?match=${encodeURIComponent('{severity="critical",team=~"d.*"}')}`)).to.deep.equal(['Partial']);
    expect(await names(`?match=${encodeURIComponent('team!="web"')}`)).to.deep.equal(['Accepted', 'Failed', 'Partial']);
    expect(await names(`?match=${encodeURIComponent('{severity="critical"}')}&target=hook`)).to.deep.equal(['Partial']);
  });

  it('fills a page a matcher thins out by asking the ledger again after the last row read, and goes on from its cursor', async () => {
    // One per page: the ledger answers two rows at a time, so the second match is several asks further down.
    const match = `match=${encodeURIComponent('{severity="critical"}')}`;
    const first = await list(`?${match}&limit=1`);
    expect(first.notifications.map((n) => n.alertnames[0])).to.deep.equal(['Multi']);
    const second = await list(`?${match}&limit=1&cursor=${first.nextCursor}`);
    expect(second.notifications.map((n) => n.alertnames[0])).to.deep.equal(['Partial']);
    const third = await list(`?${match}&limit=1&cursor=${second.nextCursor}`);
    expect(third.notifications).to.deep.equal([]);
    expect(third.nextCursor).to.equal(null);
  });

  it('pages with a cursor that neither repeats nor skips while new notifications arrive', async () => {
    for (let i = 0; i < 14; i++) await send(group(`p${i}`, [{ alertname: `Page${i}`, team: 'web' }]));
    const before = (await list('?limit=1000')).notifications.map((n) => n.id);
    expect(before).to.have.length(20);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await list(`?limit=6${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.notifications.map((n) => n.id));
      cursor = page.nextCursor;
      pages++;
      // Between pages: newer notifications arrive (and one with the same time as the newest).
      await send(group(`new${pages}`, [{ alertname: `New${pages}`, team: 'web' }]));
    } while (cursor);
    expect(pages).to.equal(4);
    expect(seen).to.deep.equal(before);
  });

  it('ends the page at the limit, with a cursor only when more may follow', async () => {
    const first = await list('?limit=2');
    expect(first.notifications.map((n) => n.alertnames[0])).to.deep.equal(['Multi', 'Resolved']);
    expect(first.nextCursor).to.be.a('string');
    const rest = await list(`?limit=4&cursor=${first.nextCursor}`);
    expect(rest.notifications.map((n) => n.alertnames[0])).to.deep.equal(['Accepted', 'Failed', 'Partial', 'Delivered']);
    expect(rest.nextCursor).to.equal(null);
    // A filtered page pages the filtered list.
    const firstHook = await list('?target=hook&limit=2');
    expect(firstHook.notifications.map((n) => n.alertnames[0])).to.deep.equal(['Accepted', 'Failed']);
    expect((await list(`?target=hook&limit=2&cursor=${firstHook.nextCursor}`)).notifications.map((n) => n.alertnames[0])).to.deep.equal(['Partial']);
  });

  it('needs the admin token', async () => {
    expect((await app.get('/api/v1/notifications')).status).to.equal(401);
    expect((await app.get('/api/v1/notifications', { authorization: 'Bearer wrong' })).status).to.equal(401);
  });

  it('answers 400 with the reason for a bad parameter', async () => {
    const cases: Array<[string, RegExp]> = [
      ['status=dead', /query parameter status must be one of firing, resolved/],
      ['outcome=ok', /query parameter outcome must be one of delivered, partial, failed, accepted, pending/],
      ['since=yesterday', /query parameter since must be an RFC 3339 time .* or a duration before now/],
      ['until=2026-11-22', /query parameter until must be an RFC 3339 time/],
      ['match=' + encodeURIComponent('{severity=~"("}'), /query parameter match is not a matcher set: .*invalid regex/],
      ['match=' + encodeURIComponent('{severity'), /query parameter match is not a matcher set/],
      ['limit=0', /query parameter limit must be a whole number from 1 to 1000/],
      ['limit=1001', /query parameter limit must be a whole number from 1 to 1000/],
      ['cursor=not-a-cursor', /query parameter cursor must be the nextCursor of a previous page/],
      ['alertname=', /query parameter alertname must be 1 to 256 characters/],
      ['alertname=A&alertname=B', /query parameter alertname must be given once/],
      ['state=dead', /unknown query parameter "state"/],
    ];
    for (const [query, message] of cases) {
      const res = await app.get(`/api/v1/notifications?${query}`, ADMIN);
      expect(res.status, query).to.equal(400);
      expect(res.body.error, query).to.match(message);
    }
  });
});
