/** Most samples a window keeps, whatever its duration: bounds memory under very high rates. */
const MAX_SAMPLES = 10_000;

/**
 * Outcomes of the last `windowMs`, for failure ratios and latency percentiles.
 * `summary` is asked on every delivery (health gate and record), so it is O(1):
 * the failure count is kept as samples come and go, and the latencies are kept
 * sorted (binary-search insert and remove) instead of sorted on each call.
 */
export class SlidingWindow {
  // Samples in arrival order from `head` on (parallel arrays; the dead prefix is compacted now and then).
  private at: number[] = [];
  private ok: boolean[] = [];
  private latency: number[] = [];
  private head = 0;
  private failures = 0;
  /** Latencies of the samples in the window, ascending. */
  private readonly sorted: number[] = [];

  /** `latencies: false` when no percentile is asked (the breaker): saves keeping them sorted. */
  constructor(
    private readonly windowMs: number,
    private readonly latencies = true,
  ) {}

  add(at: number, ok: boolean, latencyMs = 0): void {
    this.at.push(at);
    this.ok.push(ok);
    this.latency.push(latencyMs);
    if (!ok) this.failures++;
    if (this.latencies) this.sorted.splice(bound(this.sorted, latencyMs, true), 0, latencyMs);
    this.prune(at);
  }

  /** Count, failures and latency percentile (0 without latencies) over what is still in the window at `now`. */
  summary(now: number): { count: number; failures: number; failureRatio: number; p95: number } {
    this.prune(now);
    const count = this.at.length - this.head;
    const failures = this.failures;
    return { count, failures, failureRatio: count ? failures / count : 0, p95: rank(this.sorted, 0.95) };
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
    if (this.latencies) this.sorted.splice(bound(this.sorted, this.latency[i] ?? 0, false), 1);
  }
}

/** The q-quantile (0..1) of `values` by nearest rank; 0 for none. */
export function percentile(values: readonly number[], q: number): number {
  return rank([...values].sort((a, b) => a - b), q);
}

/** The q-quantile by nearest rank of an ascending array. */
function rank(sorted: readonly number[], q: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
}

/** First index whose value is > `value` (`upper`) or >= `value` (lower) in an ascending array. */
function bound(sorted: readonly number[], value: number, upper: boolean): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const v = sorted[mid] as number;
    if (v < value || (upper && v === value)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
