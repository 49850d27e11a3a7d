import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import sinon from 'sinon';
import { MockAgent } from 'undici';
import { buildApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { nopLogger } from '../../src/observability/logger.js';
import { targetKinds } from '../../src/publishers/registry.js';
import { fixture } from '../helpers/fixtures.js';
import { recordingLogger } from '../helpers/logs.js';
import { eventually, loopbackTarget, refusedPort, startApp, type LoopbackTarget, type TestApp } from '../helpers/servers.js';
import type { WebhookMessage } from '../../src/alerts/types.js';

/** A notification of its own group `G<i>`, firing one critical alert (or `alerts` of it). */
function group(i: number, alerts = 1): WebhookMessage {
  const msg = fixture('am025-firing-1-firing-noauth.json');
  msg.groupKey = `{}:{alertname="G${i}"}`;
  msg.commonLabels = { alertname: `G${i}`, severity: 'critical' };
  const one = msg.alerts[0]!;
  msg.alerts = Array.from({ length: alerts }, (_, k) => ({ ...one, labels: { alertname: `G${i}`, severity: 'critical', instance: `i${k}` }, fingerprint: '' }));
  return msg;
}

const groupKeys = (t: LoopbackTarget) => t.received.map((r) => (r.body as WebhookMessage).groupKey);
/** Matches no alert: the backup gets nothing by its own routing, so whatever it receives is a fallback. */
const NOTHING = `match: ['severity="none"']`;

describe('fallback targets', () => {
  let app: TestApp | undefined;
  const servers: LoopbackTarget[] = [];
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  /** Let everything due run (the worker's pass, its attempts) and be written. */
  async function settle(mux: App): Promise<void> {
    await mux.dispatcher.idle();
    await mux.worker.tick();
    await mux.dispatcher.idle();
    await mux.dispatcher.flush();
  }

  it('sends a notification its target answered 400 to the fallback target exactly once, marked as a fallback everywhere', async () => {
    const primary = await loopbackTarget(() => ({ status: 400, body: 'invalid routing' }));
    const backup = await loopbackTarget();
    servers.push(primary, backup);
    const { logger, lines } = recordingLogger();
    app = await startApp(
      `storage: {path: ":memory:"}
targets:
  - {name: pagerduty-main, type: webhook, url: "${primary.url}", fallback: backup}
  - {name: backup, type: webhook, format: alertmux, url: "${backup.url}", ${NOTHING}}
  - {name: other, type: webhook, url: "${backup.url}/other", ${NOTHING}}
`,
      { logger },
    );
    const res = await app.post('/webhook', group(1));
    expect(res.status).to.equal(202);
    const [main, own, , fallback] = res.body.targets;
    expect(main).to.include({ target: 'pagerduty-main', state: 'failed', deadLettered: true, statusCode: 400 });
    expect(own).to.include({ target: 'backup', state: 'skipped', skipReason: 'filtered' });
    expect(fallback).to.include({ target: 'backup', state: 'pending', queued: true, fallbackFor: 'pagerduty-main', fallbackOf: main.deliveryId, fallbackReason: 'dead' });
    expect(main.fallbackDeliveryId).to.equal(fallback.deliveryId);
    expect(res.body.totals).to.include({ targets: 4, failed: 1, skipped: 2, pending: 1 });

    await eventually(() => backup.received.length === 1, 'the fallback delivery');
    await settle(app.mux);
    await settle(app.mux);
    expect(backup.received).to.have.length(1);
    const sent = backup.received[0]!;
    expect(sent.headers['alertmux-fallback-for']).to.equal('pagerduty-main');
    expect(sent.body).to.include({ groupKey: '{}:{alertname="G1"}', fallbackFor: 'pagerduty-main' });
    expect(primary.received).to.have.length(1);

    const listed = await app.get('/api/v1/deliveries?target=backup&state=delivered');
    expect(listed.body.deliveries).to.have.length(1);
    expect(listed.body.deliveries[0]).to.include({ fallbackFor: 'pagerduty-main', fallbackOf: main.deliveryId, fallbackReason: 'dead' });
    const dead = await app.get(`/api/v1/deliveries/${main.deliveryId}`);
    expect(dead.body).to.include({ state: 'dead', fallbackDeliveryId: fallback.deliveryId });
    const shown = await app.get(`/api/v1/notifications/${res.body.id}`);
    expect(shown.body.targets.find((t: { fallbackFor?: string }) => t.fallbackFor)).to.include({ target: 'backup', state: 'succeeded', fallbackOf: main.deliveryId });

    const metrics = (await app.get('/metrics')).text;
    expect(metrics).to.contain('alertmux_fallback_deliveries_total{target="pagerduty-main",fallback="backup",reason="dead"} 1');
    expect(metrics).to.contain('alertmux_fallback_deliveries_total{target="pagerduty-main",fallback="backup",reason="held"} 0');
    const logged = lines.filter((l) => l.message === 'fallback sent');
    expect(logged).to.have.length(1);
    expect(logged[0]!.meta).to.include({ target: 'pagerduty-main', fallback: 'backup', alertname: 'G1', notificationId: res.body.id });
    expect(String(logged[0]!.meta['why'])).to.contain('dead-lettered (clientError)');
  });

  it('sends a delivery held by an open breaker for fallback_after to the fallback target once (the built app, real time)', async () => {
    const down = await refusedPort();
    const backup = await loopbackTarget();
    servers.push(backup);
    app = await startApp(`storage: {path: ":memory:"}
retry: {initial_backoff: 1h, max_backoff: 1h}
breaker: {consecutive_failures: 1, cooldown: 1h, max_cooldown: 1h}
targets:
  - {name: primary, type: webhook, url: "http://127.0.0.1:${down}", fallback: backup, fallback_after: 300ms}
  - {name: backup, type: webhook, url: "${backup.url}", ${NOTHING}}
`);
    const first = await app.post('/webhook', group(1));
    expect(first.body.targets[0]).to.include({ state: 'failed', reason: 'network' });
    const held = await app.post('/webhook', group(2));
    expect(held.body.targets[0]).to.include({ state: 'skipped', skipReason: 'circuit_open', queued: true });
    await eventually(() => backup.received.length === 1, 'the fallback of the held delivery', 5000);
    expect(groupKeys(backup)).to.deep.equal(['{}:{alertname="G2"}']);
    expect(backup.received[0]!.headers['alertmux-fallback-for']).to.equal('primary');
    await new Promise((resolve) => setTimeout(resolve, 400));
    await settle(app.mux);
    expect(backup.received).to.have.length(1);
    // The original keeps waiting for its target: the fallback pages someone else too, it replaces nothing.
    const original = await app.get(`/api/v1/deliveries/${held.body.targets[0].deliveryId}`);
    expect(original.body).to.include({ state: 'pending', skipReason: 'circuit_open' });
    expect(original.body.fallbackDeliveryId).to.be.a('string');
    expect((await app.get('/metrics')).text).to.contain('alertmux_fallback_deliveries_total{target="primary",fallback="backup",reason="held"} 1');
  });

  it('sends a fallback that was pending at a restart once, after the restart, from the ledger', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'alertmux-fallback-restart-'));
    try {
      const primary = await loopbackTarget(() => ({ status: 400 }));
      const gone = await refusedPort();
      servers.push(primary);
      const configText = (backupUrl: string) => `storage: {path: "${join(dir, 'ledger.db')}"}
retry: {initial_backoff: 600ms, max_backoff: 600ms}
targets:
  - {name: primary, type: webhook, url: "${primary.url}", fallback: backup}
  - {name: backup, type: webhook, url: "${backupUrl}", ${NOTHING}}
`;
      app = await startApp(configText(`http://127.0.0.1:${gone}`));
      const res = await app.post('/webhook', group(1));
      const fallbackId = res.body.targets[0].fallbackDeliveryId as string;
      await eventually(async () => (await app!.mux.store.getDelivery(fallbackId))?.attempts === 1, 'the first (failed) attempt of the fallback');
      await app.close();

      const backup = await loopbackTarget();
      servers.push(backup);
      app = await startApp(configText(backup.url));
      await eventually(() => backup.received.length === 1, 'the fallback after the restart');
      await settle(app.mux);
      expect(backup.received).to.have.length(1);
      expect(backup.received[0]!.headers['alertmux-fallback-for']).to.equal('primary');
      const fallbacks = (await app.mux.store.list({ target: 'backup' })).filter((d) => d.fallbackOf !== undefined);
      expect(fallbacks.map((d) => [d.id, d.state])).to.deep.equal([[fallbackId, 'delivered']]);
      expect((await app.mux.store.getDelivery(res.body.targets[0].deliveryId))).to.include({ state: 'dead', fallbackId });
      // A third start finds nothing to send: the original has had its fallback.
      await app.close();
      app = await startApp(configText(backup.url));
      await settle(app.mux);
      expect(await app.mux.dispatcher.fallbacks.sweep()).to.deep.equal([]);
      expect(backup.received).to.have.length(1);
    } finally {
      await app?.close();
      app = undefined;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('passes a fallback on down a chain, and skips (without sending) one whose fallback target is disabled', async () => {
    const refusing = await loopbackTarget(() => ({ status: 403 }));
    const last = await loopbackTarget();
    servers.push(refusing, last);
    app = await startApp(`storage: {path: ":memory:"}
targets:
  - {name: a, type: webhook, url: "${refusing.url}/a", fallback: b, match: ['severity="critical"']}
  - {name: b, type: webhook, url: "${refusing.url}/b", fallback: c, ${NOTHING}}
  - {name: c, type: webhook, url: "${last.url}", ${NOTHING}}
  - {name: d, type: webhook, url: "${refusing.url}/d", fallback: e, match: ['team="d"']}
  - {name: e, type: webhook, url: "${last.url}/e", enabled: false}
`);
    await app.post('/webhook', group(1));
    await eventually(() => last.received.length === 1, 'the fallback of the fallback');
    await settle(app.mux);
    expect(last.received[0]!.headers['alertmux-fallback-for']).to.equal('b');
    expect(refusing.received.map((r) => r.path)).to.deep.equal(['/a', '/b']);
    refusing.received.length = 0;
    const b = (await app.mux.store.list({ target: 'b' }))[0]!;
    expect(b).to.include({ state: 'dead', fallbackFor: 'a' });
    expect((await app.mux.store.list({ target: 'c' }))[0]).to.include({ state: 'delivered', fallbackOf: b.id, fallbackFor: 'b' });

    // d only gets alerts by its match; a 403 there finds its fallback e disabled: recorded as skipped, nothing sent.
    const msg = group(2);
    msg.alerts[0]!.labels['severity'] = 'warning';
    msg.alerts[0]!.labels['team'] = 'd';
    await app.post('/webhook', msg);
    await settle(app.mux);
    const toE = (await app.mux.store.list({ target: 'e' })).filter((d) => d.fallbackOf !== undefined);
    expect(toE.map((d) => [d.state, d.skipReason, d.fallbackFor])).to.deep.equal([['skipped', 'disabled', 'd']]);
    expect(refusing.received.map((r) => r.path)).to.deep.equal(['/d']);
    expect(last.received).to.have.length(1);
  });
});

describe('fallback targets on a fake clock', () => {
  const T0 = Date.parse('2026-11-22T23:00:00Z');
  let clock: sinon.SinonFakeTimers | undefined;
  let mux: App | undefined;
  let agent: MockAgent | undefined;
  afterEach(async () => {
    clock?.restore();
    await mux?.close(100);
    await agent?.close();
    clock = undefined;
    mux = undefined;
  });

  /** primary (breaker opens at its first failure, no trial for an hour) falls back to backup after 5m. */
  async function setup(extra = '') {
    clock = sinon.useFakeTimers({ now: T0, toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    agent = new MockAgent();
    agent.disableNetConnect();
    const received: Array<{ groupKey: string; header?: string; alerts: number }> = [];
    agent
      .get('http://backup.test')
      .intercept({ path: '/hook', method: 'POST' })
      .reply((opts) => {
        const body = JSON.parse(String(opts.body)) as WebhookMessage;
        received.push({ groupKey: body.groupKey, header: (opts.headers as Record<string, string>)['alertmux-fallback-for'], alerts: body.alerts.length });
        return { statusCode: 200, data: '' };
      })
      .persist();
    agent.get('http://primary.test').intercept({ path: '/hook', method: 'POST' }).reply(500, 'down').persist();
    const text = (primary = '') => `storage: {path: ":memory:"}
retry: {initial_backoff: 2h, max_backoff: 2h}
breaker: {consecutive_failures: 1, cooldown: 1h, max_cooldown: 1h}
${extra}
targets:
  - {name: primary, type: webhook, url: "http://primary.test/hook", fallback: backup, fallback_after: 5m${primary}}
  - {name: backup, type: webhook, url: "http://backup.test/hook", ${NOTHING}}
`;
    let primaryExtra = '';
    mux = await buildApp({
      loadConfig: () => parseConfig(text(primaryExtra), { env: {}, baseDir: '/tmp', kinds: targetKinds }),
      logger: nopLogger(),
      registry: new Registry(),
      http: agent,
      now: () => Date.now(),
      random: () => 0.5,
    });
    const advance = async (ms: number) => {
      await clock!.tickAsync(ms);
      await mux!.dispatcher.idle();
      await mux!.dispatcher.flush();
    };
    const changePrimary = (extra: string) => (primaryExtra = extra);
    return { mux, received, advance, changePrimary };
  }

  it('sends a held delivery to the fallback when it has been held for exactly fallback_after, once; a newer notification of the group inherits the wait', async () => {
    const s = await setup();
    // The first failure opens the breaker; that delivery waits in backoff (2h), attempted, so not held.
    await s.mux.dispatch(group(1));
    const held = await s.mux.dispatch(group(2));
    expect(held.targets[0]).to.include({ state: 'skipped', skipReason: 'circuit_open' });
    await s.advance(4 * 60_000);
    // The group changes while held: the newer notification supersedes the held one and keeps its place in the wait.
    const newer = await s.mux.dispatch(group(2, 2));
    expect(newer.targets[0]).to.include({ state: 'skipped', skipReason: 'circuit_open' });
    await s.advance(60_000 - 1);
    expect(s.received).to.deep.equal([]);
    await s.advance(1);
    expect(s.received).to.deep.equal([{ groupKey: '{}:{alertname="G2"}', header: 'primary', alerts: 2 }]);
    await s.advance(20 * 60_000);
    expect(s.received).to.have.length(1);
    expect((await s.mux.store.getDelivery(newer.targets[0]!.deliveryId!))).to.include({ state: 'pending', heldSince: T0 });
    expect((await s.mux.store.getDelivery(held.targets[0]!.deliveryId!))).to.include({ state: 'superseded' });
  });

  it('sends no fallback for a delivery held by a target that no longer holds it (a reload gave it a closed breaker)', async () => {
    const s = await setup();
    await s.mux.dispatch(group(1));
    await s.mux.dispatch(group(2));
    await s.advance(4 * 60_000);
    // A changed target starts with a closed breaker: what it held goes to it again, not to the fallback.
    s.changePrimary(', timeout: 9s');
    expect(await s.mux.reload()).to.deep.equal({ ok: true });
    expect(s.mux.runtime().targets.get('primary')!.breaker.state).to.equal('closed');
    await s.advance(2 * 60_000);
    expect(s.received).to.deep.equal([]);
    expect(await s.mux.dispatcher.fallbacks.sweep()).to.deep.equal([]);
  });

  it('does not count a target as holding under publish_to_all (nothing is held)', async () => {
    const s = await setup('dispatch: {health_strategy: publish_to_all}');
    await s.mux.dispatch(group(1));
    const res = await s.mux.dispatch(group(2));
    expect(res.targets[0]).to.include({ state: 'failed', reason: 'serverError' });
    await s.advance(10 * 60_000);
    expect(s.received).to.deep.equal([]);
  });
});
