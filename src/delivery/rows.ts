import type { AttemptRecord, DeliveryRecord, NotificationRecord } from './types.js';

/**
 * Ledger rows as both backends return them: the same columns (numbers for times and counts; a boolean is 0/1 in
 * SQLite and true/false in PostgreSQL), mapped to records in one place.
 */

/** A deliveries row. */
export interface DeliveryRow {
  seq: number;
  id: string;
  notification_id: string;
  target: string;
  target_type: string;
  group_key: string;
  notification_key: string;
  state: DeliveryRecord['state'];
  skip_reason: DeliveryRecord['skipReason'] | null;
  priority: number;
  alerts: string;
  attempts: number;
  created_at: number;
  updated_at: number;
  next_attempt_at: number | null;
  last_status: number | null;
  last_reason: string | null;
  last_error: string | null;
  retryable: boolean | number | null;
  duration_ms: number | null;
  delivered_at: number | null;
  fallback_of: string | null;
  fallback_for: string | null;
  fallback_reason: DeliveryRecord['fallbackReason'] | null;
  fallback_id: string | null;
  held_since: number | null;
  replayed_at: number | null;
  attempts_at_replay: number | null;
}

/** A nullable column as an optional field. */
export const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

/** A delivery record from its row, every field present in the order of records.ts (one V8 shape). */
export function deliveryFromRow(r: DeliveryRow): DeliveryRecord {
  return {
    id: r.id,
    notificationId: r.notification_id,
    target: r.target,
    targetType: r.target_type,
    groupKey: r.group_key,
    notificationKey: r.notification_key,
    seq: r.seq,
    state: r.state,
    skipReason: opt(r.skip_reason),
    priority: r.priority,
    alerts: JSON.parse(r.alerts) as number[],
    attempts: r.attempts,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    nextAttemptAt: opt(r.next_attempt_at),
    lastStatus: opt(r.last_status),
    lastReason: opt(r.last_reason),
    lastError: opt(r.last_error),
    retryable: r.retryable === null ? undefined : Boolean(r.retryable),
    durationMs: opt(r.duration_ms),
    deliveredAt: opt(r.delivered_at),
    fallbackOf: opt(r.fallback_of),
    fallbackFor: opt(r.fallback_for),
    fallbackReason: opt(r.fallback_reason),
    fallbackId: opt(r.fallback_id),
    heldSince: opt(r.held_since),
    replayedAt: opt(r.replayed_at),
    attemptsAtReplay: opt(r.attempts_at_replay),
  };
}

export interface NotificationRow {
  id: string;
  key: string;
  receiver: string;
  group_key: string;
  status: NotificationRecord['status'];
  created_at: number;
  original: string;
  enriched: string;
}

export function notificationFromRow(r: NotificationRow): NotificationRecord {
  return { id: r.id, key: r.key, receiver: r.receiver, groupKey: r.group_key, status: r.status, createdAt: r.created_at, original: r.original, enriched: r.enriched };
}

export interface AttemptRow {
  delivery_id: string;
  notification_id: string;
  target: string;
  attempt: number;
  started_at: number;
  replica: string;
  duration_ms: number | null;
  status_code: number | null;
  reason: string | null;
  error: string | null;
  outcome: AttemptRecord['outcome'];
  next_attempt_at: number | null;
  trial: boolean | number;
  replay: boolean | number;
}

export function attemptFromRow(r: AttemptRow): AttemptRecord {
  return {
    deliveryId: r.delivery_id,
    notificationId: r.notification_id,
    target: r.target,
    attempt: r.attempt,
    at: r.started_at,
    replica: r.replica,
    durationMs: opt(r.duration_ms),
    statusCode: opt(r.status_code),
    reason: opt(r.reason),
    error: opt(r.error),
    outcome: r.outcome,
    nextAttemptAt: opt(r.next_attempt_at),
    trial: Boolean(r.trial),
    replay: Boolean(r.replay),
  };
}
