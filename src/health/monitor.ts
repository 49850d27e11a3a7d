import { isDown } from './down.js';
import { SlidingWindow, p95Above } from './window.js';
import type { Config } from '../config/types.js';

/** Health of a target, as Prometheus label values. */
export type Health = 'unknown' | 'healthy' | 'degraded' | 'unhealthy';
export const HEALTH_STATES: readonly Health[] = ['unknown', 'healthy', 'degraded', 'unhealthy'];

/** What the API shows of a target's health. */
export interface HealthSnapshot {
  status: Health;
  consecutiveFailures: number;
  succeeded: number;
  failed: number;
  lastSuccessAt?: string;
  lastErrorAt?: string;
  lastError?: string;
  window: { samples: number; failureRatio: number; p95Ms: number };
  lastProbe?: { at: string; ok: boolean; detail: string };
}

/**
 * Passive health from real delivery outcomes (and optional probe results):
 * `unknown` until the first evidence; `unhealthy` when the failures in a row say
 * the target is down (`isDown`: `unhealthy_after` with no success in the window,
 * more when it still succeeds, so a flaky target is never unhealthy by bad luck);
 * `degraded` when the failure ratio or the p95 latency in the sliding window
 * passes its threshold; otherwise `healthy`.
 */
export class HealthMonitor {
  private consecutive = 0;
  private succeeded = 0;
  private failed = 0;
  private lastSuccessAt?: number;
  private lastErrorAt?: number;
  private lastError?: string;
  private lastProbe?: { at: number; ok: boolean; detail: string };
  private readonly window: SlidingWindow;
  private last: Health = 'unknown';
  /** When `last` was computed, and whether a sample came since: the gate asks per delivery, often within one ms. */
  private computedAt = -1;
  private dirty = true;

  constructor(
    private readonly cfg: Config['health'],
    private readonly now: () => number,
    private readonly onChange: (from: Health, to: Health) => void = () => undefined,
  ) {
    this.window = new SlidingWindow(cfg.window, cfg.degraded_p95);
  }

  /** Record a delivery outcome. `error` is already redacted. */
  record(ok: boolean, latencyMs: number, error?: string): void {
    const at = this.now();
    this.window.add(at, ok, latencyMs);
    this.dirty = true;
    if (ok) {
      this.succeeded++;
      this.consecutive = 0;
      this.lastSuccessAt = at;
    } else {
      this.failed++;
      this.consecutive++;
      this.lastErrorAt = at;
      this.lastError = error;
    }
    this.refresh();
  }

  /** Record an active probe: a failing probe counts like a failed delivery, a passing one like a success. */
  recordProbe(ok: boolean, latencyMs: number, detail: string): void {
    this.lastProbe = { at: this.now(), ok, detail };
    this.record(ok, latencyMs, ok ? undefined : `health check: ${detail}`);
  }

  get status(): Health {
    return this.refresh();
  }

  snapshot(): HealthSnapshot {
    const now = this.now();
    const { count, failureRatio } = this.window.summary(now);
    const p95 = this.window.p95(now);
    const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString());
    return {
      status: this.refresh(),
      consecutiveFailures: this.consecutive,
      succeeded: this.succeeded,
      failed: this.failed,
      ...(this.lastSuccessAt === undefined ? {} : { lastSuccessAt: iso(this.lastSuccessAt) }),
      ...(this.lastErrorAt === undefined ? {} : { lastErrorAt: iso(this.lastErrorAt), lastError: this.lastError }),
      window: { samples: count, failureRatio: Math.round(failureRatio * 1000) / 1000, p95Ms: Math.round(p95 * 10) / 10 },
      ...(this.lastProbe ? { lastProbe: { ...this.lastProbe, at: new Date(this.lastProbe.at).toISOString() } } : {}),
    };
  }

  private refresh(): Health {
    const now = this.now();
    if (!this.dirty && now === this.computedAt) return this.last;
    this.dirty = false;
    this.computedAt = now;
    const next = this.compute(now);
    if (next !== this.last) {
      const from = this.last;
      this.last = next;
      this.onChange(from, next);
    }
    return next;
  }

  private compute(now: number): Health {
    if (this.succeeded + this.failed === 0) return 'unknown';
    const { count, failures, failureRatio, slow } = this.window.summary(now);
    if (isDown(this.consecutive, this.cfg.unhealthy_after, count, failures)) return 'unhealthy';
    if (count >= this.cfg.min_samples && (failureRatio > this.cfg.degraded_failure_ratio || p95Above(count, slow))) {
      return 'degraded';
    }
    return 'healthy';
  }
}
