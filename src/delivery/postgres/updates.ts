import type { DeliveryUpdate } from '../types.js';

/**
 * The arguments of `alertmux_settle` (schema.ts) for a batch of attempt outcomes: each delivery's last update of the
 * batch, and every update that records an attempt (a delivery may have had two in one batch).
 */
export function settleArguments(updates: readonly DeliveryUpdate[]): [latest: string, attempts: string] {
  const last = new Map<string, DeliveryUpdate>();
  for (const u of updates) last.set(u.id, u);
  const latest = [...last.values()].map((u) => ({
    id: u.id,
    state: u.state,
    skipReason: u.skipReason ?? null,
    attempts: u.attempts,
    nextAttemptAt: u.nextAttemptAt ?? null,
    lastStatus: u.lastStatus ?? null,
    lastReason: u.lastReason ?? null,
    lastError: u.lastError ?? null,
    retryable: u.retryable ?? null,
    durationMs: u.durationMs ?? null,
    deliveredAt: u.deliveredAt ?? null,
    updatedAt: u.updatedAt,
    heldSince: u.heldSince ?? null,
  }));
  const attempts = updates
    .filter((u) => u.attemptedAt != null)
    .map((u) => ({
      id: u.id,
      attempts: u.attempts,
      attemptedAt: u.attemptedAt,
      durationMs: u.durationMs ?? null,
      lastStatus: u.lastStatus ?? null,
      lastReason: u.lastReason ?? null,
      lastError: u.lastError ?? null,
      state: u.state,
      nextAttemptAt: u.nextAttemptAt ?? null,
      trial: u.trial === true,
      replay: u.replay === true,
    }));
  return [JSON.stringify(latest), JSON.stringify(attempts)];
}

/** What `alertmux_settle` answers. */
export interface Settled {
  lost: string[];
  wake: boolean;
}
