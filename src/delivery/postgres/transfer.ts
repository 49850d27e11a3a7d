import type pg from 'pg';
import { listFields } from '../notification-list.js';
import { stateKey } from './sql.js';
import type { ImportCounts, LedgerExport } from '../ledger.js';

/**
 * One page of `migrate-storage` in the caller's transaction: rows the database already has (by id or key) are left
 * as they are, so a run cut short can run again. Deliveries get new sequence numbers in the order given (the
 * source's arrival order), so their lanes keep their order; none is leased.
 */
export async function importPage(client: pg.ClientBase, page: LedgerExport): Promise<ImportCounts> {
  const counts: ImportCounts = { notifications: 0, deliveries: 0, attempts: 0, dedup: 0, state: 0 };
  for (const n of page.notifications) {
    const { alertnames, alerts } = listFields(n);
    const wanting = [...new Set(page.deliveries.filter((d) => d.notificationId === n.id && d.skipReason !== 'filtered' && d.skipReason !== 'disabled').map((d) => d.target))];
    const { rowCount } = await client.query(
      `INSERT INTO notifications (id, key, receiver, group_key, status, created_at, original, enriched, alertnames, alert_count, targets)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING`,
      [n.id, n.key, n.receiver, n.groupKey, n.status, n.createdAt, n.original, n.enriched, [...new Set(alertnames)], alerts, wanting],
    );
    counts.notifications += rowCount ?? 0;
  }
  for (const d of page.deliveries) {
    const { rowCount } = await client.query(
      `INSERT INTO deliveries (seq, id, notification_id, target, target_type, group_key, notification_key, state, skip_reason, priority,
         alerts, attempts, created_at, updated_at, next_attempt_at, last_status, last_reason, last_error, retryable, duration_ms,
         delivered_at, fallback_of, fallback_for, fallback_reason, fallback_id, held_since, replayed_at, attempts_at_replay)
       VALUES (nextval('delivery_seq'), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21,
         $22, $23, $24, $25, $26, $27)
       ON CONFLICT DO NOTHING`,
      [
        d.id,
        d.notificationId,
        d.target,
        d.targetType,
        d.groupKey,
        d.notificationKey,
        d.state,
        d.skipReason ?? null,
        d.priority,
        JSON.stringify(d.alerts),
        d.attempts,
        d.createdAt,
        d.updatedAt,
        d.nextAttemptAt ?? null,
        d.lastStatus ?? null,
        d.lastReason ?? null,
        d.lastError ?? null,
        d.retryable ?? null,
        d.durationMs ?? null,
        d.deliveredAt ?? null,
        d.fallbackOf ?? null,
        d.fallbackFor ?? null,
        d.fallbackReason ?? null,
        d.fallbackId ?? null,
        d.heldSince ?? null,
        d.replayedAt ?? null,
        d.attemptsAtReplay ?? null,
      ],
    );
    counts.deliveries += rowCount ?? 0;
  }
  for (const a of page.attempts) {
    const { rowCount } = await client.query(
      `INSERT INTO delivery_attempts (delivery_id, notification_id, target, attempt, started_at, replica, duration_ms, status_code, reason,
         error, outcome, next_attempt_at, trial, replay)
       SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14 WHERE EXISTS (SELECT 1 FROM deliveries WHERE id = $1)
       ON CONFLICT DO NOTHING`,
      [a.deliveryId, a.notificationId, a.target, a.attempt, a.at, a.replica, a.durationMs ?? null, a.statusCode ?? null, a.reason ?? null, a.error ?? null, a.outcome, a.nextAttemptAt ?? null, a.trial, a.replay],
    );
    counts.attempts += rowCount ?? 0;
  }
  for (const s of page.dedup) {
    const { rowCount } = await client.query(
      `INSERT INTO dedup_state (receiver, group_key, target, firing, resolved, accepted_at, duplicates) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT DO NOTHING`,
      [s.receiver, s.groupKey, s.target, JSON.stringify(s.firing), JSON.stringify(s.resolved), s.at, s.duplicates],
    );
    counts.dedup += rowCount ?? 0;
  }
  for (const s of page.state) {
    const { rowCount } = await client.query('INSERT INTO target_state (key, value, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [stateKey(s.key), s.value, s.expiresAt]);
    counts.state += rowCount ?? 0;
  }
  return counts;
}
