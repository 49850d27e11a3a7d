import { expect } from 'chai';
import { eventually, loopbackTarget, refusedPort, startApp, type LoopbackTarget, type TestApp } from '../helpers/servers.js';
import { fixture } from '../helpers/fixtures.js';
import type { WebhookMessage } from '../../src/alerts/types.js';

/** A distinct notification (its own group) numbered `i`. */
function notification(i: number, severity = 'critical'): WebhookMessage {
  const msg = fixture('am025-firing-1-firing-noauth.json');
  msg.groupKey = `{}:{alertname="Test${i}"}`;
  msg.alerts = msg.alerts.map((a) => ({ ...a, labels: { ...a.labels, alertname: `Test${i}`, severity }, fingerprint: '' }));
  return msg;
}

const ids = (t: LoopbackTarget) => t.received.map((r) => (r.body as WebhookMessage).groupKey);

describe('health-aware dispatch', () => {
  let app: TestApp | undefined;
  const servers: LoopbackTarget[] = [];
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  it('stops waiting for a hanging and a refusing target once their breakers open, queues their deliveries, and delivers them when they come back', async () => {
    const healthy = await Promise.all([1, 2, 3].map(() => loopbackTarget()));
    let hangs = true;
    const hang = await loopbackTarget(() => (hangs ? 'hang' : { status: 200 }));
    const refusedAt = await refusedPort();
    servers.push(...healthy, hang);
    app = await startApp(`storage: {path: ":memory:"}
dispatch: {response_deadline: 5s}
retry: {initial_backoff: 5s, max_backoff: 5s}
breaker: {consecutive_failures: 2, cooldown: 300ms, max_cooldown: 300ms}
health: {unhealthy_after: 2}
targets:
${healthy.map((t, i) => `  - {name: ok${i}, type: webhook, url: "${t.url}"}`).join('\n')}
  - {name: hang, type: webhook, url: "${hang.url}", timeout: 200ms}
  - {name: refused, type: webhook, url: "http://127.0.0.1:${refusedAt}"}
`);
    // Two failed deliveries each open both breakers.
    for (const i of [1, 2]) {
      const res = await app.post('/webhook', notification(i));
      expect(res.status).to.equal(202);
    }
    const hangRequests = hang.received.length;
    const res = await app.post('/webhook', notification(3));
    expect(res.status).to.equal(202);
    const byName = Object.fromEntries(res.body.targets.map((t: { target: string }) => [t.target, t]));
    for (const name of ['ok0', 'ok1', 'ok2']) expect(byName[name].state).to.equal('succeeded');
    for (const name of ['hang', 'refused']) {
      expect(byName[name]).to.include({ state: 'skipped', skipReason: 'circuit_open', queued: true, attempts: 0 });
    }
    // Nothing was sent to the hanging target: the dispatch did not wait for its timeout.
    expect(hang.received.length).to.equal(hangRequests);
    const pending = await app.get('/api/v1/deliveries?state=pending');
    expect(pending.body.deliveries.filter((d: { target: string }) => d.target === 'hang' || d.target === 'refused')).to.have.length(6);

    // They come back: the hanging one answers, the refusing one listens again on its port.
    hangs = false;
    const back = await loopbackTarget(undefined, refusedAt);
    servers.push(back);
    const want = [1, 2, 3].map((i) => `{}:{alertname="Test${i}"}`);
    await eventually(() => want.every((k) => ids(back).includes(k)) && want.every((k) => ids(hang).includes(k)), 'queued deliveries after recovery', 15_000);
    const left = await app.get('/api/v1/deliveries?state=pending');
    expect(left.body.deliveries).to.have.length(0);
    const metrics = (await app.get('/metrics')).text;
    expect(metrics).to.match(/alertmux_deliveries_skipped_total\{target="hang",reason="circuit_open"\} [1-9]/);
    expect(metrics).to.match(/alertmux_target_circuit_transitions_total\{target="refused",from="closed",to="open"\} 1/);
  });

  it('skips an unhealthy target under skip_unhealthy but still attempts it under publish_to_all', async () => {
    const ok = await loopbackTarget();
    const down = await refusedPort();
    servers.push(ok);
    app = await startApp(`storage: {path: ":memory:"}
retry: {initial_backoff: 10s, max_backoff: 10s}
health: {unhealthy_after: 1}
breaker: {consecutive_failures: 100}
targets:
  - {name: ok, type: webhook, url: "${ok.url}"}
  - {name: down, type: webhook, url: "http://127.0.0.1:${down}"}
`);
    const first = await app.post('/webhook', notification(1));
    expect(first.body.targets[1]).to.include({ state: 'failed', reason: 'network' });
    const second = await app.post('/webhook', notification(2));
    expect(second.body.targets[1]).to.include({ state: 'skipped', skipReason: 'unhealthy', queued: true });
    expect(second.status).to.equal(202);
    const forced = await app.post('/api/v1/publish/parallel', { message: notification(3), targets: ['ok', 'down'], strategy: 'publish_to_all' });
    expect(forced.status).to.equal(202);
    expect(forced.body.targets[1]).to.include({ state: 'failed', reason: 'network', attempts: 1 });
  });

  it('skips a degraded target only under skip_unhealthy_and_degraded', async () => {
    let n = 0;
    const flaky = await loopbackTarget(() => (n++ % 2 === 0 ? { status: 500 } : { status: 200 }));
    servers.push(flaky);
    app = await startApp(`storage: {path: ":memory:"}
retry: {initial_backoff: 10s, max_backoff: 10s}
health: {unhealthy_after: 5, min_samples: 2, degraded_failure_ratio: 0.3}
breaker: {consecutive_failures: 100, min_requests: 100}
dispatch: {health_strategy: skip_unhealthy_and_degraded}
targets:
  - {name: flaky, type: webhook, url: "${flaky.url}"}
`);
    await app.post('/webhook', notification(1));
    await app.post('/webhook', notification(2));
    expect(app.mux.runtime().targets.get('flaky')?.health.status).to.equal('degraded');
    const res = await app.post('/webhook', notification(3));
    expect(res.body.targets[0]).to.include({ state: 'skipped', skipReason: 'degraded', queued: true });
    const target = await app.get('/api/v1/targets/flaky');
    expect(target.body).to.include({ health: 'degraded' });
    expect(target.body.counts).to.include({ succeeded: 1, failed: 1 });
    expect(target.body.lastError.message).to.contain('500');
  });

  it('keeps a notification whose targets are all skipped, warns, and counts it', async () => {
    const down = await refusedPort();
    app = await startApp(`storage: {path: ":memory:"}
retry: {initial_backoff: 10s, max_backoff: 10s}
health: {unhealthy_after: 1}
targets:
  - {name: down, type: webhook, url: "http://127.0.0.1:${down}"}
`);
    await app.post('/webhook', notification(1));
    const res = await app.post('/webhook', notification(2));
    expect(res.status).to.equal(202);
    expect(res.body.outcome).to.equal('accepted');
    expect((await app.get('/metrics')).text).to.match(/alertmux_notifications_all_targets_skipped_total 1/);
    const pending = await app.get('/api/v1/deliveries?state=pending&target=down');
    expect(pending.body.deliveries).to.have.length(2);
  });

  it('runs an active health check on demand and reports its result', async () => {
    let healthy = false;
    const probe = await loopbackTarget(() => ({ status: healthy ? 200 : 503 }));
    const sink = await loopbackTarget();
    servers.push(probe, sink);
    app = await startApp(`storage: {path: ":memory:"}
health: {unhealthy_after: 1}
targets:
  - {name: t, type: webhook, url: "${sink.url}", health_check: {url: "${probe.url}/health", interval: 1h}}
`);
    const bad = await app.post('/api/v1/targets/t/check', undefined);
    expect(bad.body).to.include({ ok: false, probed: true, detail: 'status 503' });
    expect(bad.body.target.health).to.equal('unhealthy');
    healthy = true;
    const good = await app.post('/api/v1/targets/t/check', undefined);
    expect(good.body).to.include({ ok: true });
    expect(good.body.target.health).to.equal('healthy');
    expect(sink.received).to.have.length(0); // the probe never hits the delivery endpoint
    expect((await app.post('/api/v1/targets/nope/check', undefined)).status).to.equal(404);
  });

  it('publishes through the publish API to named, all and healthy targets and reports aggregate status', async () => {
    const a = await loopbackTarget();
    const b = await loopbackTarget();
    servers.push(a, b);
    app = await startApp(`storage: {path: ":memory:"}
targets:
  - {name: a, type: webhook, url: "${a.url}"}
  - {name: b, type: webhook, url: "${b.url}"}
  - {name: c, type: webhook, url: "${b.url}", enabled: false}
`);
    const named = await app.post('/api/v1/publish/parallel', { message: notification(1), targets: ['b'] });
    expect(named.status).to.equal(200);
    expect(named.body.targets.map((t: { target: string }) => t.target)).to.deep.equal(['b']);
    const all = await app.post('/api/v1/publish/parallel/all', { message: notification(2) });
    expect(all.body.targets.map((t: { target: string }) => t.target)).to.deep.equal(['a', 'b']);
    const healthy = await app.post('/api/v1/publish/parallel/healthy', { message: notification(3) });
    expect(healthy.body.outcome).to.equal('delivered');
    expect((await app.post('/api/v1/publish/parallel', { message: notification(4), targets: ['zzz'] })).status).to.equal(400);
    expect((await app.post('/api/v1/publish/parallel', { message: { nope: 1 }, targets: ['a'] })).status).to.equal(400);
    expect((await app.post('/api/v1/publish/parallel/all', { message: notification(5), strategy: 'yolo' })).status).to.equal(400);
    const status = await app.get('/api/v1/publish/parallel/status');
    expect(status.body.total).to.equal(3);
    expect(status.body.window.successRate).to.equal(1);
    expect(status.body.window.latencyMs).to.have.keys(['p50', 'p95', 'p99']);
  });
});
