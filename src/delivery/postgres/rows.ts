import type { AttemptRecord, DeliveryRecord, NotificationRecord } from '../types.js';

/** A deliveries row as the pg client returns it (int8 parsed to numbers). */
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
  retryable: boolean | null;
  duration_ms: number | null;
  delivered_at: number | null;
  fallback_of: string | null;
  fallback_for: string | null;
  fallback_reason: DeliveryRecord['fallbackReason'] | null;
  fallback_id: string | null;
  held_since: number | null;
  replayed_at: number | null;
  attempts_at_replay: number | null;
  lease_owner: string | null;
  lease_until: number | null;
}

export const opt = <T>(v: T | null | undefined): T | undefined => (v === null ? undefined : v);

/** The record of a row, field for field as the SQLite backend's fromRow (one V8 shape for every record). */
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
    retryable: opt(r.retryable),
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

export const notificationFromRow = (r: NotificationRow): NotificationRecord => ({
  id: r.id,
  key: r.key,
  receiver: r.receiver,
  groupKey: r.group_key,
  status: r.status,
  createdAt: r.created_at,
  original: r.original,
  enriched: r.enriched,
});

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
  trial: boolean;
  replay: boolean;
}

export const attemptFromRow = (r: AttemptRow): AttemptRecord => ({
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
  trial: r.trial,
  replay: r.replay,
});
