import { percentile } from '../health/window.js';
import type { DispatchResult } from '../dispatch/result.js';

/** Aggregate stats of recent dispatches for GET /api/v1/publish/parallel/status. */
export class DispatchStats {
  private recent: Array<{ at: number; outcome: DispatchResult['outcome']; durationMs: number }> = [];
  private total = 0;
  private readonly byOutcome: Record<DispatchResult['outcome'], number> = { delivered: 0, partial: 0, failed: 0, accepted: 0 };

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number,
  ) {}

  record(result: DispatchResult): void {
    this.total++;
    this.byOutcome[result.outcome]++;
    this.recent.push({ at: this.now(), outcome: result.outcome, durationMs: result.durationMs });
    if (this.recent.length > 10_000) this.recent.splice(0, this.recent.length - 10_000);
  }

  snapshot() {
    const cutoff = this.now() - this.windowMs;
    this.recent = this.recent.filter((r) => r.at >= cutoff);
    const n = this.recent.length;
    const rate = (o: DispatchResult['outcome']) => (n ? round(this.recent.filter((r) => r.outcome === o).length / n) : 0);
    const durations = this.recent.map((r) => r.durationMs);
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
