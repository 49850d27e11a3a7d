import { expect } from 'chai';
import { afterFailure, backoffDelay, priorityOf, type RetryConfig } from '../../src/delivery/backoff.js';
import type { Outcome } from '../../src/publishers/publisher.js';

const cfg: RetryConfig = { initial_backoff: 1_000, multiplier: 2, max_backoff: 300_000, max_attempts: 12, max_age: 86_400_000 };
type Failure = Extract<Outcome, { ok: false }>;
const retryable: Failure = { ok: false, retryable: true, reason: 'serverError', status: 503, message: 'unexpected status code 503' };
const permanent: Failure = { ok: false, retryable: false, reason: 'clientError', status: 400, message: 'unexpected status code 400' };
const zero = () => 0;
const one = () => 1;
const almostOne = () => 1 - Number.EPSILON;

describe('retry backoff', () => {
  describe('backoffDelay (full jitter)', () => {
    it('waits nothing at the bottom of the jitter', () => {
      for (let attempt = 1; attempt <= 20; attempt++) expect(backoffDelay(attempt, cfg, zero)).to.equal(0);
    });

    it('grows the ceiling by the multiplier per attempt, capped at max_backoff', () => {
      const ceilings = Array.from({ length: 12 }, (_, i) => backoffDelay(i + 1, cfg, one));
      expect(ceilings).to.deep.equal([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000, 300_000, 300_000]);
    });

    it('stays below the ceiling for any value Math.random can give', () => {
      expect(backoffDelay(1, cfg, almostOne)).to.equal(999);
      expect(backoffDelay(30, cfg, almostOne)).to.equal(299_999);
      expect(backoffDelay(3, cfg, () => 0.5)).to.equal(2_000);
    });

    it('uses another multiplier when configured', () => {
      expect([1, 2, 3].map((a) => backoffDelay(a, { ...cfg, multiplier: 3 }, one))).to.deep.equal([1_000, 3_000, 9_000]);
      expect([1, 2, 3].map((a) => backoffDelay(a, { ...cfg, multiplier: 1 }, one))).to.deep.equal([1_000, 1_000, 1_000]);
    });

    it('spreads real random delays over [0, ceiling)', () => {
      const delays = Array.from({ length: 200 }, () => backoffDelay(4, cfg));
      expect(Math.min(...delays)).to.be.at.least(0);
      expect(Math.max(...delays)).to.be.below(8_000);
      expect(new Set(delays).size).to.be.greaterThan(100);
    });

    it('does not overflow for huge attempt numbers', () => {
      expect(backoffDelay(10_000, cfg, one)).to.equal(300_000);
    });
  });

  describe('afterFailure', () => {
    const created = Date.parse('2026-11-22T23:00:00Z');

    it('dead-letters a permanent failure at once', () => {
      expect(afterFailure(permanent, 1, created, created, cfg, zero)).to.deep.equal({ state: 'dead', why: 'permanent failure' });
    });

    it('schedules a retryable failure after its backoff', () => {
      const now = created + 5_000;
      expect(afterFailure(retryable, 3, created, now, cfg, one)).to.deep.equal({ state: 'pending', nextAttemptAt: now + 4_000 });
      expect(afterFailure(retryable, 3, created, now, cfg, zero)).to.deep.equal({ state: 'pending', nextAttemptAt: now });
    });

    it('honours Retry-After as a floor under the jittered backoff', () => {
      const rateLimited: Failure = { ...retryable, reason: 'rateLimited', status: 429, retryAfterMs: 30_000 };
      expect(afterFailure(rateLimited, 1, created, created, cfg, zero)).to.deep.equal({ state: 'pending', nextAttemptAt: created + 30_000 });
      // A longer backoff wins over a shorter Retry-After.
      expect(afterFailure({ ...rateLimited, retryAfterMs: 500 }, 1, created, created, cfg, one)).to.deep.equal({ state: 'pending', nextAttemptAt: created + 1_000 });
      // Even beyond max_backoff.
      expect(afterFailure({ ...rateLimited, retryAfterMs: 600_000 }, 1, created, created, cfg, one)).to.deep.equal({ state: 'pending', nextAttemptAt: created + 600_000 });
    });

    it('dead-letters after max_attempts attempts', () => {
      expect(afterFailure(retryable, 11, created, created, cfg, zero).state).to.equal('pending');
      expect(afterFailure(retryable, 12, created, created, cfg, zero)).to.deep.equal({ state: 'dead', why: 'gave up after 12 attempts' });
      expect(afterFailure(retryable, 13, created, created, cfg, zero).state).to.equal('dead');
    });

    it('dead-letters when the next attempt would come after max_age', () => {
      const lastMoment = created + cfg.max_age;
      expect(afterFailure(retryable, 2, created, lastMoment, cfg, zero)).to.deep.equal({ state: 'pending', nextAttemptAt: lastMoment });
      expect(afterFailure(retryable, 2, created, lastMoment - 1_000, cfg, one)).to.deep.equal({ state: 'dead', why: 'gave up after max_age (2 attempts)' });
      expect(afterFailure({ ...retryable, retryAfterMs: 2 * cfg.max_age }, 1, created, created, cfg, zero).state).to.equal('dead');
    });
  });

  describe('priorityOf', () => {
    it('ranks critical before error before warning before anything else', () => {
      expect(priorityOf(['critical'])).to.equal(0);
      expect(priorityOf(['error'])).to.equal(1);
      expect(priorityOf(['warning'])).to.equal(2);
      expect(priorityOf(['info'])).to.equal(3);
      expect(priorityOf([undefined])).to.equal(3);
      expect(priorityOf([])).to.equal(3);
    });

    it('takes the most urgent severity of a group, in any case', () => {
      expect(priorityOf(['info', 'warning', 'CRITICAL', undefined])).to.equal(0);
      expect(priorityOf(new Set(['Warning', 'Error']))).to.equal(1);
    });

    it('ranks severities named like Object.prototype members as the rest', () => {
      for (const s of ['constructor', 'Constructor', '__proto__', 'toString', 'hasOwnProperty']) expect(priorityOf([s]), s).to.equal(3);
    });

    it('orders deliveries by urgency when sorted', () => {
      const groups = [['info'], ['warning', 'info'], ['critical'], ['error']];
      expect(groups.map(priorityOf).sort()).to.deep.equal([0, 1, 2, 3]);
      expect([...groups].sort((a, b) => priorityOf(a) - priorityOf(b))).to.deep.equal([['critical'], ['error'], ['warning', 'info'], ['info']]);
    });
  });
});
