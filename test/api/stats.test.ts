import { expect } from 'chai';
import { DispatchStats } from '../../src/api/stats.js';
import type { DispatchResult } from '../../src/dispatch/result.js';

const result = (outcome: DispatchResult['outcome'], durationMs: number) => ({ outcome, durationMs }) as DispatchResult;

describe('dispatch stats for the publish status API', () => {
  it('counts every dispatch, and rates and percentiles over the window only', () => {
    let now = 0;
    const stats = new DispatchStats(60_000, () => now);
    stats.record(result('failed', 900));
    now = 61_000;
    for (let i = 1; i <= 100; i++) stats.record(result(i <= 75 ? 'delivered' : 'partial', i));
    const snap = stats.snapshot();
    expect(snap.total).to.equal(101);
    expect(snap.byOutcome).to.deep.equal({ delivered: 75, partial: 25, failed: 1, accepted: 0 });
    expect(snap.window).to.include({ count: 100, successRate: 0.75, partialRate: 0.25, failureRate: 0 });
    expect(snap.window.latencyMs.p50).to.be.within(50, 51);
    expect(snap.window.latencyMs.p99).to.be.within(99, 100);
  });

  it('keeps the last 10,000 dispatches for the window, the oldest replaced first', () => {
    const stats = new DispatchStats(60_000, () => 0);
    for (let i = 0; i < 10_000; i++) stats.record(result('failed', 1000));
    for (let i = 0; i < 10_000; i++) stats.record(result('delivered', 1));
    const snap = stats.snapshot();
    expect(snap.total).to.equal(20_000);
    expect(snap.window).to.include({ count: 10_000, successRate: 1 });
    expect(snap.window.latencyMs.p99).to.equal(1);
  });
});
