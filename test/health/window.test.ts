import { expect } from 'chai';
import { SlidingWindow, p95Above, percentile } from '../../src/health/window.js';
import { seededRandom } from '../helpers/random.js';

/** The obvious implementation the incremental window must agree with. */
function naive(samples: Array<{ at: number; ok: boolean; latencyMs: number }>, windowMs: number, now: number, slowAboveMs = Infinity) {
  const kept = samples.filter((s) => s.at >= now - windowMs).slice(-10_000);
  const failures = kept.filter((s) => !s.ok).length;
  return {
    summary: {
      count: kept.length,
      failures,
      failureRatio: kept.length ? failures / kept.length : 0,
      slow: kept.filter((s) => s.latencyMs > slowAboveMs).length,
    },
    p95: percentile(
      kept.map((s) => s.latencyMs),
      0.95,
    ),
  };
}

describe('SlidingWindow', () => {
  it('summarises nothing as zero', () => {
    const w = new SlidingWindow(1000, 10);
    expect(w.summary(0)).to.deep.equal({ count: 0, failures: 0, failureRatio: 0, slow: 0 });
    expect(w.p95(0)).to.equal(0);
  });

  it('gives the failure ratio, the samples slower than its threshold, and the nearest-rank p95 of what is in the window', () => {
    const w = new SlidingWindow(1000, 18);
    for (let i = 1; i <= 20; i++) w.add(100, i % 4 !== 0, i);
    expect(w.summary(100)).to.deep.equal({ count: 20, failures: 5, failureRatio: 0.25, slow: 2 });
    expect(w.p95(100)).to.equal(19);
  });

  it('forgets samples older than the window, with their failures and latencies', () => {
    const w = new SlidingWindow(1000, 100);
    w.add(0, false, 500);
    w.add(600, true, 10);
    w.add(900, true, 20);
    expect(w.summary(600)).to.deep.equal({ count: 3, failures: 1, failureRatio: 1 / 3, slow: 1 });
    expect(w.summary(1200)).to.deep.equal({ count: 2, failures: 0, failureRatio: 0, slow: 0 });
    expect(w.p95(1200)).to.equal(20);
  });

  it('without a threshold (the breaker), counts no sample as slow', () => {
    const w = new SlidingWindow(1000);
    w.add(0, false, 500);
    for (let i = 1; i <= 20; i++) w.add(600, i % 4 !== 0, i);
    expect(w.summary(600)).to.deep.equal({ count: 21, failures: 6, failureRatio: 6 / 21, slow: 0 });
    expect(w.summary(1200)).to.deep.equal({ count: 20, failures: 5, failureRatio: 0.25, slow: 0 });
  });

  it('agrees with a plain filter-and-sort over long random runs, duplicates and the 10,000 cap included', () => {
    for (const seed of [1, 2, 3]) {
      const next = seededRandom(seed);
      const threshold = 40 + seed;
      const w = new SlidingWindow(5_000, threshold);
      const samples: Array<{ at: number; ok: boolean; latencyMs: number }> = [];
      let now = 0;
      for (let i = 0; i < 30_000; i++) {
        now += Math.floor(next() * (i < 15_000 ? 1.6 : 3)); // fast enough to hit the cap first, then slow enough for the cutoff
        const sample = { at: now, ok: next() > 0.1, latencyMs: Math.floor(next() * 50) };
        samples.push(sample);
        w.add(sample.at, sample.ok, sample.latencyMs);
        if (i % 997 === 0) {
          const expected = naive(samples, 5_000, now, threshold);
          expect(w.summary(now), `seed ${seed}, sample ${i}`).to.deep.equal(expected.summary);
          expect(w.p95(now), `seed ${seed}, sample ${i}`).to.equal(expected.p95);
        }
      }
      const end = naive(samples, 5_000, now + 4_000, threshold);
      expect(w.summary(now + 4_000)).to.deep.equal(end.summary);
      expect(w.p95(now + 4_000)).to.equal(end.p95);
    }
  });

  it('stays exact through bursts and quiet spells (its storage grows and shrinks with what is in the window)', () => {
    const next = seededRandom(11);
    const w = new SlidingWindow(1_000, 30);
    const samples: Array<{ at: number; ok: boolean; latencyMs: number }> = [];
    let now = 0;
    for (let cycle = 0; cycle < 12; cycle++) {
      // A burst of up to 12,000 samples within a few ms, then a spell of one sample every 50 to 400 ms.
      const burst = Math.floor(next() * 12_000);
      for (let i = 0; i < burst; i++) {
        if (next() < 0.01) now++;
        samples.push({ at: now, ok: next() > 0.2, latencyMs: Math.floor(next() * 60) });
        w.add(now, samples.at(-1)!.ok, samples.at(-1)!.latencyMs);
      }
      for (let i = 0; i < 20; i++) {
        now += 50 + Math.floor(next() * 350);
        samples.push({ at: now, ok: next() > 0.2, latencyMs: Math.floor(next() * 60) });
        w.add(now, samples.at(-1)!.ok, samples.at(-1)!.latencyMs);
        const expected = naive(samples, 1_000, now, 30);
        expect(w.summary(now), `cycle ${cycle}, quiet sample ${i}`).to.deep.equal(expected.summary);
        expect(w.p95(now), `cycle ${cycle}, quiet sample ${i}`).to.equal(expected.p95);
      }
    }
  });
});

describe('p95Above', () => {
  it('says whether the nearest-rank p95 is above the threshold from the count of slower samples alone', () => {
    const next = seededRandom(7);
    for (let run = 0; run < 2_000; run++) {
      const count = 1 + Math.floor(next() * 60);
      const threshold = Math.floor(next() * 100);
      const latencies = Array.from({ length: count }, () => Math.floor(next() * 110));
      const slow = latencies.filter((l) => l > threshold).length;
      expect(p95Above(count, slow), `${count} samples, ${slow} above ${threshold}`).to.equal(percentile(latencies, 0.95) > threshold);
    }
  });

  it('is false for no samples', () => {
    expect(p95Above(0, 0)).to.equal(false);
  });
});
