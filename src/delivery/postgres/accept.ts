import type pg from 'pg';
import { needsUpdate, type DedupState } from '../dedup.js';
import { listFields } from '../notification-list.js';
import type { AcceptBatchItem, AcceptResult } from '../types.js';

/** Who accepts, and when its leases end. */
export interface AcceptContext {
  replica: string;
  leaseMs: number;
}

/** The lane key of a delivery: its target and group key (arrival order and supersede hold per lane). */
const laneKey = (target: string, groupKey: string) => `${target}\u2400${groupKey}`;

/**
 * One accept in its own transaction on `client`, with the lanes of its deliveries locked (transaction advisory
 * locks, taken in one order by every replica: no deadlock), so that within a lane dedup, supersede and sequence
 * numbers are decided one accept at a time across replicas:
 * - dedup as Alertmanager's nflog (dedup.ts): an identical notification accepted on another replica a moment ago
 *   is a duplicate here;
 * - older pending deliveries of the lane are superseded, except those in flight here (`inFlight`) and those under
 *   another replica's live lease;
 * - a pending delivery whose lane still has one under another replica's live lease is `blocked` (not leased: it is
 *   claimed once that one settles), the others are leased to this replica for their first attempt;
 * - sequence numbers are taken after the locks, so in a lane they follow commit order.
 * Returns what an accept stored, as the SQLite ledger does; whether a NOTIFY is owed (blocked deliveries).
 */
export async function acceptOne(client: pg.ClientBase, item: AcceptBatchItem, ctx: AcceptContext): Promise<AcceptResult> {
  const { notification: n, deliveries, inFlight = [], dedup } = item;
  const now = n.createdAt;
  const lanes = [...new Set(deliveries.map((d) => laneKey(d.target, d.groupKey)))].sort();
  await client.query('SELECT pg_advisory_xact_lock(hashtextextended(l, 0)) FROM unnest($1::text[]) AS l', [lanes]);

  // Dedup (nflog's rule), decided under the locks.
  const duplicates: number[] = [];
  if (dedup) {
    const present = dedup.entries.map((e, i) => (e ? i : -1)).filter((i) => i >= 0);
    const entries = present.map((i) => dedup.entries[i]!);
    const states = new Map<string, DedupState>();
    if (!dedup.claimed && entries.length) {
      const { rows } = await client.query<{ receiver: string; group_key: string; target: string; firing: string; resolved: string; accepted_at: number }>(
        `SELECT s.receiver, s.group_key, s.target, s.firing, s.resolved, s.accepted_at FROM dedup_state s
         JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(receiver, group_key, target)
           ON s.receiver = k.receiver AND s.group_key = k.group_key AND s.target = k.target`,
        [entries.map((e) => e.receiver), entries.map((e) => e.groupKey), entries.map((e) => e.target)],
      );
      for (const r of rows) {
        states.set(JSON.stringify([r.receiver, r.group_key, r.target]), { firing: JSON.parse(r.firing) as string[], resolved: JSON.parse(r.resolved) as string[], at: r.accepted_at });
      }
    }
    const record: number[] = [];
    for (const i of present) {
      const e = dedup.entries[i]!;
      const last = states.get(JSON.stringify([e.receiver, e.groupKey, e.target]));
      if (dedup.claimed || needsUpdate(last, e, dedup.since)) record.push(i);
      else if (deliveries[i]?.state === 'pending') duplicates.push(i);
    }
    const pick = (idx: number[], f: (i: number) => unknown) => idx.map(f);
    if (record.length) {
      const e = (i: number) => dedup.entries[i]!;
      await client.query(
        `INSERT INTO dedup_state (receiver, group_key, target, firing, resolved, accepted_at)
         SELECT receiver, group_key, target, firing, resolved, $6 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
           AS k(receiver, group_key, target, firing, resolved)
         ON CONFLICT (receiver, group_key, target) DO UPDATE SET firing = excluded.firing, resolved = excluded.resolved, accepted_at = excluded.accepted_at`,
        [
          pick(record, (i) => e(i).receiver),
          pick(record, (i) => e(i).groupKey),
          pick(record, (i) => e(i).target),
          pick(record, (i) => JSON.stringify(e(i).firing)),
          pick(record, (i) => JSON.stringify(e(i).resolved)),
          now,
        ],
      );
    }
    if (duplicates.length) {
      const e = (i: number) => dedup.entries[i]!;
      await client.query(
        `UPDATE dedup_state s SET duplicates = s.duplicates + 1, last_duplicate_at = $4
         FROM unnest($1::text[], $2::text[], $3::text[]) AS k(receiver, group_key, target)
         WHERE s.receiver = k.receiver AND s.group_key = k.group_key AND s.target = k.target`,
        [pick(duplicates, (i) => e(i).receiver), pick(duplicates, (i) => e(i).groupKey), pick(duplicates, (i) => e(i).target), now],
      );
    }
  }
  const sending = deliveries.map((d, i) => d.state === 'pending' && !duplicates.includes(i));
  // Nothing to send to anyone: the duplicates are counted, the payload is not stored again.
  if (duplicates.length && !sending.some(Boolean)) return { seqs: deliveries.map(() => 0), duplicates, stored: false };

  // Lanes held by another replica's live lease: a delivery there waits (blocked) rather than overtake it.
  const inLanes = deliveries.map((d, i) => (sending[i] && d.fallbackOf === undefined ? i : -1)).filter((i) => i >= 0);
  const blockedLanes = new Set<string>();
  if (inLanes.length) {
    const targets = inLanes.map((i) => deliveries[i]!.target);
    const groups = inLanes.map((i) => deliveries[i]!.groupKey);
    const { rows } = await client.query<{ target: string; group_key: string }>(
      `SELECT DISTINCT o.target, o.group_key FROM deliveries o JOIN unnest($1::text[], $2::text[]) AS l(target, group_key)
         ON o.target = l.target AND o.group_key = l.group_key
       WHERE o.state = 'pending' AND o.fallback_of IS NULL AND o.lease_owner IS NOT NULL AND o.lease_owner <> $3 AND o.lease_until >= $4`,
      [targets, groups, ctx.replica, now],
    );
    for (const r of rows) blockedLanes.add(laneKey(r.target, r.group_key));
    // Alertmanager always sends the whole group state: a newer notification replaces what is still waiting.
    await client.query(
      `UPDATE deliveries o SET state = 'superseded', skip_reason = 'superseded', next_attempt_at = NULL, updated_at = $4,
         lease_owner = NULL, lease_until = NULL
       FROM unnest($1::text[], $2::text[]) AS l(target, group_key)
       WHERE o.target = l.target AND o.group_key = l.group_key AND o.state = 'pending' AND o.fallback_of IS NULL
         AND NOT (o.id = ANY($3::text[])) AND NOT (o.lease_owner IS NOT NULL AND o.lease_owner <> $5 AND o.lease_until >= $4)`,
      [targets, groups, [...inFlight], now, ctx.replica],
    );
  }
  const blocked = inLanes.filter((i) => blockedLanes.has(laneKey(deliveries[i]!.target, deliveries[i]!.groupKey)));

  const { rows: seqRows } = await client.query<{ seq: number }>(`SELECT nextval('delivery_seq') AS seq FROM generate_series(1, $1)`, [deliveries.length]);
  const seqs = seqRows.map((r) => r.seq).sort((a, b) => a - b);
  const { alertnames, alerts } = listFields(n);
  const wanting = [...new Set(deliveries.filter((d) => d.skipReason !== 'filtered' && d.skipReason !== 'disabled').map((d) => d.target))];
  await client.query(
    `INSERT INTO notifications (id, key, receiver, group_key, status, created_at, original, enriched, alertnames, alert_count, targets)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [n.id, n.key, n.receiver, n.groupKey, n.status, n.createdAt, n.original, n.enriched, [...new Set(alertnames)], alerts, wanting],
  );
  const leased = (i: number) => sending[i] === true && !blocked.includes(i);
  const col = <T>(f: (d: (typeof deliveries)[number], i: number) => T) => deliveries.map(f);
  await client.query(
    `INSERT INTO deliveries (seq, id, notification_id, target, target_type, group_key, notification_key, state, skip_reason,
       priority, alerts, attempts, created_at, updated_at, next_attempt_at, lease_owner, lease_until)
     SELECT seq, id, $3, target, target_type, group_key, notification_key, state, skip_reason, priority, alerts, attempts,
       created_at, created_at, next_attempt_at, CASE WHEN leased THEN $15 END, CASE WHEN leased THEN $16::bigint END
     FROM unnest($1::bigint[], $2::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::integer[],
       $11::text[], $12::integer[], $13::bigint[], $14::bigint[], $17::boolean[])
       AS d(seq, id, target, target_type, group_key, notification_key, state, skip_reason, priority, alerts, attempts, created_at,
         next_attempt_at, leased)`,
    [
      seqs,
      col((d) => d.id),
      n.id,
      col((d) => d.target),
      col((d) => d.targetType),
      col((d) => d.groupKey),
      col((d) => d.notificationKey),
      col((d, i) => (duplicates.includes(i) ? 'skipped' : d.state)),
      col((d, i) => (duplicates.includes(i) ? 'duplicate' : (d.skipReason ?? null))),
      col((d) => d.priority),
      col((d) => JSON.stringify(d.alerts)),
      col((d) => d.attempts),
      col((d) => d.createdAt),
      col((d, i) => (duplicates.includes(i) ? null : (d.nextAttemptAt ?? null))),
      ctx.replica,
      now + ctx.leaseMs,
      col((_d, i) => leased(i)),
    ],
  );
  return blocked.length ? { seqs, duplicates, blocked } : { seqs, duplicates };
}
