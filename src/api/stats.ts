import { percentile } from '../health/window.js';
import type { DispatchResult } from '../dispatch/result.js';

/** Most recent dispatches kept for the window's rates and percentiles. */
const KEEP = 10_000;

type Entry = { at: number; outcome: DispatchResult['outcome']; durationMs: number };

/** Aggregate stats of recent dispatches for GET /api/v1/publish/parallel/status. */
export class DispatchStats {
  /** A ring of the last KEEP dispatches (recording is O(1): it runs once per notification). */
  private readonly ring: Entry[] = [];
  private next = 0;
  private total = 0;
  private readonly byOutcome: Record<DispatchResult['outcome'], number> = { delivered: 0, partial: 0, failed: 0, accepted: 0 };

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number,
  ) {}

  record(result: DispatchResult): void {
    this.total++;
    this.byOutcome[result.outcome]++;
    this.ring[this.next] = { at: this.now(), outcome: result.outcome, durationMs: result.durationMs };
    this.next = (this.next + 1) % KEEP;
  }

  snapshot() {
    const cutoff = this.now() - this.windowMs;
    const recent = this.ring.filter((r) => r.at >= cutoff);
    const n = recent.length;
    const rate = (o: DispatchResult['outcome']) => (n ? round(recent.filter((r) => r.outcome === o).length / n) : 0);
    const durations = recent.map((r) => r.durationMs);
    return {
      total: this.total,
      byOutcome: { ...this.byOutcome },
      window: {
        seconds: this.windowMs / 1000,
        count: n,
        successRate: rate('delivered'),
        partialRate: rate('partial'),
        failureRate: rate('failed'),
        acceptedRate: rate('accepted'),
        latencyMs: { p50: percentile(durations, 0.5), p95: percentile(durations, 0.95), p99: percentile(durations, 0.99) },
      },
    };
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
