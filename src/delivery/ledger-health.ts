import type { Logger } from '../observability/logger.js';

/** At most one error line per this interval while the ledger keeps failing; the next line counts the ones left out. */
export const LOG_EVERY_MS = 10_000;
/** Retrying a failing ledger: the first retry after this long, doubling up to RETRY_MAX_MS. */
export const RETRY_FIRST_MS = 1000;
export const RETRY_MAX_MS = 10_000;

/** The SQLite error code of a failure (`SQLITE_FULL`, `SQLITE_CORRUPT`, ...), when it has one. */
export function sqliteCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** An Error with the SQLite code of the failure it stands for (a writer thread's failure crosses as text). */
export function storageFailure(message: string, code?: string): Error {
  return Object.assign(new Error(message), code ? { code } : {});
}

/** What the ledger's health needs from outside. */
export interface LedgerHealthDeps {
  logger: Logger;
  /** Counts every failure (alertmux_storage_errors_total), logged or not. */
  countError: () => void;
  /** Called (after a backoff) while the ledger is failing: write what waits, or probe; report back through failed()/succeeded(). */
  retry: () => void;
  now: () => number;
  /** Timers (tests pass their own); the default ones never keep the process alive. */
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (timer: unknown) => void;
}

/**
 * Whether the ledger can commit, from what its writes report: a failure makes it unhealthy
 * (`/-/ready` answers 503 with `reason`) until a write succeeds. While unhealthy it asks for a
 * retry after a backoff (1 s doubling to 10 s), so a full disk is tried again without a hot loop
 * and readiness comes back even when no traffic arrives. Failures are logged at error with their
 * SQLite code, rate-limited: the first one at once, then at most one line per LOG_EVERY_MS with
 * the number left out since the last line.
 */
export class LedgerHealth {
  private failing?: { reason: string; code: string; since: number };
  private lastLogAt = -Infinity;
  private unlogged = 0;
  private failures = 0;
  private backoff = RETRY_FIRST_MS;
  private timer?: unknown;
  private stopped = false;

  constructor(private readonly deps: LedgerHealthDeps) {}

  /** True while the last write committed (or none failed yet). */
  get ok(): boolean {
    return this.failing === undefined;
  }

  /** Why the ledger is unhealthy: its code and error. */
  get reason(): string | undefined {
    return this.failing && `ledger cannot commit since ${new Date(this.failing.since).toISOString()}: ${this.failing.code}: ${this.failing.reason}`;
  }

  /** A write failed: `what` says what was not written. */
  failed(err: unknown, what: string): void {
    const now = this.deps.now();
    const code = sqliteCode(err) ?? 'unknown';
    const reason = err instanceof Error ? err.message : String(err);
    this.failing = { reason, code, since: this.failing?.since ?? now };
    this.failures++;
    this.deps.countError();
    if (now - this.lastLogAt >= LOG_EVERY_MS) {
      this.deps.logger.error('ledger write failed', { code, error: reason, what, failuresNotLogged: this.unlogged });
      this.lastLogAt = now;
      this.unlogged = 0;
    } else this.unlogged++;
    this.scheduleRetry();
  }

  /** A write committed. */
  succeeded(): void {
    if (!this.failing) return;
    const { since, code } = this.failing;
    this.deps.logger.info('ledger writable again', { code, downForMs: this.deps.now() - since, failures: this.failures });
    this.failing = undefined;
    this.failures = 0;
    this.unlogged = 0;
    this.lastLogAt = -Infinity;
    this.backoff = RETRY_FIRST_MS;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) (this.deps.clearTimer ?? ((t) => clearTimeout(t as NodeJS.Timeout)))(this.timer);
    this.timer = undefined;
  }

  private scheduleRetry(): void {
    if (this.timer !== undefined || this.stopped) return;
    const delay = this.backoff;
    this.backoff = Math.min(RETRY_MAX_MS, this.backoff * 2);
    const set = this.deps.setTimer ?? ((fn, ms) => setTimeout(fn, ms).unref());
    this.timer = set(() => {
      this.timer = undefined;
      if (!this.stopped && this.failing) this.deps.retry();
    }, delay);
  }
}
