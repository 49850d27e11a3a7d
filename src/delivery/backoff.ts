import type { Config } from '../config/types.js';
import type { Outcome } from '../publishers/publisher.js';

/** The `retry` section of the config (milliseconds). */
export type RetryConfig = Config['retry'];

/**
 * Exponential backoff with full jitter (AWS architecture blog, "Exponential
 * Backoff And Jitter"): a uniform delay in [0, min(max, initial × multiplier^(attempt-1))].
 */
export function backoffDelay(attempt: number, cfg: RetryConfig, random: () => number = Math.random): number {
  const ceiling = Math.min(cfg.max_backoff, cfg.initial_backoff * cfg.multiplier ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

/** What happens to a delivery after a failed attempt. */
export type AfterFailure = { state: 'pending'; nextAttemptAt: number } | { state: 'dead'; why: string };

/**
 * Decide the fate of a delivery whose attempt number `attempts` failed: a
 * permanent failure is dead at once; a retryable one waits its backoff (at
 * least what `Retry-After` asked) unless that crosses `max_attempts` or `max_age`.
 */
export function afterFailure(
  outcome: Extract<Outcome, { ok: false }>,
  attempts: number,
  createdAt: number,
  now: number,
  cfg: RetryConfig,
  random: () => number = Math.random,
): AfterFailure {
  if (!outcome.retryable) return { state: 'dead', why: 'permanent failure' };
  if (attempts >= cfg.max_attempts) return { state: 'dead', why: `gave up after ${attempts} attempts` };
  const delay = Math.max(backoffDelay(attempts, cfg, random), outcome.retryAfterMs ?? 0);
  const nextAttemptAt = now + delay;
  if (nextAttemptAt > createdAt + cfg.max_age) return { state: 'dead', why: `gave up after max_age (${attempts} attempts)` };
  return { state: 'pending', nextAttemptAt };
}

const SEVERITY_RANK = new Map([
  ['critical', 0],
  ['error', 1],
  ['warning', 2],
]);

/** Severity → priority: critical before error before warning before the rest. */
export function priorityOf(severities: Iterable<string | undefined>): number {
  let best = 3;
  // A Map, not an object: a severity of `constructor` or `__proto__` must not find Object.prototype's members.
  for (const s of severities) best = Math.min(best, SEVERITY_RANK.get((s ?? '').toLowerCase()) ?? 3);
  return best;
}
