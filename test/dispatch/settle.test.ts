import { expect } from 'chai';
import { Settler, type AttemptMeta } from '../../src/dispatch/settle.js';
import { recordingLogger, type LogLine } from '../helpers/logs.js';
import { targetMessage, webhookMessage } from '../helpers/fixtures.js';
import { deliveryRecord, metricValue, runtimeOf, targetOf } from '../helpers/targets.js';
import type { Registry } from 'prom-client';
import type { DeliveryRecord, DeliveryUpdate } from '../../src/delivery/types.js';
import type { TargetRuntime } from '../../src/dispatch/runtime.js';
import type { Outcome } from '../../src/publishers/publisher.js';

const HOUR = 3_600_000;
const ok: Outcome = { ok: true, status: 202 };
const unavailable: Outcome = { ok: false, retryable: true, reason: 'serverError', message: 'unexpected status code 503', status: 503 };
const badRequest: Outcome = { ok: false, retryable: false, reason: 'clientError', message: 'unexpected status code 400', status: 400 };

describe('settling an outcome (fake clock, injected random, fake ledger)', () => {
  let now: number;
  let t: TargetRuntime;
  let registry: Registry;
  let settler: Settler;
  let updates: DeliveryUpdate[];
  let lines: LogLine[];
  let reached: string[];
  let latestSeq: number | undefined;
  let asked: number;
  let stopping: AbortController;
  const meta: AttemptMeta = { at: 0, trial: false, replay: false };
  const message = targetMessage(webhookMessage());

  beforeEach(async () => {
    now = Date.parse('2026-12-06T00:00:00Z');
    const built = await runtimeOf(
      `retry: {initial_backoff: 1s, multiplier: 2, max_backoff: 1m, max_attempts: 3, max_age: 1h}
breaker: {consecutive_failures: 1, cooldown: 30s}
targets:
  - {name: t, type: webhook, url: "http://t.test/hook"}`,
      () => now,
    );
    t = targetOf(built.rt, 't');
    registry = built.registry;
    updates = [];
    reached = [];
    latestSeq = undefined;
    asked = 0;
    stopping = new AbortController();
    const recording = recordingLogger();
    lines = recording.lines;
    settler = new Settler({
      metrics: built.metrics,
      logger: recording.logger,
      now: () => now,
      random: () => 0.5,
      runtime: () => built.rt,
      store: {
        latestSeq: async () => {
          asked++;
          return latestSeq;
        },
      },
      write: (u) => updates.push(u),
      reached: (target) => reached.push(target),
      stopping: stopping.signal,
    });
  });
  const record = (overrides: Partial<DeliveryRecord> = {}) => deliveryRecord({ createdAt: now, ...overrides });
  const settle = (r: DeliveryRecord, outcome: Outcome, attempts = r.attempts + 1) => settler.settle(r, t, message, outcome, attempts, 12.5, { ...meta, at: now });
  const logged = (text: string) => lines.filter((l) => l.message === text);

  it('records a delivered outcome at once (no ledger question, no promise) and queues its write with the attempt', async () => {
    const r = record({ lastReason: 'serverError', lastError: 'old', retryable: true });
    const settled = settle(r, ok);
    expect(settled).not.to.be.instanceOf(Promise);
    expect(settled).to.equal(r);
    expect(r).to.deep.include({ state: 'delivered', attempts: 1, lastStatus: 202, deliveredAt: now, updatedAt: now, durationMs: 12.5 });
    expect(r.lastReason).to.equal(undefined);
    expect(r.lastError).to.equal(undefined);
    expect(asked).to.equal(0);
    expect(updates).to.have.length(1);
    expect(updates[0]).to.deep.include({ id: r.id, state: 'delivered', skipReason: null, lastError: null, nextAttemptAt: null, attemptedAt: now, deliveredAt: now });
    expect(reached).to.deep.equal(['t']);
    expect(t.health.snapshot().succeeded).to.equal(1);
    expect(await metricValue(registry, 'alertmux_notifications_delivered_total', { target: 't' })).to.equal(1);
    expect(logged('delivered')[0]?.level).to.equal('debug');
  });

  it('logs a success after retries at info', () => {
    settle(record({ attempts: 2 }), ok);
    expect(logged('delivered after retries')[0]).to.deep.include({ level: 'info' });
    expect(logged('delivered after retries')[0]?.meta).to.include({ attempts: 3, statusCode: 202 });
  });

  it('puts a retryable failure back to pending after a backoff drawn from the injected random, once the ledger says nothing newer came', async () => {
    const r = record({ attempts: 1 });
    latestSeq = r.seq;
    const settling = settle(r, unavailable);
    expect(settling).to.be.instanceOf(Promise);
    const settled = await settling;
    // attempt 2: half (random 0.5) of initial_backoff × 2
    expect(settled).to.deep.include({ state: 'pending', attempts: 2, nextAttemptAt: now + 1_000, lastReason: 'serverError', lastStatus: 503, retryable: true });
    expect(settled.skipReason).to.equal(undefined);
    expect(updates.map((u) => [u.state, u.nextAttemptAt, u.lastError])).to.deep.equal([['pending', now + 1_000, 'unexpected status code 503']]);
    expect(reached).to.deep.equal([]);
    expect(t.breaker.state).to.equal('open');
    expect(logged('delivery failed; will retry')[0]?.meta).to.include({ nextAttemptAt: new Date(now + 1_000).toISOString(), attempts: 2, reason: 'serverError' });
    expect(await metricValue(registry, 'alertmux_notifications_failed_total', { target: 't', reason: 'serverError' })).to.equal(1);
  });

  it('supersedes a failed delivery when a newer notification of its group is in the ledger', async () => {
    const r = record();
    latestSeq = r.seq + 1;
    const settled = await settle(r, unavailable);
    expect(settled).to.deep.include({ state: 'superseded', skipReason: 'superseded', nextAttemptAt: undefined });
    expect(updates[0]).to.deep.include({ state: 'superseded', skipReason: 'superseded', attemptedAt: now });
    expect(logged('delivery failed; will retry')).to.have.length(0);
  });

  it('keeps a fallback delivery out of supersede: it retries without asking the ledger', () => {
    latestSeq = 1e9;
    const settled = settle(record({ fallbackOf: 'd_other', fallbackFor: 'pd' }), unavailable);
    expect(settled).not.to.be.instanceOf(Promise);
    expect((settled as DeliveryRecord).state).to.equal('pending');
    expect(asked).to.equal(0);
  });

  it('dead-letters a permanent failure at once, saying why', async () => {
    const settled = settle(record(), badRequest);
    expect(settled).not.to.be.instanceOf(Promise);
    expect(settled).to.deep.include({ state: 'dead', retryable: false, lastReason: 'clientError' });
    expect(logged('delivery dead-lettered')[0]?.meta).to.include({ why: 'permanent failure', reason: 'clientError' });
    expect(await metricValue(registry, 'alertmux_dead_letters_total', { target: 't', reason: 'clientError' })).to.equal(1);
    // a permanent failure is the target answering: it does not count against the breaker
    expect(t.breaker.state).to.equal('closed');
    expect(reached).to.deep.equal(['t']);
  });

  it('dead-letters a retryable failure at max_attempts', () => {
    const settled = settle(record({ attempts: 2 }), unavailable);
    expect(settled).to.deep.include({ state: 'dead', attempts: 3 });
    expect(logged('delivery dead-lettered')[0]?.meta).to.include({ why: 'gave up after 3 attempts' });
  });

  it('dead-letters a retryable failure whose next attempt would fall past max_age', () => {
    // attempt 1 waits 500 ms (half of 1 s); the delivery has 499 ms of max_age left
    const settled = settle(record({ createdAt: now - HOUR + 499 }), unavailable);
    expect(settled).to.deep.include({ state: 'dead' });
    expect(logged('delivery dead-lettered')[0]?.meta).to.include({ why: 'gave up after max_age (1 attempts)' });
  });

  it('counts max_attempts and max_age from a replay: an old, much-tried delivery retries again', async () => {
    const r = record({ attempts: 5, attemptsAtReplay: 4, createdAt: now - 5 * HOUR, replayedAt: now - 1_000 });
    latestSeq = r.seq;
    const settled = await settle(r, unavailable);
    // budget attempt 2 of the replay: 1 s backoff; attempts and createdAt stay the history's
    expect(settled).to.deep.include({ state: 'pending', attempts: 6, nextAttemptAt: now + 1_000, createdAt: now - 5 * HOUR });
  });

  it('while stopping, puts a failure back to pending now without recording it on the breaker or health', () => {
    stopping.abort();
    const settled = settle(record(), unavailable);
    expect(settled).not.to.be.instanceOf(Promise);
    expect(settled).to.deep.include({ state: 'pending', nextAttemptAt: now, lastReason: 'serverError' });
    expect(updates[0]).to.deep.include({ state: 'pending', nextAttemptAt: now, attemptedAt: now });
    expect(t.breaker.state).to.equal('closed');
    expect(t.health.snapshot()).to.deep.include({ failed: 0, succeeded: 0 });
    expect(asked).to.equal(0);
  });

  it('while stopping, gives back a half-open trial unused', () => {
    t.breaker.tryAcquire();
    t.breaker.record(false);
    now += 30_000;
    expect(t.breaker.tryAcquire()).to.equal(true);
    expect(t.breaker.tryAcquire()).to.equal(false);
    stopping.abort();
    settle(record(), unavailable);
    expect(t.breaker.state).to.equal('half_open');
    expect(t.breaker.tryAcquire()).to.equal(true);
  });

  it('applies a state without an attempt: no attempt on record, and the due time and skip reason as given', () => {
    const r = record({ attempts: 2 });
    settler.apply(r, 'pending', 'circuit_open', now + 30_000);
    expect(r).to.deep.include({ state: 'pending', skipReason: 'circuit_open', nextAttemptAt: now + 30_000, updatedAt: now });
    expect(updates[0]).to.deep.include({ attempts: 2, skipReason: 'circuit_open', nextAttemptAt: now + 30_000, attemptedAt: null, trial: false, replay: false });
  });
});
