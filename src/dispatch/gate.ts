import { PAUSED_UNTIL } from './target-status.js';
import type { HealthStrategy } from '../config/types.js';
import type { SkipReason } from '../delivery/types.js';
import type { TargetRuntime } from './runtime.js';

/**
 * Whether an attempt is a notification's first (health-aware skip), a retry by the worker, or an operator's
 * attempt now (a replay's trial, `POST /targets/:name/try`), which passes the gate: the caller took the trial.
 */
export type Mode = 'first' | 'retry' | 'now';

/** What the gate reads of a target: its breaker, health and pause. */
export type GatedTarget = Pick<TargetRuntime, 'breaker' | 'health' | 'status'>;

/**
 * Whether the delivery the gate lets past is its breaker's half-open trial: through a breaker that is not
 * closed, the one delivery let past is. Read before `gate()`, which takes the trial.
 */
export function isTrial(target: GatedTarget, mode: Mode, strategy: HealthStrategy): boolean {
  return mode !== 'now' && strategy !== 'publish_to_all' && target.breaker.state !== 'closed';
}

/**
 * Why a delivery to `target` is held now, if it is; a breaker that is not closed gives its one trial here.
 * `inFlight`: the target's attempts running now (a retry to an unhealthy target goes one at a time).
 */
export function gate(target: GatedTarget, mode: Mode, strategy: HealthStrategy, inFlight: number): SkipReason | undefined {
  // A paused target queues everything, whatever the strategy or an operator's trial; resume releases it (store.release).
  if (target.status.paused) return 'paused';
  if (strategy === 'publish_to_all' || mode === 'now') return undefined;
  if (target.breaker.state !== 'closed') return target.breaker.tryAcquire() ? undefined : 'circuit_open';
  const health = target.health.status;
  if (mode === 'retry') {
    // A retry to an unhealthy target goes one at a time: it is the trial; the rest wait without burning attempts.
    return health === 'unhealthy' && inFlight > 0 ? 'unhealthy' : undefined;
  }
  if (health === 'unhealthy') return 'unhealthy';
  if (health === 'degraded' && strategy === 'skip_unhealthy_and_degraded') return 'degraded';
  return undefined;
}

/** When a delivery held for `skip` is next due: never while paused, else at the breaker's trial or after a cooldown. */
export function heldUntil(skip: SkipReason, target: GatedTarget, now: number, cooldownMs: number): number {
  return skip === 'paused' ? PAUSED_UNTIL : (target.breaker.opensTrialAt ?? now + cooldownMs);
}
