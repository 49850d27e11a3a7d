import { expect } from 'chai';
import { HEALTH_STATES, HealthMonitor, type Health } from '../../src/health/monitor.js';
import type { Config } from '../../src/config/types.js';
import { seededRandom } from '../helpers/random.js';

const cfg: Config['health'] = {
  unhealthy_after: 3,
  window: 60_000,
  min_samples: 5,
  degraded_failure_ratio: 0.2,
  degraded_p95: 1_000,
};

describe('HealthMonitor', () => {
  let now: number;
  let changes: Array<[Health, Health]>;
  let monitor: HealthMonitor;

  const make = (c: Config['health'] = cfg) => new HealthMonitor(c, () => now, (from, to) => changes.push([from, to]));
  const record = (outcomes: boolean[], latencyMs = 10) => {
    for (const ok of outcomes) monitor.record(ok, latencyMs, ok ? undefined : 'unexpected status code 503');
  };

  beforeEach(() => {
    now = Date.parse('2026-11-22T23:00:00Z');
    changes = [];
    monitor = make();
  });

  it('lists its states in order of severity', () => {
    expect(HEALTH_STATES).to.deep.equal(['unknown', 'healthy', 'degraded', 'unhealthy']);
  });

  it('is unknown until there is evidence', () => {
    expect(monitor.status).to.equal('unknown');
    expect(changes).to.deep.equal([]);
    expect(monitor.snapshot()).to.deep.equal({
      status: 'unknown',
      consecutiveFailures: 0,
      succeeded: 0,
      failed: 0,
      window: { samples: 0, failureRatio: 0, p95Ms: 0 },
    });
  });

  it('is healthy after a success', () => {
    record([true]);
    expect(monitor.status).to.equal('healthy');
    expect(changes).to.deep.equal([['unknown', 'healthy']]);
  });

  it('becomes unhealthy after unhealthy_after consecutive failures, even with few samples', () => {
    record([false, false]);
    expect(monitor.status).to.equal('healthy');
    record([false]);
    expect(monitor.status).to.equal('unhealthy');
    expect(changes).to.deep.equal([
      ['unknown', 'healthy'],
      ['healthy', 'unhealthy'],
    ]);
  });

  it('is healthy again after one success', () => {
    record([false, false, false]);
    expect(monitor.status).to.equal('unhealthy');
    record([true]);
    expect(monitor.status).to.equal('healthy');
    expect(changes.at(-1)).to.deep.equal(['unhealthy', 'healthy']);
  });

  it('becomes degraded when the failure ratio passes its threshold over min_samples', () => {
    record([true, true, true, true, false]); // 1 of 5 = 0.2: not over
    expect(monitor.status).to.equal('healthy');
    record([false]); // 2 of 6
    expect(monitor.status).to.equal('degraded');
    expect(changes).to.deep.equal([
      ['unknown', 'healthy'],
      ['healthy', 'degraded'],
    ]);
  });

  it('does not judge the ratio before min_samples', () => {
    record([true, false, true, false]); // 0.5, but only 4 samples
    expect(monitor.status).to.equal('healthy');
  });

  it('becomes degraded when p95 latency passes its threshold over min_samples', () => {
    for (let i = 0; i < 19; i++) monitor.record(true, 100);
    monitor.record(true, 5_000); // one slow of 20: p95 is still fast
    expect(monitor.status).to.equal('healthy');
    monitor.record(true, 5_000);
    monitor.record(true, 5_000); // 3 slow of 22: p95 is slow
    expect(monitor.status).to.equal('degraded');
  });

  it('judges the p95 by nearest rank: 2 slow of 20 are the p95, a sample at the threshold is not slow', () => {
    for (let i = 0; i < 18; i++) monitor.record(true, 100);
    monitor.record(true, 1_000); // at degraded_p95: not above it
    monitor.record(true, 5_000);
    expect(monitor.status).to.equal('healthy');
    expect(monitor.snapshot().window.p95Ms).to.equal(1_000);
    monitor.record(true, 1_001); // 21 samples: p95 is the 20th, 1,001 ms
    expect(monitor.status).to.equal('degraded');
    expect(monitor.snapshot().window.p95Ms).to.equal(1_001);
  });

  it('recovers when the bad samples leave the window, and reports it when asked', () => {
    record([true, true, true, false, false]);
    expect(monitor.status).to.equal('degraded');
    now += 61_000;
    expect(monitor.status).to.equal('healthy');
    expect(changes.at(-1)).to.deep.equal(['degraded', 'healthy']);
  });

  it('prefers unhealthy to degraded', () => {
    record([true, true, true, false, false, false]);
    // Three failures after three successes can be bad luck: 9 in a row cannot (at a ratio of 1/5, 0.2^9 < 1e-6).
    expect(monitor.status).to.equal('degraded');
    record([false, false, false, false, false]);
    expect(monitor.status).to.equal('degraded');
    record([false]);
    expect(monitor.status).to.equal('unhealthy');
  });

  it('calls a flaky target degraded, never unhealthy by bad luck, and one that stopped succeeding unhealthy', () => {
    const random = seededRandom(7);
    const seen = new Set<Health>();
    for (let i = 0; i < 5_000; i++, now += 10) {
      record([random() >= 0.5]);
      seen.add(monitor.status);
    }
    expect([...seen]).to.have.members(['healthy', 'degraded']);
    expect(monitor.status).to.equal('degraded');
    record(Array.from({ length: 20 }, () => false));
    expect(monitor.status).to.equal('unhealthy');
    record([true]);
    expect(monitor.status).to.equal('degraded');
    expect(changes.at(-1)).to.deep.equal(['unhealthy', 'degraded']);
  });

  it('counts probe results like deliveries and keeps the last probe', () => {
    monitor.recordProbe(false, 20, 'status 502');
    monitor.recordProbe(false, 20, 'status 502');
    monitor.recordProbe(false, 20, 'connection refused');
    expect(monitor.status).to.equal('unhealthy');
    const snap = monitor.snapshot();
    expect(snap.lastProbe).to.deep.equal({ at: '2026-11-22T23:00:00.000Z', ok: false, detail: 'connection refused' });
    expect(snap.lastError).to.equal('health check: connection refused');
    now += 1_000;
    monitor.recordProbe(true, 20, 'status 200');
    expect(monitor.status).to.equal('healthy');
    expect(monitor.snapshot().lastProbe).to.deep.equal({ at: '2026-11-22T23:00:01.000Z', ok: true, detail: 'status 200' });
  });

  it('reports counts, last success and last error in its snapshot', () => {
    monitor.record(true, 40);
    now += 1_000;
    monitor.record(false, 60, 'unexpected status code 503');
    expect(monitor.snapshot()).to.deep.equal({
      status: 'healthy',
      consecutiveFailures: 1,
      succeeded: 1,
      failed: 1,
      lastSuccessAt: '2026-11-22T23:00:00.000Z',
      lastErrorAt: '2026-11-22T23:00:01.000Z',
      lastError: 'unexpected status code 503',
      window: { samples: 2, failureRatio: 0.5, p95Ms: 60 },
    });
  });

  it('reports each change once', () => {
    record([true, true, true]);
    void monitor.status;
    void monitor.snapshot();
    expect(changes).to.deep.equal([['unknown', 'healthy']]);
  });
});
