import { expect } from 'chai';
import { openSqliteLedger } from '../src/delivery/sqlite-ledger.js';
import { eventually, loopbackTarget, refusedPort, startApp, type LoopbackTarget, type TestApp } from './helpers/servers.js';
import { alert, fixture, webhookMessage } from './helpers/fixtures.js';
import type { WebhookMessage } from '../src/alerts/types.js';
import type { Config } from '../src/config/types.js';

const FIRING = 'am025-firing-2-firing-firing-noauth.json';

function yaml(targets: string, extra = ''): string {
  return `storage: {path: ":memory:"}
retry: {initial_backoff: 20ms, max_backoff: 40ms}
dispatch: {response_deadline: 2s, timeout: 1s}
${extra}
targets:
${targets}`;
}

describe('the app (in-process, real loopback targets)', () => {
  let app: TestApp | undefined;
  const targets: LoopbackTarget[] = [];
  const target = async (reply?: LoopbackTarget['reply']) => {
    const t = await loopbackTarget(reply);
    targets.push(t);
    return t;
  };
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await Promise.all(targets.splice(0).map((t) => t.close()));
  });

  it('fans a captured Alertmanager payload out to every target and answers 200 with one result per target', async () => {
    const a = await target();
    const b = await target();
    app = await startApp(yaml(`  - {name: a, type: webhook, url: "${a.url}/hook"}\n  - {name: b, type: webhook, url: "${b.url}/hook", format: alertmux}`));
    const res = await app.post('/webhook', fixture(FIRING));
    expect(res.status).to.equal(200);
    expect(res.body).to.include({ outcome: 'delivered', receiver: 'fanout', status: 'firing' });
    expect(res.body.totals).to.deep.equal({ targets: 2, succeeded: 2, failed: 0, skipped: 0, pending: 0 });
    expect(res.body.targets.map((t: { target: string; state: string; statusCode: number; attempts: number }) => [t.target, t.state, t.statusCode, t.attempts])).to.deep.equal([
      ['a', 'succeeded', 200, 1],
      ['b', 'succeeded', 200, 1],
    ]);
    expect(a.received[0]?.body).to.deep.equal(fixture(FIRING)); // format: alertmanager passes the payload through
    const enriched = b.received[0]?.body as WebhookMessage;
    expect(enriched.alerts[0]?.annotations['silence_url']).to.match(/^http:\/\/127\.0\.0\.1:19093\/#\/silences\/new\?filter=/);
  });

  it('splits the group per target by matchers and reports a target that selects nothing as filtered', async () => {
    const crit = await target();
    const warn = await target();
    const none = await target();
    app = await startApp(
      yaml(`  - {name: crit, type: webhook, url: "${crit.url}", match: ['severity="critical"']}
  - {name: warn, type: webhook, url: "${warn.url}", match: ['severity=~"warn.*"']}
  - {name: none, type: webhook, url: "${none.url}", match: ['team="nobody"']}
  - {name: off, type: webhook, url: "${none.url}", enabled: false}`),
    );
    const res = await app.post('/webhook', fixture(FIRING));
    expect(res.status).to.equal(200);
    const states = Object.fromEntries(res.body.targets.map((t: { target: string; state: string; skipReason?: string }) => [t.target, t.skipReason ?? t.state]));
    expect(states).to.deep.equal({ crit: 'succeeded', warn: 'succeeded', none: 'filtered', off: 'disabled' });
    expect((crit.received[0]?.body as WebhookMessage).alerts.map((x) => x.labels['instance'])).to.deep.equal(['host1']);
    expect((warn.received[0]?.body as WebhookMessage).alerts.map((x) => x.labels['instance'])).to.deep.equal(['host2']);
    expect(none.received).to.have.length(0);
  });

  it('drops resolved alerts for a target with send_resolved: false', async () => {
    const t = await target();
    app = await startApp(yaml(`  - {name: quiet, type: webhook, url: "${t.url}", send_resolved: false}`));
    const mixed = await app.post('/webhook', fixture('am025-mixed-firing-resolved.json'));
    expect(mixed.status).to.equal(200);
    expect((t.received[0]?.body as WebhookMessage).alerts.every((x) => x.status === 'firing')).to.equal(true);
    const resolved = await app.post('/webhook', fixture('am025-all-resolved.json'));
    expect(resolved.body.targets[0]).to.include({ state: 'skipped', skipReason: 'filtered' });
    expect(t.received).to.have.length(1);
  });

  it('restricts the targets with ?targets= and rejects unknown names with 400', async () => {
    const a = await target();
    const b = await target();
    app = await startApp(yaml(`  - {name: a, type: webhook, url: "${a.url}"}\n  - {name: b, type: webhook, url: "${b.url}"}`));
    const res = await app.post('/webhook?targets=b', fixture(FIRING));
    expect(res.body.targets.map((t: { target: string }) => t.target)).to.deep.equal(['b']);
    expect(a.received).to.have.length(0);
    const bad = await app.post('/webhook?targets=b,zzz', fixture(FIRING));
    expect(bad.status).to.equal(400);
    expect(bad.body.error).to.contain('zzz');
  });

  it('answers bad input with 4xx and its reason, never 5xx', async () => {
    const t = await target();
    app = await startApp(yaml(`  - {name: a, type: webhook, url: "${t.url}"}`, 'limits: {max_body_bytes: 2048}'));
    expect((await app.post('/webhook', 'not json')).status).to.equal(400);
    const wrongType = await app.post('/webhook', 'x', { 'content-type': 'text/plain' });
    expect(wrongType.status).to.equal(415);
    const invalid = await app.post('/webhook', { version: '4', alerts: [] });
    expect(invalid.status).to.equal(400);
    expect(invalid.body.details.join('\n')).to.contain("must have required property 'groupKey'");
    const big = webhookMessage({ alerts: Array.from({ length: 40 }, (_, i) => alert({ alertname: `A${i}`, padding: 'x'.repeat(50) })) });
    expect((await app.post('/webhook', big)).status).to.equal(413);
    expect(t.received).to.have.length(0);
    const metrics = await app.get('/metrics');
    expect(metrics.text).to.match(/alertmux_webhook_requests_total\{code="413"\} 1/);
  });

  it("names the replica from the config's `replica` in alertmux_replica_info and the ledger's attempt history", async () => {
    const t = await target();
    let named: string | undefined;
    app = await startApp(yaml(`  - {name: a, type: webhook, url: "${t.url}"}`, 'replica: pod-x'), {
      openLedger: (config, replica) => ((named = replica), openSqliteLedger(config.storage.path, { replica })),
    });
    expect(named).to.equal('pod-x');
    expect((await app.get('/metrics')).text).to.match(/^alertmux_replica_info\{replica="pod-x"\} 1$/m);
    const res = await app.post('/webhook', fixture(FIRING));
    expect(res.status).to.equal(200);
    const n = await app.get(`/api/v1/notifications/${res.body.id}`);
    expect(JSON.stringify(n.body)).to.contain('"replica":"pod-x"');
  });

  it('reports the queue depth at scrape time with the outcomes just written: nothing pending once delivered', async () => {
    const t = await target();
    app = await startApp(yaml(`  - {name: a, type: webhook, url: "${t.url}"}\n  - {name: b, type: webhook, url: "${t.url}"}`));
    expect((await app.post('/webhook', fixture(FIRING))).status).to.equal(200);
    const text = (await app.get('/metrics')).text;
    expect(text).to.match(/alertmux_delivery_queue_depth\{state="pending",priority="\d"\} 0/);
    expect(text).not.to.match(/alertmux_delivery_queue_depth\{state="pending",priority="\d"\} [1-9]/);
  });

  it('requires the configured bearer token or basic auth on /webhook (401 otherwise)', async () => {
    const t = await target();
    app = await startApp(
      yaml(`  - {name: a, type: webhook, url: "${t.url}"}`, 'auth: {bearer_token: "${env:TOKEN}", basic_auth: {username: am, password: pw}}'),
      {},
      { TOKEN: 's3cr3t' },
    );
    expect((await app.post('/webhook', fixture(FIRING))).status).to.equal(401);
    expect((await app.post('/webhook', fixture(FIRING), { authorization: 'Bearer wrong' })).status).to.equal(401);
    expect((await app.post('/webhook', fixture(FIRING), { authorization: 'Bearer s3cr3t' })).status).to.equal(200);
    const basic = `Basic ${Buffer.from('am:pw').toString('base64')}`;
    expect((await app.post('/webhook', fixture('am025-all-resolved.json'), { authorization: basic })).status).to.equal(200);
  });

  it('answers 202 when a target failed, owns the retry, and delivers it once the target recovers', async () => {
    let fail = true;
    const t = await target(() => (fail ? { status: 503, body: 'maintenance' } : { status: 200 }));
    app = await startApp(yaml(`  - {name: flaky, type: webhook, url: "${t.url}"}`));
    const res = await app.post('/webhook', fixture(FIRING));
    expect(res.status).to.equal(202);
    expect(res.body.outcome).to.equal('accepted');
    expect(res.body.targets[0]).to.include({ state: 'failed', retryable: true, reason: 'serverError', statusCode: 503, queued: true });
    expect(res.body.targets[0].error).to.contain('maintenance');
    expect(res.body.targets[0].nextAttemptAt).to.be.a('string');
    fail = false;
    await eventually(() => t.received.length >= 2, 'the retry');
    const stored = await eventually(async () => {
      const n = await app!.get(`/api/v1/notifications/${res.body.id}`);
      return n.body.outcome === 'delivered' && n.body;
    }, 'the stored result to show delivered');
    expect(stored.targets[0]).to.include({ state: 'succeeded', attempts: 2 });
  });

  it('dead-letters a permanent failure after one attempt, and delivers it after a replay against the fixed target', async () => {
    let status = 400;
    const t = await target(() => ({ status, body: 'bad payload' }));
    app = await startApp(yaml(`  - {name: strict, type: webhook, url: "${t.url}"}`));
    const res = await app.post('/webhook', fixture(FIRING));
    expect(res.status).to.equal(202);
    expect(res.body.outcome).to.equal('failed');
    expect(res.body.targets[0]).to.include({ state: 'failed', retryable: false, deadLettered: true, attempts: 1 });
    const dead = await app.get('/api/v1/deliveries?state=dead&target=strict');
    expect(dead.body.deliveries).to.have.length(1);
    expect(dead.body.deliveries[0]).to.include({ state: 'dead', lastReason: 'clientError', attempts: 1 });
    expect(t.received).to.have.length(1);

    status = 200;
    const replay = await app.post('/api/v1/deliveries/replay', { target: 'strict', state: 'dead' });
    expect(replay.status).to.equal(202);
    expect(replay.body.replayed).to.equal(1);
    await eventually(() => t.received.length === 2, 'the replayed delivery');
    await eventually(async () => (await app!.get(`/api/v1/deliveries/${dead.body.deliveries[0].id}`)).body.state === 'delivered', 'delivered state');
    expect((await app.get('/metrics')).text).to.match(/alertmux_delivery_replays_total\{target="strict"\} 1/);
  });

  it('skips targets that already have an identical resend (Alertmanager retry or HA peer) within dedup.window', async () => {
    const t = await target();
    app = await startApp(yaml(`  - {name: once, type: webhook, url: "${t.url}"}`));
    expect((await app.post('/webhook', fixture(FIRING))).status).to.equal(200);
    const again = await app.post('/webhook', fixture(FIRING));
    expect(again.status).to.equal(200);
    expect(again.body.targets[0]).to.include({ state: 'skipped', skipReason: 'duplicate' });
    expect(t.received).to.have.length(1);
    // A different state of the same group is a new notification.
    expect((await app.post('/webhook', fixture('am025-firing-2-firing-resolved-noauth.json'))).status).to.equal(200);
    expect(t.received).to.have.length(2);
  });

  it('answers 503 when the ledger cannot record the notification, so Alertmanager retries', async () => {
    const t = await target();
    app = await startApp(yaml(`  - {name: a, type: webhook, url: "${t.url}"}`), {
      openLedger: (config, replica) => {
        const store = openSqliteLedger(config.storage.path, { replica });
        return {
          ...store,
          write: (batch) => {
            if (batch.accepts.length) return Promise.reject(new Error('disk I/O error'));
            return store.write(batch);
          },
        };
      },
    });
    const res = await app.post('/webhook', fixture(FIRING));
    expect(res.status).to.equal(503);
    expect(res.body.error).to.match(/cannot record the notification/);
    expect((await app.get('/metrics')).text).to.match(/alertmux_storage_errors_total 1/);
    // The first attempt went out while the accept was committing (at least once: Alertmanager's retry sends it again).
    await eventually(() => t.received.length === 1, 'the attempt sent during the commit');
    await app.mux.dispatcher.idle();
    expect((await app.mux.store.list({}))).to.deep.equal([]);
  });

  describe('while the accept commits', () => {
    const releases: Array<() => void> = [];
    // A failing test must not leave an accept held: closing the app would wait for it.
    afterEach(() => releases.splice(0).forEach((release) => release()));
    /** A ledger whose accepts wait while `hold` is set. */
    const heldStore = () => {
      const held = { hold: true, waiting: [] as Array<() => void> };
      const openLedger = (config: Config, replica: string) => {
        const store = openSqliteLedger(config.storage.path, { replica });
        return {
          ...store,
          write: async (batch: Parameters<typeof store.write>[0]) => {
            if (batch.accepts.length && held.hold) await new Promise<void>((resolve) => held.waiting.push(resolve));
            return store.write(batch);
          },
        };
      };
      const release = () => {
        held.hold = false;
        held.waiting.splice(0).forEach((resolve) => resolve());
      };
      releases.push(release);
      return { held, openLedger, release };
    };

    it('sends a new notification to its targets, and answers and records the outcomes once committed', async () => {
      const ok = await target();
      let answers = 0;
      const failing = await target(() => ({ status: ++answers === 1 ? 200 : 503 }));
      const { held, openLedger, release } = heldStore();
      app = await startApp(yaml(`  - {name: ok, type: webhook, url: "${ok.url}"}\n  - {name: failing, type: webhook, url: "${failing.url}"}`), { openLedger });
      // An earlier notification of the same group, delivered: its rows are older in both lanes.
      held.hold = false;
      // (One alert of the two: the next one adds an alert, so it is not a duplicate.)
      const earlier = fixture(FIRING);
      earlier.alerts = earlier.alerts.slice(0, 1);
      expect((await app.post('/webhook', earlier)).status).to.equal(200);
      held.hold = true;
      let answered = false;
      const res = app.post('/webhook', fixture(FIRING)).then((r) => ((answered = true), r));
      await eventually(() => ok.received.length === 2 && failing.received.length === 2 && held.waiting.length === 1, 'both attempts and the held accept');
      expect(answered).to.equal(false);
      expect((await app.mux.store.list({}))).to.have.length(2);
      release();
      const answer = await res;
      expect(answer.status).to.equal(202);
      expect(answer.body.targets.map((r: { target: string; state: string }) => [r.target, r.state])).to.deep.equal([
        ['ok', 'succeeded'],
        ['failing', 'failed'],
      ]);
      await app.mux.dispatcher.flush();
      // The failure that came back before the commit is queued for retry, judged by its own row's sequence:
      // it is the newest of its group, not superseded by the earlier one.
      expect((await app.mux.store.list({ target: 'failing' }))[0]).to.include({ notificationId: answer.body.id, state: 'pending', lastStatus: 503, attempts: 1 });
      expect((await app.mux.store.list({ target: 'ok' }))[0]).to.include({ notificationId: answer.body.id, state: 'delivered', attempts: 1 });
    });

    it('waits for the commit of a resend, which may be a duplicate, before sending anything', async () => {
      const t = await target();
      const { held, openLedger, release } = heldStore();
      app = await startApp(yaml(`  - {name: a, type: webhook, url: "${t.url}"}`), { openLedger });
      held.hold = false;
      expect((await app.post('/webhook', fixture(FIRING))).status).to.equal(200);
      held.hold = true;
      const resend = app.post('/webhook', fixture(FIRING));
      await eventually(() => held.waiting.length === 1, 'the held accept of the resend');
      release();
      const answer = await resend;
      expect(answer.body.targets[0]).to.include({ target: 'a', state: 'skipped', skipReason: 'duplicate' });
      // Had it gone out during the commit, the answer would have waited for it: the target has one copy.
      expect(t.received).to.have.length(1);
    });
  });

  it('reports a target still running at the response deadline as pending, and finishes it in the background', async () => {
    const slow = await target(() => ({ status: 200, delayMs: 400 }));
    const fast = await target();
    app = await startApp(
      `storage: {path: ":memory:"}
dispatch: {response_deadline: 100ms, timeout: 5s}
targets:
  - {name: slow, type: webhook, url: "${slow.url}"}
  - {name: fast, type: webhook, url: "${fast.url}"}`,
    );
    const res = await app.post('/webhook', fixture(FIRING));
    expect(res.status).to.equal(202);
    expect(res.body.targets.map((x: { state: string }) => x.state)).to.deep.equal(['pending', 'succeeded']);
    await eventually(async () => (await app!.get(`/api/v1/notifications/${res.body.id}`)).body.outcome === 'delivered', 'background delivery');
  });

  it('times out one attempt per target with its own timeout and reports it as a retryable failure', async () => {
    const hang = await target(() => 'hang');
    app = await startApp(
      `storage: {path: ":memory:"}
dispatch: {response_deadline: 5s}
targets:
  - {name: hang, type: webhook, url: "${hang.url}", timeout: 100ms}`,
    );
    const res = await app.post('/webhook', fixture(FIRING));
    expect(res.status).to.equal(202);
    expect(res.body.targets[0]).to.include({ state: 'failed', reason: 'timeout', retryable: true });
  });

  it('keeps the old config when a reload fails, and swaps to a good one', async () => {
    const a = await target();
    const b = await target();
    app = await startApp(yaml(`  - {name: a, type: webhook, url: "${a.url}"}`));
    app.setConfig('targets: [');
    const failed = await app.post('/-/reload', undefined);
    expect(failed.status).to.equal(500);
    expect(failed.text).to.contain('not valid YAML');
    expect((await app.get('/metrics')).text).to.match(/alertmux_config_last_reload_successful 0/);
    expect((await app.post('/webhook', fixture(FIRING))).status).to.equal(200);
    expect(a.received).to.have.length(1);

    app.setConfig(yaml(`  - {name: b, type: webhook, url: "${b.url}"}`));
    expect((await app.post('/-/reload', undefined)).status).to.equal(200);
    expect((await app.get('/metrics')).text).to.match(/alertmux_config_last_reload_successful 1/);
    await app.post('/webhook', fixture('am025-grouped-firing.json'));
    expect(b.received).to.have.length(1);
    expect(a.received).to.have.length(1);
  });

  it('keeps health and breaker state of unchanged targets across a reload, and resets changed ones', async () => {
    const down = await refusedPort();
    const ok = await target();
    const text = (okTimeout: string) =>
      yaml(`  - {name: down, type: webhook, url: "http://127.0.0.1:${down}"}\n  - {name: ok, type: webhook, url: "${ok.url}", timeout: ${okTimeout}}`);
    app = await startApp(text('1s'));
    await app.post('/webhook', fixture(FIRING));
    const before = app.mux.runtime().targets;
    app.setConfig(text('2s'));
    expect((await app.mux.reload()).ok).to.equal(true);
    const after = app.mux.runtime().targets;
    expect(after.get('down')).to.equal(before.get('down'));
    expect(after.get('down')?.health.snapshot().failed).to.be.greaterThan(0);
    expect(after.get('ok')).to.not.equal(before.get('ok'));
    expect(after.get('ok')?.health.status).to.equal('unknown');
  });

  it('protects the admin API with its own token when configured', async () => {
    const t = await target();
    app = await startApp(yaml(`  - {name: a, type: webhook, url: "${t.url}"}`, 'admin: {bearer_token: adm}'));
    expect((await app.get('/api/v1/targets')).status).to.equal(401);
    expect((await app.post('/-/reload', undefined)).status).to.equal(401);
    const ok = await app.get('/api/v1/targets', { authorization: 'Bearer adm' });
    expect(ok.status).to.equal(200);
    expect(ok.body.targets[0]).to.include({ name: 'a', type: 'webhook', health: 'unknown' });
    expect(ok.body.targets[0].config.url).to.equal('<secret>');
    expect((await app.get('/metrics')).status).to.equal(200);
    expect((await app.get('/-/healthy')).status).to.equal(200);
  });

  it('answers 503 to new notifications and readiness once it is shutting down', async () => {
    const t = await target();
    app = await startApp(yaml(`  - {name: a, type: webhook, url: "${t.url}"}`));
    expect((await app.get('/-/ready')).status).to.equal(200);
    const closing = app.mux.close(1000);
    expect((await app.post('/webhook', fixture(FIRING))).status).to.equal(503);
    expect((await app.get('/-/ready')).status).to.equal(503);
    await closing;
  });
});
