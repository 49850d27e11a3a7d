import { hostname } from 'node:os';
import pg from 'pg';
import { needsUpdate, type DedupEntry } from '../dedup.js';
import { joinNames, listFields } from '../notification-list.js';
import { storedDelivery } from '../records.js';
import { ATTEMPT_ERROR_CHARS } from '../sqlite.js';
import type { ExclusiveJob, Ledger, LedgerEvents } from '../ledger.js';
import type {
  AcceptBatchItem,
  AcceptResult,
  BulkFilter,
  DeliveryFilter,
  DeliveryUpdate,
  IdFilter,
  NewDelivery,
  NotificationFilter,
  NotificationOutcome,
  OutcomeBucket,
  QueueStats,
  ReplayResult,
  TargetQueueStats,
  WriteResult,
} from '../types.js';
import { clientConfig, redactedError, unreachable } from './connection.js';
import { LeaseRenewal } from './leases.js';
import { JobLocks } from './locks.js';
import { attemptFromRow, deliveryFromRow, notificationFromRow, opt, type AttemptRow, type DeliveryRow, type NotificationRow } from './rows.js';
import { migrate } from './schema.js';
import { WORK_CHANNEL, WorkListener } from './wakeups.js';

/** Options of the PostgreSQL ledger (`storage.driver: postgres`). */
export interface PostgresLedgerOptions {
  /** postgres://user:password@host:port/db?sslmode=require (TLS as libpq's sslmode says). Never logged. */
  url: string;
  poolSize: number;
  statementTimeoutMs: number;
  /** How long a lease lasts without renewal (renewed every third of it while the replica lives). */
  leaseMs: number;
  /** This replica's name: the owner of its leases and the name in the attempt history. */
  replica?: string;
  events?: LedgerEvents;
  /** The schema of the ledger's tables (default `alertmux`): created and migrated at open. */
  schema?: string;
  /** The clock of lease renewal (default Date.now); every other time is the callers' `now`. */
  now?: () => number;
}

/** The PostgreSQL ledger, with what tests and the integrator may drive directly. */
export interface PostgresLedger extends Ledger {
  /** Renew this replica's unsettled leases to `now` + lease now (the timer does it every third of a lease); returns the ids lost. */
  renewLeases(now: number): Promise<string[]>;
}

type Query = (sql: string, params?: unknown[]) => Promise<pg.QueryResult>;

const lanes = (deliveries: readonly NewDelivery[], entries: ReadonlyArray<DedupEntry | undefined> = []): string[] =>
  [...new Set([...deliveries.map((d) => `${d.target}\n${d.groupKey}`), ...entries.flatMap((e) => (e ? [`${e.target}\n${e.groupKey}`] : []))])].sort();

const ids = (filter: IdFilter): string[] => (filter instanceof Set ? [...(filter as Set<string>)] : []);

/** The outcome filter of the notification list (the rule of docs/api.md), as notification-list.ts has it for SQLite. */
const OUTCOME_SQL: Record<NotificationOutcome, string> = (() => {
  const has = (states: string) => `EXISTS (SELECT 1 FROM deliveries d WHERE d.notification_id = i.id AND d.state IN (${states}))`;
  const among = (states: string) => `i.id IN (SELECT notification_id FROM deliveries WHERE state IN (${states}))`;
  return {
    delivered: `NOT ${has(`'pending', 'dead'`)}`,
    partial: `${among(`'pending', 'dead'`)} AND ${has(`'delivered'`)}`,
    failed: `${among(`'dead'`)} AND NOT ${has(`'delivered'`)} AND NOT ${has(`'pending'`)}`,
    accepted: `${among(`'pending'`)} AND NOT ${has(`'delivered'`)}`,
    pending: among(`'pending'`),
  };
})();

const OUTCOME_BUCKETS_SQL = `SELECT bucket, SUM((ok AND NOT open)::int) AS delivered, SUM((ok AND open)::int) AS partial,
       SUM((NOT ok AND dead AND NOT pending)::int) AS failed, SUM((NOT ok AND pending)::int) AS accepted
     FROM (SELECT (i.created_at - $1) / $2 AS bucket,
       EXISTS (SELECT 1 FROM deliveries d WHERE d.notification_id = i.id AND d.state = 'delivered') AS ok,
       EXISTS (SELECT 1 FROM deliveries d WHERE d.notification_id = i.id AND d.state = 'pending') AS pending,
       EXISTS (SELECT 1 FROM deliveries d WHERE d.notification_id = i.id AND d.state = 'dead') AS dead,
       EXISTS (SELECT 1 FROM deliveries d WHERE d.notification_id = i.id AND d.state IN ('pending', 'dead')) AS open
       FROM notification_index i WHERE i.created_at >= $1) b
     GROUP BY bucket ORDER BY bucket`;

/** A bulk filter's WHERE clause, its parameters numbered from $1. */
function bulkWhere(filter: BulkFilter): { where: string; params: unknown[] } {
  const clauses = [filter.ids ? `state IN ('dead', 'pending')` : filter.state === 'pending' ? `state = 'pending'` : `state = 'dead'`];
  const params: unknown[] = [];
  if (filter.ids) clauses.push(`id = ANY($${params.push([...filter.ids])})`);
  if (filter.target !== undefined) clauses.push(`target = $${params.push(filter.target)}`);
  if (filter.since !== undefined) clauses.push(`created_at >= $${params.push(filter.since)}`);
  return { where: clauses.join(' AND '), params };
}

/**
 * Open the PostgreSQL ledger: connect, migrate (under an advisory lock), and serve N replicas on one database.
 * Rejects (redacted: never the password) when the database cannot be reached or is newer than this alertmux.
 */
export async function openPostgresLedger(options: PostgresLedgerOptions): Promise<PostgresLedger> {
  const replica = options.replica ?? hostname();
  const schema = options.schema ?? 'alertmux';
  const events = options.events ?? {};
  const config = clientConfig({ url: options.url, schema, statementTimeoutMs: options.statementTimeoutMs });
  const fail = (err: unknown) => redactedError(err, options.url);

  const setup = new pg.Client({ ...config, options: undefined });
  try {
    await setup.connect();
    await migrate(setup, schema);
  } catch (err) {
    throw fail(err);
  } finally {
    await setup.end().catch(() => {});
  }

  const pool = new pg.Pool({ ...config, max: options.poolSize });
  // An idle connection that breaks is dropped by the pool; the next query opens another.
  pool.on('error', () => {});
  let up = true;
  const reached = (ok: boolean) => {
    if (ok === up) return;
    up = ok;
    events.reachable?.(ok);
  };
  const failed = (err: unknown): never => {
    if (unreachable(err)) reached(false);
    throw fail(err);
  };
  const query: Query = async (sql, params) => {
    try {
      const result = await pool.query(sql, params);
      reached(true);
      return result;
    } catch (err) {
      return failed(err);
    }
  };
  const rows = async <T>(sql: string, params?: unknown[]) => (await query(sql, params)).rows as T[];
  const transaction = async <T>(work: (q: Query) => Promise<T>): Promise<T> => {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      return failed(err);
    }
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await work((sql, params) => client.query(sql, params));
      await client.query('COMMIT');
      reached(true);
      return result;
    } catch (err) {
      broken = unreachable(err);
      await client.query('ROLLBACK').catch(() => (broken = true));
      return failed(err);
    } finally {
      client.release(broken);
    }
  };
  const notify = (q: Query) => q(`SELECT pg_notify($1, $2)`, [WORK_CHANNEL, `${schema}:${replica}`]);

  const renewal = new LeaseRenewal({
    leaseMs: options.leaseMs,
    now: options.now ?? Date.now,
    renew: async (held, until) =>
      (await rows<{ id: string }>(`UPDATE deliveries SET lease_until = $1 WHERE id = ANY($2) AND lease_owner = $3 RETURNING id`, [until, held, replica])).map(
        (r) => r.id,
      ),
    lost: (lost) => events.leaseLost?.(lost),
    failed: () => {},
  });
  renewal.start();
  const wakeups = new WorkListener({ config, replica, schema, failed: () => {} });
  const locks = new JobLocks({ config, schema, failed: () => {} });

  /** One accept in its own transaction: lane locks, dedup, rows, supersede, leases. */
  const acceptOne = (a: AcceptBatchItem): Promise<AcceptResult> =>
    transaction(async (q) => {
      const n = a.notification;
      const now = n.createdAt;
      // Lane locks in sorted order (no deadlock between two accepts of the same lanes): dedup, sequence numbers and
      // supersede of a lane are decided by one accept at a time.
      for (const lane of lanes(a.deliveries, a.dedup?.entries)) await q(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [lane]);
      const duplicates: number[] = [];
      if (a.dedup) {
        const { entries, since, claimed } = a.dedup;
        for (const [i, entry] of entries.entries()) {
          if (!entry) continue;
          const last = claimed
            ? undefined
            : (
                await q(`SELECT firing, resolved, accepted_at FROM dedup_state WHERE receiver = $1 AND group_key = $2 AND target = $3`, [
                  entry.receiver,
                  entry.groupKey,
                  entry.target,
                ])
              ).rows[0] as { firing: string; resolved: string; accepted_at: number } | undefined;
          const state = last && { firing: JSON.parse(last.firing) as string[], resolved: JSON.parse(last.resolved) as string[], at: last.accepted_at };
          if (claimed || needsUpdate(state, entry, since)) {
            await q(
              `INSERT INTO dedup_state (receiver, group_key, target, firing, resolved, accepted_at) VALUES ($1, $2, $3, $4, $5, $6)
               ON CONFLICT (receiver, group_key, target) DO UPDATE SET firing = excluded.firing, resolved = excluded.resolved, accepted_at = excluded.accepted_at`,
              [entry.receiver, entry.groupKey, entry.target, JSON.stringify(entry.firing), JSON.stringify(entry.resolved), now],
            );
          } else if (a.deliveries[i]?.state === 'pending') {
            duplicates.push(i);
            await q(`UPDATE dedup_state SET duplicates = duplicates + 1, last_duplicate_at = $1 WHERE receiver = $2 AND group_key = $3 AND target = $4`, [
              now,
              entry.receiver,
              entry.groupKey,
              entry.target,
            ]);
          }
        }
      }
      if (duplicates.length && !a.deliveries.some((d, i) => d.state === 'pending' && !duplicates.includes(i))) {
        return { seqs: a.deliveries.map(() => 0), duplicates, stored: false };
      }
      await q(
        `INSERT INTO notifications (id, key, receiver, group_key, status, created_at, original, enriched) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [n.id, n.key, n.receiver, n.groupKey, n.status, n.createdAt, n.original, n.enriched],
      );
      const { alertnames, alerts } = listFields(n);
      const wanting = a.deliveries.filter((d) => d.skipReason !== 'filtered' && d.skipReason !== 'disabled').map((d) => d.target);
      await q(
        `INSERT INTO notification_index (created_at, id, receiver, group_key, status, alerts, alertnames, targets) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [n.createdAt, n.id, n.receiver, n.groupKey, n.status, alerts, joinNames(alertnames), joinNames(wanting)],
      );
      const inFlight = [...(a.inFlight ?? [])];
      const seqs: number[] = [];
      const blocked: number[] = [];
      for (const [i, d] of a.deliveries.entries()) {
        const duplicate = duplicates.includes(i);
        const pending = d.state === 'pending' && !duplicate;
        // Behind another replica's attempt in this lane (its live lease on an older pending delivery): wait for it.
        const behind =
          pending &&
          (
            await q(
              `SELECT 1 FROM deliveries WHERE group_key = $1 AND target = $2 AND state = 'pending' AND fallback_of IS NULL
                 AND lease_owner IS NOT NULL AND lease_owner <> $3 AND lease_until >= $4 LIMIT 1`,
              [d.groupKey, d.target, replica, now],
            )
          ).rowCount !== 0;
        if (behind) blocked.push(i);
        const leased = pending && !behind;
        const { rows: inserted } = await q(
          `INSERT INTO deliveries (seq, id, notification_id, target, target_type, group_key, notification_key, state, skip_reason,
             priority, alerts, attempts, created_at, updated_at, next_attempt_at, lease_owner, lease_until)
           VALUES (nextval('deliveries_seq'), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13, $14, $15) RETURNING seq`,
          [
            d.id,
            d.notificationId,
            d.target,
            d.targetType,
            d.groupKey,
            d.notificationKey,
            duplicate ? 'skipped' : d.state,
            duplicate ? 'duplicate' : (d.skipReason ?? null),
            d.priority,
            JSON.stringify(d.alerts),
            d.attempts,
            d.createdAt,
            duplicate ? null : (d.nextAttemptAt ?? null),
            leased ? replica : null,
            leased ? now + options.leaseMs : null,
          ],
        );
        const seq = (inserted[0] as { seq: number }).seq;
        seqs.push(seq);
        if (pending) {
          // Alertmanager always sends the whole group state: a newer notification replaces what is still waiting,
          // except what someone is attempting right now (in flight here, or under another replica's live lease).
          // This replica's own leases defer to `inFlight` (what it attempts now), as with SQLite.
          const gone = await q(
            `UPDATE deliveries SET state = 'superseded', skip_reason = 'superseded', next_attempt_at = NULL, updated_at = $1,
               lease_owner = NULL, lease_until = NULL
             WHERE group_key = $2 AND target = $3 AND state = 'pending' AND seq < $4 AND fallback_of IS NULL
               AND id <> ALL($5) AND (lease_owner IS NULL OR lease_owner = $6 OR lease_until < $1) RETURNING id`,
            [d.createdAt, d.groupKey, d.target, seq, inFlight, replica],
          );
          renewal.remove((gone.rows as Array<{ id: string }>).map((r) => r.id));
        }
      }
      const result: AcceptResult = { seqs, duplicates };
      if (blocked.length) result.blocked = blocked;
      return result;
    });

  /** Outcome updates in one transaction, applied only under this replica's lease (or none); the others are lost. */
  const updateAll = (updates: readonly DeliveryUpdate[]): Promise<string[]> =>
    transaction(async (q) => {
      const lost: string[] = [];
      for (const u of updates) {
        const owner = (await q(`SELECT lease_owner FROM deliveries WHERE id = $1 FOR UPDATE`, [u.id])).rows[0] as { lease_owner: string | null } | undefined;
        if (owner?.lease_owner != null && owner.lease_owner !== replica) {
          lost.push(u.id);
          continue;
        }
        const values = [
          u.id,
          u.state,
          u.skipReason ?? null,
          u.attempts,
          u.nextAttemptAt ?? null,
          u.lastStatus ?? null,
          u.lastReason ?? null,
          u.lastError ?? null,
          u.retryable ?? null,
          u.durationMs ?? null,
          u.deliveredAt ?? null,
          u.heldSince ?? null,
          u.updatedAt,
        ];
        await q(
          `UPDATE deliveries SET state = $2, skip_reason = $3, attempts = $4, next_attempt_at = $5, last_status = $6, last_reason = $7,
             last_error = $8, retryable = $9, duration_ms = $10, delivered_at = $11, held_since = COALESCE(held_since, $12), updated_at = $13,
             lease_owner = NULL, lease_until = NULL
           WHERE id = $1 AND state <> 'superseded'`,
          values,
        );
        if (u.attemptedAt != null) {
          await q(
            `INSERT INTO delivery_attempts (delivery_id, notification_id, target, attempt, started_at, replica, duration_ms, status_code, reason,
               error, outcome, next_attempt_at, trial, replay)
             SELECT id, notification_id, target, $2, $3, $4, $5, $6, $7, substr($8, 1, ${ATTEMPT_ERROR_CHARS}), $9, $10, $11, $12 FROM deliveries WHERE id = $1
             ON CONFLICT (delivery_id, attempt, started_at) DO NOTHING`,
            [u.id, u.attempts, u.attemptedAt, replica, u.durationMs ?? null, u.lastStatus ?? null, u.lastReason ?? null, u.lastError ?? null, u.state, u.nextAttemptAt ?? null, u.trial === true, u.replay === true],
          );
        }
      }
      // A settled delivery clears its lane, a retry is pending again: the other replicas may have work.
      await notify(q);
      return lost;
    });

  const select = (where: string, params: unknown[], tail = '') => rows<DeliveryRow>(`SELECT * FROM deliveries WHERE ${where} ${tail}`, params);

  const ledger: PostgresLedger = {
    driver: 'postgres',
    replica,
    write: async ({ accepts, updates }) => {
      const result: WriteResult = { accepted: [] };
      // Updates first (they happened before the accepts they are batched with); each accept in its own transaction.
      if (updates.length) {
        try {
          const lost = await updateAll(updates);
          renewal.remove(updates.map((u) => u.id));
          if (lost.length) {
            result.lost = lost;
            events.leaseLost?.(lost);
          }
        } catch (err) {
          result.updateError = String(err instanceof Error ? err.message : err);
          const code = (err as { code?: unknown }).code;
          if (typeof code === 'string') result.updateCode = code;
        }
      }
      result.accepted = await Promise.all(
        accepts.map(async (a) => {
          try {
            const stored = await acceptOne(a);
            const blocked = new Set(stored.blocked);
            renewal.add(a.deliveries.filter((d, i) => d.state === 'pending' && !stored.duplicates.includes(i) && !blocked.has(i) && stored.stored !== false).map((d) => d.id));
            return stored;
          } catch (err) {
            const code = (err as { code?: unknown }).code;
            return { error: String(err instanceof Error ? err.message : err), ...(typeof code === 'string' ? { code } : {}) };
          }
        }),
      );
      return result;
    },
    // A shared database never vouches: another replica may have accepted the same notification.
    claimDedup: () => false,
    dedupState: async (receiver, groupKey, target) => {
      const r = (
        await rows<{ firing: string; resolved: string; accepted_at: number; duplicates: number }>(
          `SELECT firing, resolved, accepted_at, duplicates FROM dedup_state WHERE receiver = $1 AND group_key = $2 AND target = $3`,
          [receiver, groupKey, target],
        )
      )[0];
      return r && { firing: JSON.parse(r.firing) as string[], resolved: JSON.parse(r.resolved) as string[], at: r.accepted_at, duplicates: r.duplicates };
    },
    claim: async (now, limit, exclude) => {
      if (limit <= 0) return [];
      const claimed = await rows<DeliveryRow & { previous_owner: string | null }>(
        `WITH c AS (
           SELECT d.seq, d.lease_owner AS previous_owner FROM deliveries d
           WHERE d.state = 'pending' AND d.next_attempt_at <= $1 AND (d.lease_owner IS NULL OR d.lease_until < $1) AND d.id <> ALL($4)
             AND (d.fallback_of IS NOT NULL OR NOT EXISTS (SELECT 1 FROM deliveries o WHERE o.group_key = d.group_key AND o.target = d.target
               AND o.state = 'pending' AND o.seq < d.seq AND o.fallback_of IS NULL))
           ORDER BY d.priority, d.next_attempt_at, d.seq LIMIT $2 FOR UPDATE OF d SKIP LOCKED)
         UPDATE deliveries SET lease_owner = $3, lease_until = $1::bigint + $5 FROM c WHERE deliveries.seq = c.seq
         RETURNING deliveries.*, c.previous_owner`,
        [now, limit, replica, ids(exclude), options.leaseMs],
      );
      const takeovers = new Map<string, number>();
      for (const r of claimed) if (r.previous_owner !== null && r.previous_owner !== replica) takeovers.set(r.previous_owner, (takeovers.get(r.previous_owner) ?? 0) + 1);
      for (const [from, count] of takeovers) events.takeover?.(count, from);
      renewal.add(claimed.map((r) => r.id));
      return claimed
        .sort((a, b) => a.priority - b.priority || (a.next_attempt_at ?? 0) - (b.next_attempt_at ?? 0) || a.seq - b.seq)
        .map(deliveryFromRow);
    },
    nextDueAt: async (exclude) => {
      const r = await rows<{ at: number | null }>(
        `SELECT MIN(CASE WHEN lease_owner IS NOT NULL AND lease_owner <> $1 THEN GREATEST(next_attempt_at, lease_until + 1) ELSE next_attempt_at END) AS at
         FROM deliveries WHERE state = 'pending' AND id <> ALL($2)`,
        [replica, ids(exclude)],
      );
      return opt(r[0]?.at);
    },
    unlease: async (leased) => {
      if (!leased.length) return;
      renewal.remove(leased);
      await transaction(async (q) => {
        await q(`UPDATE deliveries SET lease_owner = NULL, lease_until = NULL WHERE id = ANY($1) AND lease_owner = $2`, [[...leased], replica]);
        await notify(q);
      });
    },
    onWork: (listener) => wakeups.subscribe(listener),
    latestSeq: async (target, groupKey) =>
      opt((await rows<{ seq: number }>(`SELECT seq FROM deliveries WHERE target = $1 AND group_key = $2 AND fallback_of IS NULL ORDER BY seq DESC LIMIT 1`, [target, groupKey]))[0]?.seq),
    wake: (target, now) =>
      transaction(async (q) => {
        const n = (await q(`UPDATE deliveries SET next_attempt_at = $1 WHERE target = $2 AND state = 'pending' AND next_attempt_at > $1`, [now, target])).rowCount ?? 0;
        if (n) await notify(q);
        return n;
      }),
    getNotification: async (id) => {
      const r = (await rows<NotificationRow>(`SELECT * FROM notifications WHERE id = $1`, [id]))[0];
      return r && notificationFromRow(r);
    },
    getDelivery: async (id) => {
      const r = (await select('id = $1', [id]))[0];
      return r && deliveryFromRow(r);
    },
    deliveriesOf: async (id) => (await select('notification_id = $1', [id], 'ORDER BY seq')).map(deliveryFromRow),
    deliveriesOfMany: async (notificationIds) =>
      notificationIds.length ? (await select('notification_id = ANY($1)', [[...notificationIds]], 'ORDER BY seq')).map(deliveryFromRow) : [],
    list: async (filter: DeliveryFilter) => {
      const clauses: string[] = [];
      const params: unknown[] = [];
      for (const [column, op, value] of [
        ['state', '=', filter.state],
        ['target', '=', filter.target],
        ['notification_id', '=', filter.notificationId],
        ['created_at', '>=', filter.since],
        ['created_at', '<=', filter.until],
        ['last_reason', '=', filter.reason],
        ['seq', '<', filter.before],
      ] as const) {
        if (value !== undefined) clauses.push(`${column} ${op} $${params.push(value)}`);
      }
      const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
      return (
        await rows<DeliveryRow>(`SELECT * FROM deliveries ${where} ORDER BY seq ${filter.oldestFirst ? 'ASC' : 'DESC'} LIMIT $${params.push(filter.limit ?? 100)}`, params)
      ).map(deliveryFromRow);
    },
    notifications: async (filter: NotificationFilter, limit) => {
      if (limit <= 0) return [];
      const clauses: string[] = [];
      const params: unknown[] = [];
      const add = (clause: (...n: string[]) => string, ...values: unknown[]) => clauses.push(clause(...values.map((v) => `$${params.push(v)}`)));
      if (filter.before) add((a, b) => `(created_at, id) < (${a}, ${b})`, filter.before.createdAt, filter.before.id);
      if (filter.since !== undefined) add((a) => `created_at >= ${a}`, filter.since);
      if (filter.until !== undefined) add((a) => `created_at <= ${a}`, filter.until);
      if (filter.receiver !== undefined) add((a) => `receiver = ${a}`, filter.receiver);
      if (filter.groupKey !== undefined) add((a) => `group_key = ${a}`, filter.groupKey);
      if (filter.status !== undefined) add((a) => `status = ${a}`, filter.status);
      if (filter.alertname !== undefined) add((a) => `strpos(alertnames, ${a}) > 0`, `\n${filter.alertname}\n`);
      if (filter.target !== undefined) add((a) => `strpos(targets, ${a}) > 0`, `\n${filter.target}\n`);
      if (filter.outcome !== undefined) clauses.push(OUTCOME_SQL[filter.outcome]);
      const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
      const found = await rows<{ created_at: number; id: string; receiver: string; group_key: string; status: 'firing' | 'resolved'; alerts: number; alertnames: string }>(
        `SELECT created_at, id, receiver, group_key, status, alerts, alertnames FROM notification_index i ${where}
         ORDER BY created_at DESC, id DESC LIMIT $${params.push(limit)}`,
        params,
      );
      return found.map((r) => ({
        id: r.id,
        createdAt: r.created_at,
        receiver: r.receiver,
        groupKey: r.group_key,
        status: r.status,
        alerts: r.alerts,
        alertnames: r.alertnames.split('\n').filter((a) => a !== ''),
      }));
    },
    attemptsOf: async (id) => (await rows<AttemptRow>(`SELECT * FROM delivery_attempts WHERE delivery_id = $1 ORDER BY attempt, started_at`, [id])).map(attemptFromRow),
    attemptsOfNotification: async (id) =>
      (
        await rows<AttemptRow>(`SELECT a.* FROM deliveries d JOIN delivery_attempts a ON a.delivery_id = d.id WHERE d.notification_id = $1 ORDER BY a.id`, [id])
      ).map(attemptFromRow),
    addFallback: (d) =>
      transaction(async (q) => {
        const inserted = await q(
          `INSERT INTO deliveries (seq, id, notification_id, target, target_type, group_key, notification_key, state, skip_reason,
             priority, alerts, attempts, created_at, updated_at, next_attempt_at, fallback_of, fallback_for, fallback_reason)
           VALUES (nextval('deliveries_seq'), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13, $14, $15, $16)
           ON CONFLICT DO NOTHING RETURNING seq`,
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
            d.nextAttemptAt ?? null,
            d.fallbackOf ?? null,
            d.fallbackFor ?? null,
            d.fallbackReason ?? null,
          ],
        );
        const seq = (inserted.rows[0] as { seq: number } | undefined)?.seq;
        if (seq === undefined) return undefined;
        await q(`UPDATE deliveries SET fallback_id = $1 WHERE id = $2 AND fallback_id IS NULL`, [d.id, d.fallbackOf]);
        await q(
          `UPDATE notification_index SET targets = targets || $2
           WHERE (created_at, id) = ((SELECT created_at FROM notifications WHERE id = $1), $1) AND strpos(targets, E'\\n' || $2) = 0`,
          [d.notificationId, `${d.target}\n`],
        );
        await notify(q);
        return storedDelivery(d, seq, false);
      }),
    heldSince: async (target, before, limit) =>
      (
        await select(`target = $1 AND state = 'pending' AND held_since IS NOT NULL AND fallback_id IS NULL AND held_since <= $2`, [target, before], 'ORDER BY held_since LIMIT $3'.replace('$3', String(Math.max(0, Math.floor(limit)))))
      ).map(deliveryFromRow),
    earliestHeld: async (target) =>
      opt(
        (await rows<{ at: number | null }>(`SELECT MIN(held_since) AS at FROM deliveries WHERE target = $1 AND state = 'pending' AND held_since IS NOT NULL AND fallback_id IS NULL`, [target]))[0]
          ?.at,
      ),
    replay: (filter, now) =>
      transaction(async (q): Promise<ReplayResult> => {
        const { where, params } = bulkWhere(filter);
        const found = (await q(`SELECT id, target FROM deliveries WHERE ${where} ORDER BY seq FOR UPDATE`, params)).rows as Array<{ id: string; target: string }>;
        const configured = filter.configured && new Set(filter.configured);
        const unconfigured = configured ? found.filter((r) => !configured.has(r.target)) : [];
        const replayed = (configured ? found.filter((r) => configured.has(r.target)) : found).map((r) => r.id);
        if (replayed.length) {
          // A fresh retry budget and max_age, counted from the replay; the attempts so far, their history and created_at stay.
          await q(
            `UPDATE deliveries SET state = 'pending', skip_reason = NULL, next_attempt_at = $1, replayed_at = $1, attempts_at_replay = attempts, updated_at = $1
             WHERE id = ANY($2)`,
            [now, replayed],
          );
          await notify(q);
        }
        return { ids: replayed, unconfigured: unconfigured.slice(0, 100), unconfiguredCount: unconfigured.length };
      }),
    delete: async (id) => ((await query(`DELETE FROM deliveries WHERE id = $1`, [id])).rowCount ?? 0) > 0,
    deleteMany: async (filter) => {
      const { where, params } = bulkWhere(filter);
      return (await query(`DELETE FROM deliveries WHERE ${where}`, params)).rowCount ?? 0;
    },
    hold: async (target, until) => (await query(`UPDATE deliveries SET skip_reason = 'paused', next_attempt_at = $1 WHERE target = $2 AND state = 'pending'`, [until, target])).rowCount ?? 0,
    release: (target, now) =>
      transaction(async (q) => {
        const n =
          (
            await q(
              `UPDATE deliveries SET next_attempt_at = $1, skip_reason = CASE WHEN skip_reason = 'paused' THEN NULL ELSE skip_reason END
               WHERE target = $2 AND state = 'pending' AND (next_attempt_at > $1 OR skip_reason = 'paused')`,
              [now, target],
            )
          ).rowCount ?? 0;
        if (n) await notify(q);
        return n;
      }),
    targetStats: async () => {
      const byTarget = new Map<string, TargetQueueStats>();
      for (const r of await rows<{ target: string; state: 'pending' | 'dead'; count: number; oldest: number }>(
        `SELECT target, state, COUNT(*) AS count, MIN(created_at) AS oldest FROM deliveries WHERE state IN ('pending', 'dead') GROUP BY state, target`,
      )) {
        const t = byTarget.get(r.target) ?? { target: r.target, pending: 0, dead: 0 };
        t[r.state] = r.count;
        if (r.state === 'pending') t.oldestPendingAt = r.oldest;
        byTarget.set(r.target, t);
      }
      return [...byTarget.values()];
    },
    outcomeBuckets: (since, bucketMs) => rows<OutcomeBucket>(OUTCOME_BUCKETS_SQL, [since, bucketMs]),
    stats: async (): Promise<QueueStats> => {
      const byStateAndPriority = await rows<QueueStats['byStateAndPriority'][number]>(
        `SELECT state, priority, COUNT(*) AS count FROM deliveries WHERE state IN ('pending', 'dead') GROUP BY state, priority ORDER BY state, priority`,
      );
      const oldest = await rows<{ at: number | null }>(`SELECT MIN(created_at) AS at FROM deliveries WHERE state = 'pending'`);
      return { byStateAndPriority, oldestPendingAt: opt(oldest[0]?.at) };
    },
    prune: (before, now, limit) =>
      transaction(async (q) => {
        const cap = limit === undefined || limit < 0 ? 'ALL' : String(Math.floor(limit));
        const count = async (sql: string, params: unknown[]) => (await q(sql, params)).rowCount ?? 0;
        const removed =
          (await count(
            `DELETE FROM deliveries WHERE seq IN (SELECT seq FROM deliveries WHERE created_at < $1 AND state IN ('delivered', 'skipped', 'superseded') AND updated_at < $1 LIMIT ${cap})`,
            [before],
          )) +
          (await count(
            `DELETE FROM notifications WHERE id IN (SELECT id FROM notifications n WHERE n.created_at < $1 AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.notification_id = n.id) LIMIT ${cap})`,
            [before],
          )) +
          (await count(`DELETE FROM target_state WHERE key IN (SELECT key FROM target_state WHERE expires_at < $1 LIMIT ${cap})`, [now])) +
          (await count(
            `DELETE FROM dedup_state WHERE (receiver, group_key, target) IN (SELECT receiver, group_key, target FROM dedup_state WHERE accepted_at < $1 LIMIT ${cap})`,
            [before],
          ));
        await q(
          `DELETE FROM notification_index WHERE (created_at, id) IN (SELECT created_at, id FROM notification_index i WHERE i.created_at < $1
             AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.id = i.id) LIMIT ${cap})`,
          [before],
        );
        return removed;
      }),
    stateGet: async (key, now) => (await rows<{ value: string }>(`SELECT value FROM target_state WHERE key = $1 AND expires_at >= $2`, [key, now]))[0]?.value,
    stateSet: async (key, value, expiresAt) => {
      await query(`INSERT INTO target_state (key, value, expires_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`, [
        key,
        value,
        expiresAt,
      ]);
    },
    stateDelete: async (key) => {
      await query(`DELETE FROM target_state WHERE key = $1`, [key]);
    },
    exclusive: async (job: ExclusiveJob) => {
      try {
        return await locks.exclusive(job);
      } catch (err) {
        return failed(err);
      }
    },
    renewLeases: (now) => renewal.renew(now),
    close: async () => {
      renewal.stop();
      const held = renewal.ids();
      renewal.remove(held);
      // Give back what was never settled: another replica takes it at once instead of after the lease.
      if (held.length) await ledger.unlease(held).catch(() => {});
      await wakeups.close();
      await locks.close();
      await pool.end();
    },
  };
  return ledger;
}
