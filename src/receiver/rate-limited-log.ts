import type { Logger } from '../observability/logger.js';

/** How often a kind of line may be logged: a burst, then one line per `refillMs`. */
export interface RateLimit {
  burst: number;
  refillMs: number;
}

/** Ten lines at once, then one every 6 s: a flood of one kind costs at most ten lines a minute. */
export const DEFAULT_RATE_LIMIT: RateLimit = { burst: 10, refillMs: 6_000 };

/** The clock and timer of a RateLimitedLog (injected in tests). */
export interface LogClock {
  now(): number;
  /** Run `fn` after `ms`; must not keep the process alive. */
  later(fn: () => void, ms: number): void;
}

const realClock: LogClock = {
  now: Date.now,
  later: (fn, ms) => void setTimeout(fn, ms).unref(),
};

interface Bucket {
  tokens: number;
  at: number;
  suppressed: number;
  /** A "suppressed N" line is scheduled. */
  waiting: boolean;
  level: 'warn' | 'error';
  message: string;
  kind: Record<string, unknown>;
}

/**
 * A token bucket per kind of line (message and `kind` fields, e.g. status and reason), so a flood of one kind
 * cannot drown the log, nor hide other kinds. Lines over the limit are counted, not written: the next line of
 * that kind carries `suppressed: N`, and when a flood stops, one line with the count is written as soon as the
 * bucket allows, so no count is lost. Kinds must come from a small closed set (never free text).
 */
export class RateLimitedLog {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly logger: Logger,
    private readonly limit: RateLimit = DEFAULT_RATE_LIMIT,
    private readonly clock: LogClock = realClock,
  ) {}

  log(level: 'warn' | 'error', message: string, kind: Record<string, unknown>, fields: Record<string, unknown> = {}): void {
    const key = JSON.stringify([message, kind]);
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { tokens: this.limit.burst, at: this.clock.now(), suppressed: 0, waiting: false, level, message, kind };
      this.buckets.set(key, bucket);
    }
    this.refill(bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens--;
      const suppressed = bucket.suppressed;
      bucket.suppressed = 0;
      this.logger[level](message, { ...kind, ...fields, ...(suppressed ? { suppressed } : {}) });
      return;
    }
    bucket.suppressed++;
    if (!bucket.waiting) this.reportLater(bucket);
  }

  private refill(bucket: Bucket): void {
    const now = this.clock.now();
    bucket.tokens = Math.min(this.limit.burst, bucket.tokens + (now - bucket.at) / this.limit.refillMs);
    bucket.at = now;
  }

  /** When the next token is there, write how many lines were suppressed (unless a line of the kind did it first). */
  private reportLater(bucket: Bucket): void {
    bucket.waiting = true;
    this.clock.later(
      () => {
        bucket.waiting = false;
        if (bucket.suppressed === 0) return;
        this.refill(bucket);
        if (bucket.tokens < 1) return this.reportLater(bucket);
        bucket.tokens--;
        const suppressed = bucket.suppressed;
        bucket.suppressed = 0;
        this.logger[bucket.level](bucket.message, { ...bucket.kind, suppressed });
      },
      Math.max(1, Math.ceil((1 - bucket.tokens) * this.limit.refillMs)),
    );
  }
}
