import { expect } from 'chai';
import sinon from 'sinon';
import { Registry } from 'prom-client';
import { MockAgent } from 'undici';
import { buildApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { nopLogger } from '../../src/observability/logger.js';
import { fixture } from '../helpers/fixtures.js';
import type { WebhookMessage } from '../../src/alerts/types.js';
import { targetKinds } from '../../src/publishers/registry.js';

const ORIGIN = 'http://target.test';

/** The app on fake timers: a MockAgent stands in for the target, the clock is sinon's. */
async function setup(extra = '', random = 0.5, retry = 'retry: {initial_backoff: 1s, max_backoff: 1m, max_attempts: 4}') {
  const clock = sinon.useFakeTimers({ now: Date.parse('2026-11-22T23:00:00Z'), toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  const agent = new MockAgent();
  agent.disableNetConnect();
  const pool = agent.get(ORIGIN);
  const bodies: WebhookMessage[] = [];
  const mux: App = await buildApp({
    loadConfig: () =>
      parseConfig(
        `storage: {path: ":memory:"}
${retry}
${extra}
targets:
  - {name: t, type: webhook, url: "${ORIGIN}/hook"}`,
        { env: {}, baseDir: '/tmp', kinds: targetKinds },
      ),
    logger: nopLogger(),
    registry: new Registry(),
    http: agent,
    now: () => Date.now(),
    random: () => random,
  });
  const reply = (status: number, headers: Record<string, string> = {}, times = 1, delayMs = 0) => {
    const scope = pool
      .intercept({ path: '/hook', method: 'POST' })
      .reply(status, (opts) => {
        bodies.push(JSON.parse(String(opts.body)) as WebhookMessage);
        return status === 200 ? 'ok' : 'nope';
      }, { headers });
    if (delayMs) scope.delay(delayMs);
    scope.times(times);
  };
  return {
    clock,
    mux,
    bodies,
    reply,
    /** Let the worker run everything due within `ms`. */
    advance: async (ms: number) => {
      await clock.tickAsync(ms);
      await mux.dispatcher.idle();
      mux.dispatcher.flush();
    },
    done: async () => {
      clock.restore();
      await mux.close(100);
      await agent.close();
    },
  };
}

type Setup = Awaited<ReturnType<typeof setup>>;

/** Notification number `i`: its own group, so none supersedes another. */
function group(i: number, severity: string): WebhookMessage {
  const msg = fixture('am025-firing-1-firing-noauth.json');
  msg.groupKey = `{}:{alertname="G${i}"}`;
  msg.alerts = msg.alerts.map((a) => ({ ...a, labels: { ...a.labels, alertname: `G${i}`, severity }, fingerprint: '' }));
  return msg;
}

describe('durable retries (fake timers)', () => {
  let s: Setup | undefined;
  afterEach(async () => {
    await s?.done();
    s = undefined;
  });

  it('retries a 5xx after a full-jitter backoff, growing per attempt', async () => {
    s = await setup('', 0.5);
    s.reply(503, {}, 2);
    s.reply(200);
    const res = await s.mux.dispatch(fixture());
    s.mux.dispatcher.flush();
    expect(res.targets[0]).to.include({ state: 'failed', retryable: true, attempts: 1 });
    // attempt 1 failed: jitter 0.5 × 1s = 500 ms
    expect(Date.parse(res.targets[0]!.nextAttemptAt!) - Date.now()).to.equal(500);
    await s.advance(499);
    expect(s.bodies).to.have.length(1);
    await s.advance(1);
    expect(s.bodies).to.have.length(2);
    // attempt 2 failed: 0.5 × 2s = 1 s
    const pending = (await s.mux.store.list({ state: 'pending' }))[0]!;
    expect(pending.attempts).to.equal(2);
    expect(pending.nextAttemptAt! - Date.now()).to.equal(1000);
    await s.advance(1000);
    expect(s.bodies).to.have.length(3);
    expect((await s.mux.store.getDelivery(pending.id))).to.include({ state: 'delivered', attempts: 3 });
  });

  it('waits at least what Retry-After asks for', async () => {
    s = await setup('', 0);
    s.reply(429, { 'retry-after': '30' });
    s.reply(200);
    const res = await s.mux.dispatch(fixture());
    expect(res.targets[0]).to.include({ state: 'failed', reason: 'rateLimited', retryable: true });
    await s.advance(29_999);
    expect(s.bodies).to.have.length(1);
    await s.advance(1);
    expect(s.bodies).to.have.length(2);
  });

  it('dead-letters a delivery after max_attempts with its last error', async () => {
    s = await setup('', 0);
    s.reply(500, {}, 4);
    const res = await s.mux.dispatch(fixture());
    await s.advance(10);
    await s.advance(10);
    await s.advance(10);
    expect(s.bodies).to.have.length(4);
    const dead = (await s.mux.store.getDelivery(res.targets[0]!.deliveryId!))!;
    expect(dead).to.include({ state: 'dead', attempts: 4, lastReason: 'serverError', lastStatus: 500 });
    expect(dead.lastError).to.contain('500');
    await s.advance(60_000);
    expect(s.bodies).to.have.length(4);
  });

  it('dead-letters a delivery that would retry past max_age', async () => {
    s = await setup('', 1, 'retry: {initial_backoff: 1h, max_backoff: 1h, max_age: 30m}');
    s.reply(500);
    const res = await s.mux.dispatch(fixture());
    expect(res.targets[0]).to.include({ state: 'failed', deadLettered: true });
  });

  it('counts max_age from a replay, not from when the notification arrived (the history and createdAt stay)', async () => {
    // The breaker and health stay out of it: only the retry budget decides.
    s = await setup('breaker: {consecutive_failures: 1000}\nhealth: {unhealthy_after: 1000}', 0.5, 'retry: {initial_backoff: 1s, max_backoff: 1s, max_attempts: 100, max_age: 10s}');
    s.reply(503, {}, 100);
    const res = await s.mux.dispatch(fixture());
    const id = res.targets[0]!.deliveryId!;
    await s.advance(20_000);
    await s.mux.dispatcher.flush();
    const dead = (await s.mux.store.getDelivery(id))!;
    expect(dead.state).to.equal('dead');
    // A day later, long past max_age from its creation: the replay still gets its own 10 s of retries.
    await s.clock.tickAsync(24 * 3600_000);
    const replayedAt = Date.now();
    expect((await s.mux.store.replay({ ids: [id] }, replayedAt)).ids).to.deep.equal([id]);
    s.mux.worker.wake();
    await s.advance(5_000);
    await s.mux.dispatcher.flush();
    const retrying = (await s.mux.store.getDelivery(id))!;
    expect(retrying.state).to.equal('pending');
    expect(retrying.attempts).to.be.greaterThan(dead.attempts + 1);
    expect(retrying.createdAt).to.equal(dead.createdAt);
    await s.advance(20_000);
    await s.mux.dispatcher.flush();
    const again = (await s.mux.store.getDelivery(id))!;
    expect(again.state).to.equal('dead');
    expect((await s.mux.store.attemptsOf(id))).to.have.length(again.attempts);
    expect((await s.mux.store.attemptsOf(id)).filter((a) => a.replay).map((a) => a.attempt)).to.deep.equal([dead.attempts + 1]);
  });

  it('lets a newer notification of the same group supersede a pending retry, so a resolve never follows a stale trigger', async () => {
    s = await setup('', 0.5);
    s.reply(503);
    const firing = fixture('am025-firing-2-firing-firing-noauth.json');
    const first = await s.mux.dispatch(firing);
    expect(first.targets[0]).to.include({ state: 'failed' });
    s.reply(200);
    const resolved = fixture('am025-firing-2-firing-resolved-noauth.json');
    expect(resolved.groupKey).to.equal(firing.groupKey);
    const second = await s.mux.dispatch(resolved);
    expect(second.targets[0]).to.include({ state: 'succeeded' });
    expect((await s.mux.store.getDelivery(first.targets[0]!.deliveryId!))).to.include({ state: 'superseded' });
    await s.advance(60_000);
    // The failed trigger was never re-sent after the newer state went out.
    expect(s.bodies).to.deep.equal([firing, resolved]);
  });

  it('keeps a flaky target closed and degraded, and its failed deliveries on their own backoff (default breaker and health)', async () => {
    s = await setup('', 0.5);
    // Two of every three requests fail: a ratio that used to open the breaker, from a target that is alive.
    for (let i = 0; i < 10; i++) {
      s.reply(500, {}, 2);
      s.reply(200);
    }
    const results = [];
    for (let i = 0; i < 30; i++) results.push(await s.mux.dispatch(group(i, 'critical')));
    expect(results.map((r) => r.targets[0]!.state)).to.deep.equal(Array.from({ length: 30 }, (_, i) => (i % 3 === 2 ? 'succeeded' : 'failed')));
    const target = s.mux.runtime().targets.get('t')!;
    expect(target.breaker.state).to.equal('closed');
    expect(target.health.status).to.equal('degraded');
    await s.mux.dispatcher.flush();
    const pending = (await s.mux.store.list({ state: 'pending' }));
    expect(pending).to.have.length(20);
    for (const d of pending) {
      expect(d.skipReason).to.equal(undefined);
      // Attempt 1 failed: jitter 0.5 × 1s.
      expect(d.nextAttemptAt! - d.updatedAt!).to.equal(500);
    }
    s.reply(200, {}, 20);
    await s.advance(499);
    expect(s.bodies).to.have.length(30);
    await s.advance(1);
    expect(s.bodies).to.have.length(50);
    expect((await s.mux.store.list({ state: 'pending' }))).to.have.length(0);
  });

  it('drains the whole backlog of a down target as soon as its half-open trial succeeds, not one per cooldown', async () => {
    s = await setup('health: {unhealthy_after: 100}\nbreaker: {consecutive_failures: 2, cooldown: 30s}', 0.5);
    s.reply(503, {}, 2);
    await s.mux.dispatch(group(1, 'critical'));
    await s.mux.dispatch(group(2, 'critical'));
    const target = s.mux.runtime().targets.get('t')!;
    expect(target.breaker.state).to.equal('open');
    for (let i = 3; i <= 12; i++) {
      const res = await s.mux.dispatch(group(i, 'critical'));
      expect(res.targets[0]).to.include({ state: 'skipped', skipReason: 'circuit_open', queued: true });
    }
    s.reply(200, {}, 12);
    await s.advance(29_999);
    expect(s.bodies).to.have.length(2);
    // The trial goes at the end of the cooldown; its success closes the breaker and wakes the other eleven.
    await s.advance(1);
    for (let i = 0; i < 10 && s.bodies.length < 14; i++) await s.advance(10);
    expect(target.breaker.state).to.equal('closed');
    expect(new Set(s.bodies.slice(2).map((b) => b.groupKey)).size).to.equal(12);
    expect((await s.mux.store.list({ state: 'pending' }))).to.have.length(0);
  });

  it('drains a recovered backlog with at most half of max_concurrency in flight, leaving the rest to the others', async () => {
    s = await setup('dispatch: {max_concurrency: 4}\nhealth: {unhealthy_after: 100}\nbreaker: {consecutive_failures: 2, cooldown: 30s}', 0.5);
    s.reply(503, {}, 2);
    for (let i = 1; i <= 12; i++) await s.mux.dispatch(group(i, 'critical'));
    s.reply(200, {}, 12, 500);
    for (let i = 0; i < 30; i++) await s.clock.tickAsync(1000);
    expect(s.mux.dispatcher.inFlight).to.equal(1); // the trial
    let most = 0;
    for (let i = 0; i < 100 && s.bodies.length < 14; i++) {
      await s.clock.tickAsync(50);
      most = Math.max(most, s.mux.dispatcher.inFlight);
    }
    await s.advance(1000);
    expect(new Set(s.bodies.slice(2).map((b) => b.groupKey)).size).to.equal(12);
    expect(most).to.equal(2);
  });

  it('puts critical deliveries before warnings when many are due at once', async () => {
    s = await setup('dispatch: {max_concurrency: 1}\nhealth: {unhealthy_after: 100}\nbreaker: {consecutive_failures: 100}', 1);
    s.reply(503, {}, 4);
    for (const [i, sev] of [[1, 'info'], [2, 'warning'], [3, 'critical'], [4, 'warning']] as const) await s.mux.dispatch(group(i, sev));
    s.bodies.length = 0;
    s.reply(200, {}, 4);
    await s.advance(1000);
    for (let i = 0; i < 4 && s.bodies.length < 4; i++) await s.advance(10);
    expect(s.bodies.map((b) => b.alerts[0]!.labels['severity'])).to.deep.equal(['critical', 'warning', 'warning', 'info']);
  });
});
