/** Most samples a window keeps, whatever its duration: bounds memory under very high rates. */
const MAX_SAMPLES = 10_000;

/**
 * Outcomes of the last `windowMs`, for failure ratios and latency percentiles.
 * `summary` is asked on every delivery (health gate and record), so it is O(1):
 * the failures, and the samples slower than `slowAboveMs`, are counted as
 * samples come and go. That count is all the health gate needs of the latencies
 * (see `p95Above`); the p95 itself is only sorted out when the API asks for it.
 */
export class SlidingWindow {
  // Samples in arrival order from `head` on (parallel arrays; the dead prefix is compacted now and then).
  private at: number[] = [];
  private ok: boolean[] = [];
  private latency: number[] = [];
  private head = 0;
  private failures = 0;
  private slow = 0;

  /** `slowAboveMs`: the latency above which a sample counts as slow (the health monitor's `degraded_p95`). */
  constructor(
    private readonly windowMs: number,
    private readonly slowAboveMs = Infinity,
  ) {}

  add(at: number, ok: boolean, latencyMs = 0): void {
    this.at.push(at);
    this.ok.push(ok);
    this.latency.push(latencyMs);
    if (!ok) this.failures++;
    if (latencyMs > this.slowAboveMs) this.slow++;
    this.prune(at);
  }

  /** Count, failures and slow samples over what is still in the window at `now`. */
  summary(now: number): { count: number; failures: number; failureRatio: number; slow: number } {
    this.prune(now);
    const count = this.at.length - this.head;
    const failures = this.failures;
    return { count, failures, failureRatio: count ? failures / count : 0, slow: this.slow };
  }

  /** The nearest-rank p95 latency of what is in the window at `now` (0 for none); sorts, so not per delivery. */
  p95(now: number): number {
    this.prune(now);
    return percentile(this.latency.slice(this.head), 0.95);
  }

  private prune(now: number): void {
    const cutoff = now - this.windowMs;
    while (this.head < this.at.length && ((this.at[this.head] ?? 0) < cutoff || this.at.length - this.head > MAX_SAMPLES)) {
      this.drop();
    }
    if (this.head > 1024 && this.head * 2 > this.at.length) {
      this.at = this.at.slice(this.head);
      this.ok = this.ok.slice(this.head);
      this.latency = this.latency.slice(this.head);
      this.head = 0;
    }
  }

  /** Forget the oldest sample. */
  private drop(): void {
    const i = this.head++;
    if (!this.ok[i]) this.failures--;
    if ((this.latency[i] ?? 0) > this.slowAboveMs) this.slow--;
  }
}

/**
 * Whether the nearest-rank p95 of `count` samples is above the slow threshold, given how many are above
 * it: the p95 is the sample at rank ⌈0.95·count⌉, so it is slow exactly when more than the
 * count − ⌈0.95·count⌉ samples ranked after it are.
 */
export function p95Above(count: number, slow: number): boolean {
  return count > 0 && slow > count - rankOf(count, 0.95) - 1;
}

/** The q-quantile (0..1) of `values` by nearest rank; 0 for none. */
export function percentile(values: readonly number[], q: number): number {
  if (!values.length) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[rankOf(sorted.length, q)] ?? 0;
}

/** The index of the q-quantile by nearest rank in `count` ascending values. */
function rankOf(count: number, q: number): number {
  return Math.min(count - 1, Math.max(0, Math.ceil(q * count) - 1));
}
