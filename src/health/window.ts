/** Most samples a window keeps, whatever its duration: bounds memory under very high rates. */
const MAX_SAMPLES = 10_000;
/** The ring's smallest size (a target that sees little keeps about this much). */
const MIN_CAPACITY = 64;

/**
 * Outcomes of the last `windowMs`, for failure ratios and latency percentiles.
 * `summary` is asked on every delivery (health gate and record), so it is O(1):
 * the failures, and the samples slower than `slowAboveMs`, are counted as
 * samples come and go. That count is all the health gate needs of the latencies
 * (see `p95Above`); the p95 itself is only sorted out when the API asks for it.
 */
export class SlidingWindow {
  // Samples in arrival order in a ring: the oldest at `start`, `count` of them. It grows by doubling up to
  // MAX_SAMPLES and shrinks once mostly empty, so a quiet target's window stays small and a busy one's holds
  // 17 bytes a sample (a window of plain arrays, compacted now and then, held up to six times that).
  private at = new Float64Array(MIN_CAPACITY);
  private ok = new Uint8Array(MIN_CAPACITY);
  private latency = new Float64Array(MIN_CAPACITY);
  private start = 0;
  private count = 0;
  private failures = 0;
  private slow = 0;

  /** `slowAboveMs`: the latency above which a sample counts as slow (the health monitor's `degraded_p95`). */
  constructor(
    private readonly windowMs: number,
    private readonly slowAboveMs = Infinity,
  ) {}

  add(at: number, ok: boolean, latencyMs = 0): void {
    this.prune(at);
    if (this.count === this.at.length) {
      if (this.count < MAX_SAMPLES) this.resize(Math.min(MAX_SAMPLES, this.count * 2));
      else this.drop();
    }
    const i = (this.start + this.count) % this.at.length;
    this.at[i] = at;
    this.ok[i] = ok ? 1 : 0;
    this.latency[i] = latencyMs;
    this.count++;
    if (!ok) this.failures++;
    if (latencyMs > this.slowAboveMs) this.slow++;
  }

  /** Count, failures and slow samples over what is still in the window at `now`. */
  summary(now: number): { count: number; failures: number; failureRatio: number; slow: number } {
    this.prune(now);
    const { count, failures } = this;
    return { count, failures, failureRatio: count ? failures / count : 0, slow: this.slow };
  }

  /** The nearest-rank p95 latency of what is in the window at `now` (0 for none); sorts, so not per delivery. */
  p95(now: number): number {
    this.prune(now);
    const values: number[] = new Array<number>(this.count);
    for (let k = 0; k < this.count; k++) values[k] = this.latency[(this.start + k) % this.latency.length] ?? 0;
    return percentile(values, 0.95);
  }

  private prune(now: number): void {
    const cutoff = now - this.windowMs;
    while (this.count > 0 && (this.at[this.start] ?? 0) < cutoff) this.drop();
    if (this.at.length > MIN_CAPACITY && this.count * 4 < this.at.length) this.resize(Math.max(MIN_CAPACITY, Math.floor(this.at.length / 2)));
  }

  /** Forget the oldest sample. */
  private drop(): void {
    const i = this.start;
    if (!this.ok[i]) this.failures--;
    if ((this.latency[i] ?? 0) > this.slowAboveMs) this.slow--;
    this.start = (i + 1) % this.at.length;
    this.count--;
  }

  /** The samples, oldest first, into rings of `capacity` (at least `count`). */
  private resize(capacity: number): void {
    const at = new Float64Array(capacity);
    const ok = new Uint8Array(capacity);
    const latency = new Float64Array(capacity);
    for (let k = 0; k < this.count; k++) {
      const i = (this.start + k) % this.at.length;
      at[k] = this.at[i] ?? 0;
      ok[k] = this.ok[i] ?? 0;
      latency[k] = this.latency[i] ?? 0;
    }
    [this.at, this.ok, this.latency, this.start] = [at, ok, latency, 0];
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
