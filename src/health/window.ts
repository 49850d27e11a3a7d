/** Outcomes of the last `windowMs`, for failure ratios and latency percentiles. */
export class SlidingWindow {
  private samples: Array<{ at: number; ok: boolean; latencyMs: number }> = [];

  constructor(private readonly windowMs: number) {}

  add(at: number, ok: boolean, latencyMs = 0): void {
    this.samples.push({ at, ok, latencyMs });
    this.prune(at);
  }

  /** Count, failures and latency percentile over what is still in the window at `now`. */
  summary(now: number): { count: number; failures: number; failureRatio: number; p95: number } {
    this.prune(now);
    const count = this.samples.length;
    const failures = this.samples.filter((s) => !s.ok).length;
    return { count, failures, failureRatio: count ? failures / count : 0, p95: percentile(this.samples.map((s) => s.latencyMs), 0.95) };
  }

  private prune(now: number): void {
    const cutoff = now - this.windowMs;
    let drop = 0;
    while (drop < this.samples.length && (this.samples[drop]?.at ?? 0) < cutoff) drop++;
    if (drop) this.samples.splice(0, drop);
    // Bound memory under very high rates: keep the newest 10,000.
    if (this.samples.length > 10_000) this.samples.splice(0, this.samples.length - 10_000);
  }
}

/** The q-quantile (0..1) of `values` by nearest rank; 0 for none. */
export function percentile(values: readonly number[], q: number): number {
  if (!values.length) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
}
