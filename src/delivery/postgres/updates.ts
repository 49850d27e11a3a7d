import type pg from 'pg';
import { ATTEMPT_ERROR_CHARS } from '../records.js';
import type { DeliveryUpdate } from '../types.js';

/**
 * Attempt outcomes in one transaction on `client`: each delivery takes its last update of the batch, applied only
 * where no other replica holds the lease (this replica's own or none: a lease lost to a takeover is the other
 * replica's now), releasing the lease; every update that records an attempt adds its row to the attempt history.
 * Returns the ids not applied because another replica holds them (`lost`).
 */
export async function applyUpdates(client: pg.ClientBase, updates: readonly DeliveryUpdate[], replica: string): Promise<string[]> {
  const last = new Map<string, DeliveryUpdate>();
  for (const u of updates) last.set(u.id, u);
  const rows = [...last.values()];
  const col = <T>(f: (u: DeliveryUpdate) => T) => rows.map(f);
  const { rows: applied } = await client.query<{ id: string }>(
    `UPDATE deliveries d SET state = u.state, skip_reason = u.skip_reason, attempts = u.attempts, next_attempt_at = u.next_attempt_at,
       last_status = u.last_status, last_reason = u.last_reason, last_error = u.last_error, retryable = u.retryable,
       duration_ms = u.duration_ms, delivered_at = u.delivered_at, updated_at = u.updated_at,
       held_since = COALESCE(d.held_since, u.held_since), lease_owner = NULL, lease_until = NULL
     FROM unnest($1::text[], $2::text[], $3::text[], $4::integer[], $5::bigint[], $6::integer[], $7::text[], $8::text[], $9::boolean[],
       $10::double precision[], $11::bigint[], $12::bigint[], $13::bigint[])
       AS u(id, state, skip_reason, attempts, next_attempt_at, last_status, last_reason, last_error, retryable, duration_ms,
         delivered_at, updated_at, held_since)
     WHERE d.id = u.id AND d.state <> 'superseded' AND (d.lease_owner IS NULL OR d.lease_owner = $14)
     RETURNING d.id`,
    [
      col((u) => u.id),
      col((u) => u.state),
      col((u) => u.skipReason ?? null),
      col((u) => u.attempts),
      col((u) => u.nextAttemptAt ?? null),
      col((u) => u.lastStatus ?? null),
      col((u) => u.lastReason ?? null),
      col((u) => u.lastError ?? null),
      col((u) => u.retryable ?? null),
      col((u) => u.durationMs ?? null),
      col((u) => u.deliveredAt ?? null),
      col((u) => u.updatedAt),
      col((u) => u.heldSince ?? null),
      replica,
    ],
  );
  const done = new Set(applied.map((r) => r.id));
  // Every attempt of the batch (a delivery may have had two) whose delivery took its outcome.
  const attempts = updates.filter((u) => u.attemptedAt != null && done.has(u.id));
  if (attempts.length) {
    const a = <T>(f: (u: DeliveryUpdate) => T) => attempts.map(f);
    await client.query(
      `INSERT INTO delivery_attempts (delivery_id, notification_id, target, attempt, started_at, replica, duration_ms, status_code,
         reason, error, outcome, next_attempt_at, trial, replay)
       SELECT d.id, d.notification_id, d.target, u.attempt, u.started_at, $12, u.duration_ms, u.status_code, u.reason,
         substr(u.error, 1, ${ATTEMPT_ERROR_CHARS}), u.outcome, u.next_attempt_at, u.trial, u.replay
       FROM unnest($1::text[], $2::integer[], $3::bigint[], $4::double precision[], $5::integer[], $6::text[], $7::text[], $8::text[],
         $9::bigint[], $10::boolean[], $11::boolean[])
         AS u(id, attempt, started_at, duration_ms, status_code, reason, error, outcome, next_attempt_at, trial, replay)
       JOIN deliveries d ON d.id = u.id
       ON CONFLICT (delivery_id, attempt, started_at) DO NOTHING`,
      [
        a((u) => u.id),
        a((u) => u.attempts),
        a((u) => u.attemptedAt),
        a((u) => u.durationMs ?? null),
        a((u) => u.lastStatus ?? null),
        a((u) => u.lastReason ?? null),
        a((u) => u.lastError ?? null),
        a((u) => u.state),
        a((u) => u.nextAttemptAt ?? null),
        a((u) => u.trial === true),
        a((u) => u.replay === true),
        replica,
      ],
    );
  }
  const missed = rows.map((u) => u.id).filter((id) => !done.has(id));
  if (!missed.length) return [];
  // Not applied: superseded or deleted meanwhile (as in SQLite, nothing to say), or held by another replica (lost).
  const { rows: held } = await client.query<{ id: string }>(
    `SELECT id FROM deliveries WHERE id = ANY($1::text[]) AND lease_owner IS NOT NULL AND lease_owner <> $2 AND state <> 'superseded'`,
    [missed, replica],
  );
  return held.map((r) => r.id);
}
