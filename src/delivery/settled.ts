import type { DeliveryRecord, DeliveryUpdate, IdFilter } from './types.js';

/**
 * Attempt outcomes the ledger could not write (a full disk, a broken file), kept in memory
 * as settled until a write succeeds: the newest one of each delivery. While one is kept,
 * the ledger's row is stale (still `pending`, attempts not counted), so the retry worker
 * leaves that row alone: a delivered delivery is never sent again by this process, and a
 * failed one is retried from here, with its attempts counted, so it still dead-letters.
 */
export class UnwrittenOutcomes implements IdFilter {
  private readonly byId = new Map<string, DeliveryUpdate>();

  get size(): number {
    return this.byId.size;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** These updates were not written: keep each, unless a newer outcome of its delivery replaced it meanwhile. */
  failed(updates: readonly DeliveryUpdate[]): void {
    for (const u of updates) {
      const kept = this.byId.get(u.id);
      if (kept === undefined || kept === u) this.byId.set(u.id, u);
    }
  }

  /** These updates are in the ledger: forget them (not a newer outcome kept since). */
  written(updates: readonly DeliveryUpdate[]): void {
    if (!this.byId.size) return;
    for (const u of updates) if (this.byId.get(u.id) === u) this.byId.delete(u.id);
  }

  /** A newer outcome of a delivery is on its way to the ledger: it replaces the one kept, if any. */
  replace(update: DeliveryUpdate): void {
    if (this.byId.size && this.byId.has(update.id)) this.byId.set(update.id, update);
  }

  /** What to write again, oldest first. */
  all(): DeliveryUpdate[] {
    return [...this.byId.values()];
  }

  /** Kept outcomes that are pending and due at `now` (a retry is owed), not in `exclude`. */
  due(now: number, exclude: IdFilter): DeliveryUpdate[] {
    const due: DeliveryUpdate[] = [];
    for (const u of this.byId.values()) {
      if (u.state === 'pending' && (u.nextAttemptAt ?? now) <= now && !exclude.has(u.id)) due.push(u);
    }
    return due;
  }

  /** When the next kept pending outcome is due, if any. */
  nextDueAt(exclude: IdFilter): number | undefined {
    let next: number | undefined;
    for (const u of this.byId.values()) {
      if (u.state !== 'pending' || exclude.has(u.id)) continue;
      const at = u.nextAttemptAt ?? 0;
      if (next === undefined || at < next) next = at;
    }
    return next;
  }
}

/** The delivery as its kept outcome says, on the rest of its stored row. */
export function withOutcome(row: DeliveryRecord, u: DeliveryUpdate): DeliveryRecord {
  const or = <T>(v: T | null | undefined): T | undefined => (v === null ? undefined : v);
  return {
    ...row,
    state: u.state,
    skipReason: or(u.skipReason),
    attempts: u.attempts,
    nextAttemptAt: or(u.nextAttemptAt),
    lastStatus: or(u.lastStatus),
    lastReason: or(u.lastReason),
    lastError: or(u.lastError),
    retryable: or(u.retryable),
    durationMs: or(u.durationMs),
    deliveredAt: or(u.deliveredAt),
    heldSince: row.heldSince ?? or(u.heldSince),
    updatedAt: u.updatedAt,
  };
}

/** Ids in either filter (the worker leaves out deliveries in flight and those with an unwritten outcome). */
export function eitherFilter(a: IdFilter, b: IdFilter): IdFilter {
  return {
    has: (id) => a.has(id) || b.has(id),
    get size() {
      return a.size + b.size;
    },
  };
}
