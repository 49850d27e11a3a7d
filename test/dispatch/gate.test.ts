import { expect } from 'chai';
import { gate, heldUntil, isTrial } from '../../src/dispatch/gate.js';
import { PAUSED_UNTIL } from '../../src/dispatch/target-status.js';
import { runtimeOf, targetOf } from '../helpers/targets.js';
import type { TargetRuntime } from '../../src/dispatch/runtime.js';

describe('the gate: pause, breaker trial and health strategy (fake clock)', () => {
  let now: number;
  let t: TargetRuntime;
  beforeEach(async () => {
    now = Date.parse('2026-12-06T00:00:00Z');
    const { rt } = await runtimeOf(
      `health: {unhealthy_after: 3, min_samples: 5, degraded_failure_ratio: 0.2}
breaker: {consecutive_failures: 2, cooldown: 30s}
targets:
  - {name: t, type: webhook, url: "http://t.test/hook"}`,
      () => now,
    );
    t = targetOf(rt, 't');
  });
  const openBreaker = () => {
    for (let i = 0; i < 2; i++) {
      t.breaker.tryAcquire();
      t.breaker.record(false);
    }
    expect(t.breaker.state).to.equal('open');
  };
  const health = (...oks: boolean[]) => oks.forEach((ok) => t.health.record(ok, 5, ok ? undefined : 'boom'));

  it('lets everything through a closed breaker and a healthy target, and none of it is a trial', () => {
    health(true, true);
    for (const mode of ['first', 'retry', 'now'] as const) {
      expect(gate(t, mode, 'skip_unhealthy', 0)).to.equal(undefined);
      expect(isTrial(t, mode, 'skip_unhealthy')).to.equal(false);
    }
  });

  it('holds deliveries behind an open breaker until its trial time', () => {
    openBreaker();
    expect(isTrial(t, 'first', 'skip_unhealthy')).to.equal(true);
    expect(gate(t, 'first', 'skip_unhealthy', 0)).to.equal('circuit_open');
    expect(gate(t, 'retry', 'skip_unhealthy_and_degraded', 0)).to.equal('circuit_open');
    expect(heldUntil('circuit_open', t, now, 30_000)).to.equal(now + 30_000);
  });

  it('lets exactly one trial through a half-open breaker; the others wait until it settles', () => {
    openBreaker();
    now += 30_000;
    expect(t.breaker.state).to.equal('half_open');
    expect(isTrial(t, 'retry', 'skip_unhealthy')).to.equal(true);
    expect(gate(t, 'retry', 'skip_unhealthy', 0)).to.equal(undefined);
    expect(gate(t, 'retry', 'skip_unhealthy', 1)).to.equal('circuit_open');
    expect(gate(t, 'first', 'skip_unhealthy', 1)).to.equal('circuit_open');
    t.breaker.record(true);
    expect(gate(t, 'first', 'skip_unhealthy', 0)).to.equal(undefined);
    expect(isTrial(t, 'first', 'skip_unhealthy')).to.equal(false);
  });

  it("sends through an open breaker under publish_to_all and for an operator's attempt now, taking no trial", () => {
    openBreaker();
    expect(gate(t, 'first', 'publish_to_all', 0)).to.equal(undefined);
    expect(isTrial(t, 'first', 'publish_to_all')).to.equal(false);
    expect(gate(t, 'now', 'skip_unhealthy', 0)).to.equal(undefined);
    expect(isTrial(t, 'now', 'skip_unhealthy')).to.equal(false);
    now += 30_000;
    // the trial is still there for the first delivery that goes through the gate
    expect(gate(t, 'retry', 'skip_unhealthy', 0)).to.equal(undefined);
    expect(gate(t, 'retry', 'skip_unhealthy', 0)).to.equal('circuit_open');
  });

  it('holds first attempts to an unhealthy target, and lets its retries go one at a time', () => {
    health(false, false, false);
    expect(t.health.status).to.equal('unhealthy');
    expect(t.breaker.state).to.equal('closed');
    expect(gate(t, 'first', 'skip_unhealthy', 0)).to.equal('unhealthy');
    expect(gate(t, 'first', 'skip_unhealthy_and_degraded', 0)).to.equal('unhealthy');
    expect(gate(t, 'retry', 'skip_unhealthy', 0)).to.equal(undefined);
    expect(gate(t, 'retry', 'skip_unhealthy', 1)).to.equal('unhealthy');
    expect(gate(t, 'first', 'publish_to_all', 0)).to.equal(undefined);
    expect(heldUntil('unhealthy', t, now, 30_000)).to.equal(now + 30_000);
  });

  it('holds first attempts to a degraded target only under skip_unhealthy_and_degraded; retries go', () => {
    health(true, false, true, false, true, true);
    expect(t.health.status).to.equal('degraded');
    expect(gate(t, 'first', 'skip_unhealthy', 0)).to.equal(undefined);
    expect(gate(t, 'first', 'skip_unhealthy_and_degraded', 0)).to.equal('degraded');
    expect(gate(t, 'first', 'publish_to_all', 0)).to.equal(undefined);
    expect(gate(t, 'retry', 'skip_unhealthy_and_degraded', 3)).to.equal(undefined);
  });

  it('holds everything to a paused target, whatever the strategy or mode, until resumed', () => {
    t.status.paused = true;
    for (const mode of ['first', 'retry', 'now'] as const) {
      for (const strategy of ['skip_unhealthy', 'skip_unhealthy_and_degraded', 'publish_to_all'] as const) {
        expect(gate(t, mode, strategy, 0), `${mode} ${strategy}`).to.equal('paused');
      }
    }
    expect(heldUntil('paused', t, now, 30_000)).to.equal(PAUSED_UNTIL);
    // a pause takes no breaker trial
    openBreaker();
    now += 30_000;
    expect(gate(t, 'retry', 'skip_unhealthy', 0)).to.equal('paused');
    t.status.paused = false;
    expect(gate(t, 'retry', 'skip_unhealthy', 0)).to.equal(undefined);
  });
});
