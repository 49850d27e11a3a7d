import { expect } from 'chai';
import { CircuitBreaker, type BreakerState } from '../../src/health/breaker.js';
import { seededRandom } from '../helpers/random.js';
import type { Config } from '../../src/config/types.js';

const cfg: Config['breaker'] = {
  consecutive_failures: 3,
  failure_ratio: 0.5,
  min_requests: 6,
  window: 60_000,
  cooldown: 30_000,
  max_cooldown: 100_000,
};

describe('CircuitBreaker', () => {
  let now: number;
  let transitions: Array<[BreakerState, BreakerState]>;
  let breaker: CircuitBreaker;

  const make = (c: Config['breaker'] = cfg) => new CircuitBreaker(c, () => now, (from, to) => transitions.push([from, to]));
  /** One delivery through the breaker, as the dispatcher makes it. */
  const deliver = (ok: boolean): boolean => {
    if (!breaker.tryAcquire()) return false;
    breaker.record(ok);
    return true;
  };
  const fail = (n: number) => {
    for (let i = 0; i < n; i++) deliver(false);
  };
  /** Trip, wait the cooldown out, and fail the half-open trial: `trips` times in a row. */
  const cooldowns = (trips: number): number[] => {
    const seen: number[] = [];
    fail(cfg.consecutive_failures);
    for (let i = 0; i < trips; i++) {
      const at = breaker.opensTrialAt!;
      seen.push(at - now);
      now = at;
      expect(deliver(false)).to.equal(true);
    }
    return seen;
  };

  beforeEach(() => {
    now = 1_000_000;
    transitions = [];
    breaker = make();
  });

  it('starts closed and lets deliveries through', () => {
    expect(breaker.state).to.equal('closed');
    expect(breaker.tryAcquire()).to.equal(true);
    expect(breaker.tryAcquire()).to.equal(true);
    expect(breaker.opensTrialAt).to.equal(undefined);
  });

  it('opens after consecutive_failures failures in a row', () => {
    fail(2);
    expect(breaker.state).to.equal('closed');
    fail(1);
    expect(breaker.state).to.equal('open');
    expect(breaker.tryAcquire()).to.equal(false);
    expect(transitions).to.deep.equal([['closed', 'open']]);
  });

  it('starts counting again after a success', () => {
    fail(2);
    deliver(true);
    fail(2);
    expect(breaker.state).to.equal('closed');
    expect(breaker.snapshot().consecutiveFailures).to.equal(2);
  });

  it('stays closed for a flaky target, however high its failure ratio: 50% at random, two of three, every other', () => {
    // As by default: 10 failures in a row with no success yet are down (a flaky target's first ten fail one time in 1,024).
    breaker = make({ ...cfg, consecutive_failures: 10 });
    const random = seededRandom(19);
    // 5,000 outcomes 10 ms apart: the window (1m) holds all of them; runs of 10 and more failures happen.
    for (let i = 0; i < 5_000; i++, now += 10) deliver(random() >= 0.5);
    expect(breaker.state).to.equal('closed');
    for (let i = 0; i < 3_000; i++, now += 10) deliver(i % 3 === 2);
    for (let i = 0; i < 3_000; i++, now += 10) deliver(i % 2 === 0);
    expect(breaker.state).to.equal('closed');
    expect(transitions).to.deep.equal([]);
  });

  it('opens a target that went down after succeeding once its run of failures is longer than bad luck explains', () => {
    // After 100 successes, consecutive_failures are enough.
    for (let i = 0; i < 100; i++) deliver(true);
    fail(3);
    expect(breaker.state).to.equal('open');

    // At a 50% failure ratio, 20 in a row (0.5^20 is about one in a million).
    breaker = make();
    for (let i = 0; i < 40; i++) deliver(i % 2 === 1);
    fail(19);
    expect(breaker.state).to.equal('closed');
    fail(1);
    expect(breaker.state).to.equal('open');
  });

  it('opens once the last success has left the window, whatever the ratio before', () => {
    for (let i = 0; i < 40; i++) deliver(i % 2 === 0);
    fail(10);
    expect(breaker.state).to.equal('closed');
    now += cfg.window + 1;
    fail(1);
    expect(breaker.state).to.equal('open');
  });

  it('reads half-open once the cooldown has passed, and lets exactly one trial through', () => {
    fail(3);
    now += cfg.cooldown - 1;
    expect(breaker.state).to.equal('open');
    expect(breaker.tryAcquire()).to.equal(false);
    now += 1;
    expect(breaker.state).to.equal('half_open');
    expect(breaker.tryAcquire()).to.equal(true);
    expect(breaker.tryAcquire()).to.equal(false);
    expect(breaker.tryAcquire()).to.equal(false);
    expect(transitions).to.deep.equal([
      ['closed', 'open'],
      ['open', 'half_open'],
    ]);
  });

  it('closes when the trial succeeds, with a fresh count and cooldown', () => {
    fail(3);
    now += cfg.cooldown;
    expect(deliver(true)).to.equal(true);
    expect(breaker.state).to.equal('closed');
    expect(transitions.at(-1)).to.deep.equal(['half_open', 'closed']);
    // The trial's success is the window's only sample: a few failures right after it are bad luck, not an outage.
    fail(3);
    expect(breaker.state).to.equal('closed');
    now += cfg.window + 1;
    fail(1);
    expect(breaker.opensTrialAt! - now).to.equal(cfg.cooldown);
  });

  it('re-opens when the trial fails, with a doubled cooldown', () => {
    fail(3);
    now += cfg.cooldown;
    expect(deliver(false)).to.equal(true);
    expect(breaker.state).to.equal('open');
    expect(breaker.opensTrialAt! - now).to.equal(2 * cfg.cooldown);
    expect(transitions).to.deep.equal([
      ['closed', 'open'],
      ['open', 'half_open'],
      ['half_open', 'open'],
    ]);
  });

  it('doubles the cooldown on each repeated trip, capped at max_cooldown', () => {
    expect(cooldowns(4)).to.deep.equal([30_000, 60_000, 100_000, 100_000]);
  });

  it('lets a released trial slot go to the next caller', () => {
    fail(3);
    now += cfg.cooldown;
    expect(breaker.tryAcquire()).to.equal(true);
    breaker.release();
    expect(breaker.state).to.equal('half_open');
    expect(breaker.tryAcquire()).to.equal(true);
    expect(breaker.tryAcquire()).to.equal(false);
  });

  it('gives an operator the trial at once, before the cooldown ends, and only one', () => {
    expect(breaker.forceTrial()).to.equal(false); // closed: nothing to try
    fail(3);
    expect(breaker.state).to.equal('open');
    expect(breaker.forceTrial()).to.equal(true);
    expect(breaker.state).to.equal('half_open');
    expect(breaker.forceTrial()).to.equal(false);
    expect(breaker.tryAcquire()).to.equal(false);
    breaker.record(true);
    expect(breaker.state).to.equal('closed');
    expect(transitions).to.deep.equal([
      ['closed', 'open'],
      ['open', 'half_open'],
      ['half_open', 'closed'],
    ]);
  });

  it('re-opens with a doubled cooldown when a forced trial fails', () => {
    fail(3);
    expect(breaker.forceTrial()).to.equal(true);
    breaker.record(false);
    expect(breaker.state).to.equal('open');
    expect(breaker.opensTrialAt).to.equal(now + 2 * cfg.cooldown);
  });

  it('goes back to open, with its cooldown, when a forced trial is released unused', () => {
    fail(3);
    const reopen = breaker.opensTrialAt;
    now += 1000;
    expect(breaker.forceTrial()).to.equal(true);
    breaker.release();
    expect(breaker.state).to.equal('open');
    expect(breaker.opensTrialAt).to.equal(reopen);
    expect(breaker.tryAcquire()).to.equal(false);
    now = reopen!;
    expect(breaker.tryAcquire()).to.equal(true);
  });

  it('ignores outcomes of deliveries that were in flight when it opened', () => {
    fail(3);
    const reopen = breaker.opensTrialAt;
    breaker.record(true);
    breaker.record(false);
    expect(breaker.state).to.equal('open');
    expect(breaker.opensTrialAt).to.equal(reopen);
  });

  it('reports its state, trips and when the trial opens', () => {
    fail(3);
    expect(breaker.snapshot()).to.deep.equal({
      state: 'open',
      trips: 1,
      consecutiveFailures: 3,
      opensTrialAt: new Date(now + cfg.cooldown).toISOString(),
    });
    now += cfg.cooldown;
    deliver(true);
    expect(breaker.snapshot()).to.deep.equal({ state: 'closed', trips: 0, consecutiveFailures: 0 });
  });
});
