import { expect } from 'chai';
import { FakeClock } from '../helpers/clock.js';
import { eventually, loopbackTarget, startApp, type LoopbackTarget, type TestApp } from '../helpers/servers.js';
import type { WebhookMessage } from '../../src/alerts/types.js';

const MIN = 60_000;
const T0 = Date.parse('2026-12-06T10:00:00Z');

function watchdog(): WebhookMessage {
  return {
    version: '4',
    groupKey: '{}/{alertname="Watchdog"}:{alertname="Watchdog"}',
    status: 'firing',
    receiver: 'alertmux-heartbeat',
    groupLabels: { alertname: 'Watchdog' },
    commonLabels: { alertname: 'Watchdog', severity: 'none' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    alerts: [
      {
        status: 'firing',
        labels: { alertname: 'Watchdog', severity: 'none' },
        annotations: { summary: 'An alert that should always be firing' },
        startsAt: '2026-12-06T09:00:00Z',
        endsAt: '0001-01-01T00:00:00Z',
        fingerprint: 'e5c4f8e2d0a1b3c7',
      },
    ],
  };
}

/** The value of an unlabelled metric in a scrape. */
function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1]);
}

describe("dead man's switch in the app (fake clock, loopback targets)", () => {
  let pager: LoopbackTarget;
  let chat: LoopbackTarget;
  let clock: FakeClock;
  let t: TestApp;
  const configText = (deadman: string) => `
storage: {path: ":memory:"}
targets:
  - {name: pager, type: webhook, url: "${pager.url}/pager", match: ['team="sre"'], match_route: ['team="sre"']}
  - {name: chat, type: webhook, url: "${chat.url}/chat"}
${deadman}`;

  beforeEach(async () => {
    pager = await loopbackTarget();
    chat = await loopbackTarget();
    clock = new FakeClock(T0);
    t = await startApp(configText('deadman: {timeout: 5m, targets: [pager]}'), { now: clock.now, timers: clock });
  });
  afterEach(async () => {
    await t.close();
    await pager.close();
    await chat.close();
  });
  const advance = (ms: number) => clock.advance(ms, () => t.mux.deadman.idle());
  const bodies = (target: LoopbackTarget) => target.received.map((r) => r.body as WebhookMessage);

  it('pages its targets once after a silence (whatever their matchers), and resolves the page when the heartbeat returns', async () => {
    const res = await t.post('/webhook', watchdog());
    expect(res.status).to.equal(200);
    // The heartbeat is dispatched as usual: to the catch-all target, not to the one whose matchers exclude it.
    expect(res.body.targets.map((x: { target: string; state: string }) => `${x.target}:${x.state}`)).to.deep.equal(['pager:skipped', 'chat:succeeded']);
    expect((await t.get('/api/v1/deadman')).body).to.deep.include({ state: 'ok', lastHeartbeatAt: new Date(T0).toISOString() });

    await advance(5 * MIN);
    await eventually(() => pager.received.length === 1, 'the page');
    const page = bodies(pager)[0] as WebhookMessage;
    expect(page.status).to.equal('firing');
    expect(page.alerts[0]?.labels).to.deep.include({ alertname: 'AlertmuxHeartbeatMissing', severity: 'critical' });
    expect(page.alerts[0]?.annotations['summary']).to.equal('Alertmanager heartbeat missing: no Watchdog for 5m');
    expect(chat.received, 'only the deadman targets are paged').to.have.length(1);
    const scrape = (await t.get('/metrics')).text;
    expect(metric(scrape, 'alertmux_deadman_firing')).to.equal(1);
    expect(metric(scrape, 'alertmux_deadman_last_heartbeat_timestamp_seconds')).to.equal(T0 / 1000);
    const status = (await t.get('/api/v1/deadman')).body;
    expect(status).to.deep.include({ enabled: true, state: 'firing', timeout: '5m', pageOpenSince: new Date(T0 + 5 * MIN).toISOString() });

    await advance(60 * MIN);
    await t.mux.dispatcher.idle();
    expect(pager.received, 'still one page').to.have.length(1);

    expect((await t.post('/webhook', watchdog())).status).to.equal(200);
    await eventually(() => pager.received.length === 2, 'the resolve');
    const resolve = bodies(pager)[1] as WebhookMessage;
    expect(resolve.status).to.equal('resolved');
    expect(resolve.groupKey).to.equal(page.groupKey);
    expect(resolve.alerts[0]?.fingerprint).to.equal(page.alerts[0]?.fingerprint);
    expect(metric((await t.get('/metrics')).text, 'alertmux_deadman_firing')).to.equal(0);
    // The page went through the ledger like any notification.
    const delivered = await t.get('/api/v1/deliveries?target=pager&state=delivered');
    expect(delivered.body.deliveries.map((d: { groupKey: string }) => d.groupKey)).to.deep.equal([page.groupKey, page.groupKey]);
  });

  it('exports its gauges at 0 before anything happened', async () => {
    const scrape = (await t.get('/metrics')).text;
    expect(metric(scrape, 'alertmux_deadman_firing')).to.equal(0);
    expect(metric(scrape, 'alertmux_deadman_last_heartbeat_timestamp_seconds')).to.equal(0);
  });

  it('does not take heartbeats from the publish API', async () => {
    const res = await t.post('/api/v1/publish/parallel/all', { message: watchdog() });
    expect(res.status).to.be.within(200, 202);
    expect((await t.get('/api/v1/deadman')).body.state).to.equal('waiting');
  });

  it('follows reloads: a new timeout takes effect, and removing the block resolves an open page', async () => {
    await t.post('/webhook', watchdog());
    t.setConfig(configText('deadman: {timeout: 10m, targets: [pager]}'));
    expect((await t.mux.reload()).ok).to.equal(true);
    await t.mux.deadman.idle();
    await advance(5 * MIN);
    expect((await t.get('/api/v1/deadman')).body).to.deep.include({ state: 'ok', timeout: '10m' });
    await advance(5 * MIN);
    await eventually(() => pager.received.length === 1, 'the page');

    t.setConfig(configText(''));
    expect((await t.mux.reload()).ok).to.equal(true);
    await t.mux.deadman.idle();
    await eventually(() => pager.received.length === 2, 'the resolve');
    expect((bodies(pager)[1] as WebhookMessage).status).to.equal('resolved');
    expect((await t.get('/api/v1/deadman')).body).to.deep.include({ enabled: false, state: 'disabled' });
  });

  it('keeps the running switch when a reload names an unknown target', async () => {
    t.setConfig(configText('deadman: {targets: [pagerduty]}'));
    const result = await t.mux.reload();
    expect(result).to.deep.include({ ok: false });
    expect((result as { error: string }).error).to.match(/deadman\.targets\[0\]: unknown target "pagerduty"/);
    expect((await t.get('/api/v1/deadman')).body).to.deep.include({ enabled: true, targets: ['pager'] });
  });

  it('answers 400 to a query parameter on its status route', async () => {
    expect((await t.get('/api/v1/deadman?verbose=1')).status).to.equal(400);
  });
});
