import type { AcceptResult, DeliveryRecord, NewDelivery } from './types.js';

/**
 * A delivery as stored, from what was inserted and its sequence number: every field
 * present, in the order the SQLite backend's fromRow() makes them, so all records share one V8 shape
 * and the dispatcher's per-attempt writes stay on V8's fast path (a
 * `{ ...d, seq, updatedAt }` spread makes every later write to it slow).
 */
export function storedDelivery(d: NewDelivery, seq: number, duplicate: boolean): DeliveryRecord {
  return {
    id: d.id,
    notificationId: d.notificationId,
    target: d.target,
    targetType: d.targetType,
    groupKey: d.groupKey,
    notificationKey: d.notificationKey,
    seq,
    state: duplicate ? 'skipped' : d.state,
    skipReason: duplicate ? 'duplicate' : d.skipReason,
    priority: d.priority,
    alerts: d.alerts,
    attempts: d.attempts,
    createdAt: d.createdAt,
    updatedAt: d.createdAt,
    nextAttemptAt: duplicate ? undefined : d.nextAttemptAt,
    lastStatus: d.lastStatus,
    lastReason: d.lastReason,
    lastError: d.lastError,
    retryable: d.retryable,
    durationMs: d.durationMs,
    deliveredAt: d.deliveredAt,
    fallbackOf: d.fallbackOf,
    fallbackFor: d.fallbackFor,
    fallbackReason: d.fallbackReason,
    fallbackId: d.fallbackId,
    heldSince: d.heldSince,
    replayedAt: d.replayedAt,
    attemptsAtReplay: d.attemptsAtReplay,
  };
}

/**
 * An accept's records, and those of them that wait behind another replica's attempt in their lane (a shared
 * ledger's `AcceptResult.blocked`): stored pending but not leased here, so not attempted now; a claim takes them.
 */
export type StoredDeliveries = DeliveryRecord[] & { blocked?: ReadonlySet<DeliveryRecord> };

/** The records of an accept's deliveries as stored (duplicates skipped, blocked ones marked). */
export function storedDeliveries(deliveries: readonly NewDelivery[], stored: AcceptResult): StoredDeliveries {
  const records: StoredDeliveries = deliveries.map((d, i) => storedDelivery(d, stored.seqs[i] ?? 0, stored.duplicates.includes(i)));
  if (stored.blocked?.length) records.blocked = new Set(stored.blocked.map((i) => records[i]).filter((r): r is DeliveryRecord => r !== undefined));
  return records;
}

/** The longest error excerpt kept per attempt in the attempt history (the delivery's lastError is already redacted). */
export const ATTEMPT_ERROR_CHARS = 500;
