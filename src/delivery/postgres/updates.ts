import type { DeliveryUpdate } from '../types.js';

/**
 * The arguments of `alertmux_settle` (schema.ts) for a batch of attempt outcomes: each delivery's last update of the
 * batch, and every update that records an attempt (a delivery may have had two in one batch). The updates go as they
 * are: `jsonb_to_recordset` reads the fields it declares, by their DeliveryUpdate names, and a missing one is NULL.
 */
export function settleArguments(updates: readonly DeliveryUpdate[]): [latest: string, attempts: string] {
  const last = new Map<string, DeliveryUpdate>();
  for (const u of updates) last.set(u.id, u);
  return [JSON.stringify([...last.values()]), JSON.stringify(updates.filter((u) => u.attemptedAt != null))];
}

/** What `alertmux_settle` answers. */
export interface Settled {
  lost: string[];
  wake: boolean;
}
