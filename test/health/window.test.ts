import { expect } from 'chai';
import { SlidingWindow, percentile } from '../../src/health/window.js';
import { seededRandom } from '../helpers/random.js';

/** The obvious implementation the incremental window must agree with. */
function naive(samples: Array<{ at: number; ok: boolean; latencyMs: number }>, windowMs: number, now: number) {
  const kept = samples.filter((s) => s.at >= now - windowMs).slice(-10_000);
  const failures = kept.filter((s) => !s.ok).length;
  return {
    count: kept.length,
    failures,
    failureRatio: kept.length ? failures / kept.length : 0,
    p95: percentile(
      kept.map((s) => s.latencyMs),
      0.95,
    ),
  };
}


describe('SlidingWindow', () => {
  it('summarises nothing as zero', () => {
    expect(new SlidingWindow(1000).summary(0)).to.deep.equal({ count: 0, failures: 0, failureRatio: 0, p95: 0 });
  });

  it('gives the nearest-rank p95 and the failure ratio of what is in the window', () => {
    const w = new SlidingWindow(1000);
    for (let i = 1; i <= 20; i++) w.add(100, i % 4 !== 0, i);
    expect(w.summary(100)).to.deep.equal({ count: 20, failures: 5, failureRatio: 0.25, p95: 19 });
  });

  it('forgets samples older than the window, with their failures and latencies', () => {
    const w = new SlidingWindow(1000);
    w.add(0, false, 500);
    w.add(600, true, 10);
    w.add(900, true, 20);
    expect(w.summary(1200)).to.deep.equal({ count: 2, failures: 0, failureRatio: 0, p95: 20 });
  });

  it('without latencies (the breaker), counts and forgets the same, and has no percentile', () => {
    const w = new SlidingWindow(1000, false);
    w.add(0, false, 500);
    for (let i = 1; i <= 20; i++) w.add(600, i % 4 !== 0, i);
    expect(w.summary(600)).to.deep.equal({ count: 21, failures: 6, failureRatio: 6 / 21, p95: 0 });
    expect(w.summary(1200)).to.deep.equal({ count: 20, failures: 5, failureRatio: 0.25, p95: 0 });
  });

  it('agrees with a plain filter-and-sort over long random runs, duplicates and the 10,000 cap included', () => {
    for (const seed of [1, 2, 3]) {
      const next = seededRandom(seed);
      const w = new SlidingWindow(5_000);
      const samples: Array<{ at: number; ok: boolean; latencyMs: number }> = [];
      let now = 0;
      for (let i = 0; i < 30_000; i++) {
        now += Math.floor(next() * (i < 15_000 ? 1.6 : 3)); // fast enough to hit the cap first, then slow enough for the cutoff
        const sample = { at: now, ok: next() > 0.1, latencyMs: Math.floor(next() * 50) };
        samples.push(sample);
        w.add(sample.at, sample.ok, sample.latencyMs);
        if (i % 997 === 0) expect(w.summary(now), `seed ${seed}, sample ${i}`).to.deep.equal(naive(samples, 5_000, now));
      }
      expect(w.summary(now + 4_000)).to.deep.equal(naive(samples, 5_000, now + 4_000));
    }
  });
});
