import pg from 'pg';
import { redactUrl } from '../../config/storage.js';
import { needsUpdate, type DedupEntry, type DedupState } from '../dedup.js';
import type { ExclusiveJob, Ledger, LedgerEvents } from '../ledger.js';
import { joinNames, listFields } from '../notification-list.js';
import { LedgerOpenError, SCHEMA_NEWER } from '../open-error.js';
import { storedDelivery } from '../records.js';
import { ATTEMPT_ERROR_CHARS } from '../sqlite.js';
import type {
  AcceptBatchItem,
  AcceptResult,
  DeliveryRecord,
  DeliveryUpdate,
  IdFilter,
  NewDelivery,
  NotificationSummary,
  OutcomeBucket,
  QueueStats,
  ReplayResult,
  TargetQueueStats,
  WriteResult,
} from '../types.js';
import { ledgerError, secretsOf, unreachable } from './errors.js';
import { Leases } from './leases.js';
import { JobLocks } from './locks.js';
import { bulkWhere, listSql, notificationsSql, OUTCOME_BUCKETS_SQL } from './reads.js';
import { attemptFromRow, deliveryFromRow, notificationFromRow, TYPES, type AttemptRow, type DeliveryRow, type NotificationRow } from './rows.js';
import { migrate } from './schema.js';
import { WORK_CHANNEL, WorkListener } from './wakeups.js';

/** What the PostgreSQL ledger is opened with (`storageOptions()` of a postgres config, plus this replica). */
export interface PostgresLedgerOptions {
  url: string;
  poolSize: number;
  statementTimeoutMs: number;
  /** How long a lease lasts without renewal; renewed every third of it while this replica lives. */
  leaseMs: number;
  replica: string;
  events?: LedgerEvents;
  /** The clock of lease renewal (tests pass their own); every other time is the caller's `now`. */
  now?: () => number;
  /** How often leases are renewed (default a third of leaseMs). */
  renewEveryMs?: number;
}

/** Longest wait for a connection from the pool, or for a new one: a database that does not answer fails a request fast (503). */
const CONNECT_TIMEOUT_MS = 5000;

/**
 * Open the PostgreSQL ledger: connect, migrate (under an advisory lock), start lease renewal. Rejects with a
 * `LedgerOpenError` (its message shows the URL without its password) when the database cannot be reached or was
 * migrated by a newer alertmux.
 */
export async function openPostgresLedger(options: PostgresLedgerOptions): Promise<Ledger> {
  const { url, replica, leaseMs } = options;
  const events = options.events ?? {};
  const secrets = secretsOf(url);
  const clientConfig: pg.ClientConfig = {
    connectionString: url,
    statement_timeout: options.statementTimeoutMs,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: `alertmux ${replica}`.slice(0, 63),
    types: TYPES,
  };
  const pool = new pg.Pool({ ...clientConfig, max: options.poolSize });
  const wrap = (err: unknown) => ledgerError(err, url, secrets);

  try {
    const client = await pool.connect();
    try {
      await migrate(client);
    } finally {
      client.release();
    }
  } catch (err) {
    await pool.end().catch(() => {});
    const safe = wrap(err);
    const code = (err as { code?: unknown }).code === SCHEMA_NEWER ? SCHEMA_NEWER : String((err as { code?: unknown }).code ?? 'unknown');
    const action = code === SCHEMA_NEWER
      ? 'run the alertmux version that migrated this database, or a newer one'
      : 'check that the database at storage.url is up and reachable from here, and that the user may create tables in it';
    const error = new LedgerOpenError(redactUrl(url), code, action, safe);
    error.message = `cannot open the ledger database ${redactUrl(url)}: ${safe.message}`;
    throw error;
  }

  // Reachability: reported on transitions, from the outcome of every statement.
  let up = true;
  const failed = (err: unknown) => {
    if (up && unreachable(err)) {
      up = false;
      events.reachable?.(false);
    }
  };
  const answered = () => {
    if (!up) {
      up = true;
      events.reachable?.(true);
    }
  };
  // An idle connection that breaks must not crash the process: the pool drops it and opens a new one when asked.
  pool.on('error', failed);

  const q = async <R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<pg.QueryResult<R>> => {
    try {
      const result = await pool.query<R>(sql, params);
      answered();
      return result;
    } catch (err) {
      failed(err);
      throw wrap(err);
    }
  };
  const tx = async <T>(work: (c: pg.PoolClient) => Promise<T>): Promise<T> => {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      failed(err);
      throw wrap(err);
    }
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      client.release();
      answered();
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      // A broken connection is closed, not given back to the pool.
      client.release(unreachable(err) ? (err as Error) : undefined);
      failed(err);
      throw wrap(err);
    }
  };
  const notify = (c: pg.ClientBase) => c.query('SELECT pg_notify($1, $2)', [WORK_CHANNEL, replica]);

  const leases = new Leases({
    replica,
    leaseMs,
    everyMs: options.renewEveryMs ?? Math.max(Math.floor(leaseMs / 3), 10),
    now: options.now ?? Date.now,
    renew: async (ids, until) => (await q<{ id: string }>(`UPDATE deliveries SET lease_until = $1 WHERE id = ANY($2::text[]) AND lease_owner = $3 AND state = 'pending' RETURNING id`, [until, ids, replica])).rows.map((r) => r.id),
    lost: (ids) => events.leaseLost?.(ids),
  });
  const listener = new WorkListener(clientConfig, replica, failed);
  const locks = new JobLocks(clientConfig, failed);

  const acceptOne = (a: AcceptBatchItem): Promise<AcceptResult & { leased: string[]; released: string[] }> => {
    const { notification: n, deliveries } = a;
    const now = n.createdAt;
    // The lanes this accept touches (per target and group key): locked in one order, so two accepts never deadlock.
    const lanes = new Set<string>();
    for (const d of deliveries) if (!d.fallbackOf) lanes.add(`${d.target}\n${d.groupKey}`);
    for (const e of a.dedup?.entries ?? []) if (e) lanes.add(`${e.target}\n${e.groupKey}`);
    return tx(async (c) => {
      if (lanes.size) {
        await c.query(
          `SELECT pg_advisory_xact_lock(k) FROM (SELECT DISTINCT hashtextextended(l, 0) AS k FROM unnest($1::text[]) AS l ORDER BY k) AS keys`,
          [[...lanes]],
        );
      }
      const duplicates = a.dedup ? await decideDedup(c, deliveries, a.dedup, now) : [];
      if (duplicates.length && !deliveries.some((d, i) => d.state === 'pending' && !duplicates.includes(i))) {
        return { seqs: deliveries.map(() => 0), duplicates, stored: false, leased: [], released: [] };
      }
      await c.query(
        `INSERT INTO notifications (id, key, receiver, group_key, status, created_at, original, enriched) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [n.id, n.key, n.receiver, n.groupKey, n.status, n.createdAt, n.original, n.enriched],
      );
      const { alertnames, alerts } = listFields(n);
      const wanting = deliveries.filter((d) => d.skipReason !== 'filtered' && d.skipReason !== 'disabled').map((d) => d.target);
      await c.query(
        `INSERT INTO notification_index (created_at, id, receiver, group_key, status, alerts, alertnames, targets) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [n.createdAt, n.id, n.receiver, n.groupKey, n.status, alerts, joinNames(alertnames), joinNames(wanting)],
      );
      // Taken under the lanes' locks: in a lane, a later accept has a larger seq.
      const seqRows = await c.query<{ seq: number }>(`SELECT nextval('delivery_seq') AS seq FROM generate_series(1, $1)`, [deliveries.length]);
      const taken = seqRows.rows.map((r) => r.seq).sort((x, y) => x - y);
      const inFlight = [...(a.inFlight ?? [])];
      const blocked: number[] = [];
      const leased: string[] = [];
      const released: string[] = [];
      for (const [i, d] of deliveries.entries()) {
        const seq = taken[i] ?? 0;
        const duplicate = duplicates.includes(i);
        const pending = d.state === 'pending' && !duplicate;
        let waits = false;
        if (pending && !d.fallbackOf) {
          // Alertmanager always sends the whole group state: a newer notification replaces what is still waiting,
          // except what is being attempted (here: inFlight; elsewhere: a live lease of another replica).
          const superseded = await c.query<{ id: string }>(
            `UPDATE deliveries SET state = 'superseded', skip_reason = 'superseded', next_attempt_at = NULL, updated_at = $1, lease_owner = NULL, lease_until = NULL
             WHERE group_key = $2 AND target = $3 AND state = 'pending' AND seq < $4 AND fallback_of IS NULL AND NOT (id = ANY($5::text[]))
               AND (lease_owner IS NULL OR lease_owner = $6 OR lease_until <= $7)
             RETURNING id`,
            [d.createdAt, d.groupKey, d.target, seq, inFlight, replica, now],
          );
          released.push(...superseded.rows.map((r) => r.id));
          const older = await c.query(
            `SELECT 1 FROM deliveries WHERE group_key = $1 AND target = $2 AND state = 'pending' AND seq < $3 AND fallback_of IS NULL
               AND lease_owner IS NOT NULL AND lease_owner <> $4 AND lease_until > $5 LIMIT 1`,
            [d.groupKey, d.target, seq, replica, now],
          );
          waits = (older.rowCount ?? 0) > 0;
        }
        if (waits) blocked.push(i);
        const lease = pending && !waits;
        if (lease) leased.push(d.id);
        await insertDelivery(c, d, seq, duplicate, lease ? replica : null, lease ? now + leaseMs : null);
      }
      if (blocked.length) await notify(c);
      const result: AcceptResult & { leased: string[]; released: string[] } = { seqs: taken.slice(0, deliveries.length), duplicates, leased, released };
      if (blocked.length) result.blocked = blocked;
      return result;
    });
  };

  const applyUpdates = (updates: readonly DeliveryUpdate[]): Promise<string[]> =>
    tx(async (c) => {
      const lost: string[] = [];
      for (const u of updates) {
        const applied = await c.query(
          `UPDATE deliveries SET state = $2, skip_reason = $3, attempts = $4, next_attempt_at = $5, last_status = $6, last_reason = $7, last_error = $8,
             retryable = $9, duration_ms = $10, delivered_at = $11, updated_at = $12, held_since = COALESCE(held_since, $13), lease_owner = NULL, lease_until = NULL
           WHERE id = $1 AND state <> 'superseded' AND (lease_owner IS NULL OR lease_owner = $14)`,
          [
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
            u.updatedAt,
            u.heldSince ?? null,
            replica,
          ],
        );
        if (!applied.rowCount) {
          const owner = await c.query<{ lease_owner: string | null }>(`SELECT lease_owner FROM deliveries WHERE id = $1`, [u.id]);
          const other = owner.rows[0]?.lease_owner;
          if (other && other !== replica) {
            lost.push(u.id);
            continue;
          }
        }
        if (u.attemptedAt != null) {
          await c.query(
            `INSERT INTO delivery_attempts (delivery_id, notification_id, target, attempt, started_at, replica, duration_ms, status_code, reason, error,
               outcome, next_attempt_at, trial, replay)
             SELECT id, notification_id, target, $2, $3, $4, $5, $6, $7, substr($8, 1, ${ATTEMPT_ERROR_CHARS}), $9, $10, $11, $12 FROM deliveries WHERE id = $1
             ON CONFLICT DO NOTHING`,
            [u.id, u.attempts, u.attemptedAt, replica, u.durationMs ?? null, u.lastStatus ?? null, u.lastReason ?? null, u.lastError ?? null, u.state, u.nextAttemptAt ?? null, u.trial === true, u.replay === true],
          );
        }
      }
      // Back to pending (a retry another replica may take) or a lane cleared by a final state: others look again.
      if (lost.length < updates.length) await notify(c);
      return lost;
    });

  const rowsOf = async (sql: string, params: unknown[]) => (await q<DeliveryRow>(sql, params)).rows.map(deliveryFromRow);
  const countOf = async (sql: string, params: unknown[], wake = false) => {
    const { rowCount } = await q(sql, params);
    if (wake && rowCount) await q('SELECT pg_notify($1, $2)', [WORK_CHANNEL, replica]);
    return rowCount ?? 0;
  };

  const ledger: Ledger = {
    driver: 'postgres',
    replica,
    async write(batch) {
      if (!batch.accepts.length && !batch.updates.length) return { accepted: [] };
      const result: WriteResult = { accepted: [] };
      if (batch.updates.length) {
        // Updates first, as in SQLite: a delivery that was delivered must not look pending (and be superseded) to
        // an accept of its lane in the same batch. The attempts are over: their leases are no longer renewed.
        leases.settle(batch.updates.map((u) => u.id));
        try {
          const lost = await applyUpdates(batch.updates);
          if (lost.length) {
            result.lost = lost;
            events.leaseLost?.(lost);
          }
        } catch (err) {
          result.updateError = (err as Error).message;
          const code = (err as { code?: unknown }).code;
          if (typeof code === 'string') result.updateCode = code;
        }
      }
      // Each accept in its own transaction, concurrently through the pool: none fails another.
      result.accepted = await Promise.all(
        batch.accepts.map((a) =>
          acceptOne(a).then(
            ({ leased, released, ...stored }) => {
              // Superseded deliveries this replica had leased (queued, not in flight) are no longer renewed.
              leases.settle(released);
              leases.hold(leased);
              return stored;
            },
            (err: unknown) => {
              const code = (err as { code?: unknown }).code;
              return { error: (err as Error).message, ...(typeof code === 'string' ? { code } : {}) };
            },
          ),
        ),
      );
      return result;
    },
    // Another replica may have accepted the same notification: only the commit can tell.
    claimDedup: () => false,
    async dedupState(receiver, groupKey, target) {
      const { rows } = await q<StateRow>(`SELECT * FROM dedup_state WHERE receiver = $1 AND group_key = $2 AND target = $3`, [receiver, groupKey, target]);
      const r = rows[0];
      return r && { ...stateOf(r), duplicates: r.duplicates };
    },
    async claim(now, limit, exclude) {
      if (limit <= 0) return [];
      const picked = await tx(async (c) => {
        // Over-fetch by the number excluded (in flight here), so excluded rows never starve due ones.
        const candidates = await c.query<{ id: string; lease_owner: string | null }>(
          `SELECT d.id, d.lease_owner FROM deliveries d
           WHERE d.state = 'pending' AND d.next_attempt_at <= $1 AND (d.lease_owner IS NULL OR d.lease_until <= $1)
             AND (d.fallback_of IS NOT NULL OR NOT EXISTS (SELECT 1 FROM deliveries o WHERE o.group_key = d.group_key AND o.target = d.target
               AND o.state = 'pending' AND o.seq < d.seq AND o.fallback_of IS NULL))
           ORDER BY d.priority, d.next_attempt_at, d.seq LIMIT $2 FOR UPDATE OF d SKIP LOCKED`,
          [now, limit + exclude.size + leases.size],
        );
        // Nor what this replica holds (claimed or accepted, not settled): its lease may look expired to a `now` the
        // renewal has not caught up with, but the attempt is this replica's until it writes an outcome or unleases it.
        const chosen = candidates.rows.filter((r) => !exclude.has(r.id) && !leases.has(r.id)).slice(0, limit);
        if (!chosen.length) return { rows: [] as DeliveryRow[], from: chosen };
        const { rows } = await c.query<DeliveryRow>(
          `UPDATE deliveries SET lease_owner = $1, lease_until = $2 WHERE id = ANY($3::text[]) RETURNING *`,
          [replica, now + leaseMs, chosen.map((r) => r.id)],
        );
        return { rows, from: chosen };
      });
      const records = picked.rows
        .map(deliveryFromRow)
        .sort((x, y) => x.priority - y.priority || (x.nextAttemptAt ?? 0) - (y.nextAttemptAt ?? 0) || x.seq - y.seq);
      leases.hold(records.map((r) => r.id));
      // Expired leases of other replicas: they died or hung; their attempts may have been in flight.
      const taken = new Map<string, number>();
      for (const r of picked.from) if (r.lease_owner && r.lease_owner !== replica) taken.set(r.lease_owner, (taken.get(r.lease_owner) ?? 0) + 1);
      for (const [from, count] of taken) events.takeover?.(count, from);
      return records;
    },
    async nextDueAt(exclude: IdFilter) {
      // Due, or (under another replica's lease) when that lease expires; first in its lane only.
      const { rows } = await q<{ id: string; at: number }>(
        `SELECT d.id, CASE WHEN d.lease_owner IS NOT NULL AND d.lease_owner <> $1 THEN GREATEST(d.next_attempt_at, d.lease_until) ELSE d.next_attempt_at END AS at
         FROM deliveries d WHERE d.state = 'pending' AND d.next_attempt_at IS NOT NULL
           AND (d.fallback_of IS NOT NULL OR NOT EXISTS (SELECT 1 FROM deliveries o WHERE o.group_key = d.group_key AND o.target = d.target
             AND o.state = 'pending' AND o.seq < d.seq AND o.fallback_of IS NULL))
         ORDER BY at LIMIT $2`,
        [replica, exclude.size + 1],
      );
      return rows.find((r) => !exclude.has(r.id))?.at;
    },
    async unlease(ids) {
      if (!ids.length) return;
      leases.settle(ids);
      await countOf(`UPDATE deliveries SET lease_owner = NULL, lease_until = NULL WHERE id = ANY($1::text[]) AND lease_owner = $2`, [[...ids], replica], true);
    },
    onWork: (listen) => listener.subscribe(listen),
    async latestSeq(target, groupKey) {
      const { rows } = await q<{ seq: number }>(
        `SELECT seq FROM deliveries WHERE group_key = $1 AND target = $2 AND fallback_of IS NULL ORDER BY seq DESC LIMIT 1`,
        [groupKey, target],
      );
      return rows[0]?.seq;
    },
    wake: (target, now) => countOf(`UPDATE deliveries SET next_attempt_at = $1 WHERE target = $2 AND state = 'pending' AND next_attempt_at > $1`, [now, target], true),
    async getNotification(id) {
      const { rows } = await q<NotificationRow>(`SELECT * FROM notifications WHERE id = $1`, [id]);
      return rows[0] && notificationFromRow(rows[0]);
    },
    async getDelivery(id) {
      return (await rowsOf(`SELECT * FROM deliveries WHERE id = $1`, [id]))[0];
    },
    deliveriesOf: (id) => rowsOf(`SELECT * FROM deliveries WHERE notification_id = $1 ORDER BY seq`, [id]),
    deliveriesOfMany: async (ids) => (ids.length ? rowsOf(`SELECT * FROM deliveries WHERE notification_id = ANY($1::text[]) ORDER BY seq`, [[...ids]]) : []),
    list(filter) {
      const { sql, params } = listSql(filter);
      return rowsOf(sql, params);
    },
    async notifications(filter, limit) {
      if (limit <= 0) return [];
      const { sql, params } = notificationsSql(filter, limit);
      const { rows } = await q<IndexRow>(sql, params);
      return rows.map(
        (r): NotificationSummary => ({
          id: r.id,
          createdAt: r.created_at,
          receiver: r.receiver,
          groupKey: r.group_key,
          status: r.status,
          alerts: r.alerts,
          alertnames: r.alertnames.split('\n').filter((a) => a !== ''),
        }),
      );
    },
    attemptsOf: async (id) => (await q<AttemptRow>(`SELECT * FROM delivery_attempts WHERE delivery_id = $1 ORDER BY attempt, started_at`, [id])).rows.map(attemptFromRow),
    attemptsOfNotification: async (id) =>
      (await q<AttemptRow>(`SELECT a.* FROM deliveries d JOIN delivery_attempts a ON a.delivery_id = d.id WHERE d.notification_id = $1 ORDER BY a.id`, [id])).rows.map(
        attemptFromRow,
      ),
    async addFallback(d) {
      const record = await tx(async (c) => {
        const lease = d.state === 'pending';
        const inserted = await c.query<{ seq: number }>(
          `INSERT INTO deliveries (seq, id, notification_id, target, target_type, group_key, notification_key, state, skip_reason, priority, alerts, attempts,
             created_at, updated_at, next_attempt_at, fallback_of, fallback_for, fallback_reason, lease_owner, lease_until)
           VALUES (nextval('delivery_seq'), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13, $14, $15, $16, $17, $18)
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
            lease ? replica : null,
            lease ? d.createdAt + leaseMs : null,
          ],
        );
        const seq = inserted.rows[0]?.seq;
        if (seq === undefined) return undefined;
        await c.query(`UPDATE deliveries SET fallback_id = $1 WHERE id = $2 AND fallback_id IS NULL`, [d.id, d.fallbackOf]);
        // The fallback target now has a delivery of the notification: the list's target filter finds it there too.
        await c.query(
          `UPDATE notification_index SET targets = targets || $1 WHERE id = $2 AND created_at = (SELECT created_at FROM notifications WHERE id = $2)
             AND strpos(targets, $3) = 0`,
          [`${d.target}\n`, d.notificationId, `\n${d.target}\n`],
        );
        return storedDelivery(d, seq, false);
      });
      if (record?.state === 'pending') leases.hold([record.id]);
      return record;
    },
    heldSince: (target, before, limit) =>
      rowsOf(
        `SELECT * FROM deliveries WHERE target = $1 AND state = 'pending' AND held_since IS NOT NULL AND fallback_id IS NULL AND held_since <= $2
         ORDER BY held_since LIMIT $3`,
        [target, before, limit],
      ),
    async earliestHeld(target) {
      const { rows } = await q<{ at: number | null }>(
        `SELECT min(held_since) AS at FROM deliveries WHERE target = $1 AND state = 'pending' AND held_since IS NOT NULL AND fallback_id IS NULL`,
        [target],
      );
      return rows[0]?.at ?? undefined;
    },
    async replay(filter, now) {
      const result = await tx(async (c): Promise<ReplayResult> => {
        const { where, params } = bulkWhere(filter);
        const { rows } = await c.query<{ id: string; target: string }>(`SELECT id, target FROM deliveries WHERE ${where} ORDER BY seq FOR UPDATE`, params);
        const configured = filter.configured && new Set(filter.configured);
        const unconfigured = configured ? rows.filter((r) => !configured.has(r.target)) : [];
        const ids = (configured ? rows.filter((r) => configured.has(r.target)) : rows).map((r) => r.id);
        // A fresh retry budget and max_age, counted from the replay; the attempts so far, their history and created_at stay.
        if (ids.length) {
          await c.query(
            `UPDATE deliveries SET state = 'pending', skip_reason = NULL, next_attempt_at = $1, replayed_at = $1, attempts_at_replay = attempts, updated_at = $1
             WHERE id = ANY($2::text[])`,
            [now, ids],
          );
          await notify(c);
        }
        return { ids, unconfigured: unconfigured.slice(0, 100), unconfiguredCount: unconfigured.length };
      });
      return result;
    },
    delete: async (id) => (await countOf(`DELETE FROM deliveries WHERE id = $1`, [id])) > 0,
    deleteMany(filter) {
      const { where, params } = bulkWhere(filter);
      return countOf(`DELETE FROM deliveries WHERE ${where}`, params);
    },
    hold: (target, until) => countOf(`UPDATE deliveries SET skip_reason = 'paused', next_attempt_at = $1 WHERE target = $2 AND state = 'pending'`, [until, target]),
    release: (target, now) =>
      countOf(
        `UPDATE deliveries SET next_attempt_at = $1, skip_reason = CASE WHEN skip_reason = 'paused' THEN NULL ELSE skip_reason END
         WHERE target = $2 AND state = 'pending' AND (next_attempt_at > $1 OR skip_reason = 'paused')`,
        [now, target],
        true,
      ),
    async targetStats() {
      const { rows } = await q<{ target: string; state: 'pending' | 'dead'; count: number; oldest: number }>(
        `SELECT target, state, count(*) AS count, min(created_at) AS oldest FROM deliveries WHERE state IN ('pending', 'dead') GROUP BY state, target`,
      );
      const byTarget = new Map<string, TargetQueueStats>();
      for (const r of rows) {
        const t = byTarget.get(r.target) ?? { target: r.target, pending: 0, dead: 0 };
        t[r.state] = r.count;
        if (r.state === 'pending') t.oldestPendingAt = r.oldest;
        byTarget.set(r.target, t);
      }
      return [...byTarget.values()];
    },
    outcomeBuckets: async (since, bucketMs) => (await q<OutcomeBucket>(OUTCOME_BUCKETS_SQL, [since, bucketMs])).rows,
    async stats(): Promise<QueueStats> {
      const byState = await q<{ state: DeliveryRecord['state']; priority: number; count: number }>(
        `SELECT state, priority, count(*) AS count FROM deliveries WHERE state IN ('pending', 'dead') GROUP BY state, priority`,
      );
      const oldest = await q<{ at: number | null }>(`SELECT min(created_at) AS at FROM deliveries WHERE state = 'pending'`);
      return { byStateAndPriority: byState.rows, oldestPendingAt: oldest.rows[0]?.at ?? undefined };
    },
    prune: (before, now, limit) => {
      // LIMIT NULL is no limit; in batches along the time indexes, as in SQLite.
      const cap = limit === undefined || limit < 0 ? null : limit;
      return tx(async (c) => {
        const removed = [
          await c.query(
            `DELETE FROM deliveries WHERE seq IN (SELECT seq FROM deliveries WHERE created_at < $1 AND state IN ('delivered', 'skipped', 'superseded')
               AND updated_at < $1 LIMIT $2)`,
            [before, cap],
          ),
          await c.query(
            `DELETE FROM notifications WHERE id IN (SELECT id FROM notifications n WHERE n.created_at < $1
               AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.notification_id = n.id) LIMIT $2)`,
            [before, cap],
          ),
          await c.query(`DELETE FROM target_state WHERE key IN (SELECT key FROM target_state WHERE expires_at < $1 LIMIT $2)`, [now, cap]),
          await c.query(
            `DELETE FROM dedup_state WHERE (receiver, group_key, target) IN (SELECT receiver, group_key, target FROM dedup_state WHERE accepted_at < $1 LIMIT $2)`,
            [before, cap],
          ),
        ].reduce((sum, r) => sum + (r.rowCount ?? 0), 0);
        // The list rows of the notifications removed (not counted: each is part of its notification).
        await c.query(
          `DELETE FROM notification_index WHERE (created_at, id) IN (SELECT created_at, id FROM notification_index i WHERE i.created_at < $1
             AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.id = i.id) LIMIT $2)`,
          [before, cap],
        );
        return removed;
      });
    },
    async stateGet(key, now) {
      const { rows } = await q<{ value: string }>(`SELECT value FROM target_state WHERE key = $1 AND expires_at >= $2`, [Buffer.from(key), now]);
      return rows[0]?.value;
    },
    async stateSet(key, value, expiresAt) {
      await q(
        `INSERT INTO target_state (key, value, expires_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
        [Buffer.from(key), value, expiresAt],
      );
    },
    async stateDelete(key) {
      await q(`DELETE FROM target_state WHERE key = $1`, [Buffer.from(key)]);
    },
    async exclusive(job: ExclusiveJob) {
      try {
        const mine = await locks.exclusive(job);
        answered();
        return mine;
      } catch (err) {
        failed(err);
        throw wrap(err);
      }
    },
    async close() {
      leases.stop();
      const held = leases.take();
      if (held.length) {
        // Give back what this replica holds (the attempts did not finish): another replica takes them at once.
        await countOf(`UPDATE deliveries SET lease_owner = NULL, lease_until = NULL WHERE id = ANY($1::text[]) AND lease_owner = $2`, [held, replica], true).catch(() => {});
      }
      await Promise.all([listener.close(), locks.close()]);
      await pool.end();
    },
  };
  leases.start();
  // Listening from the start: a replica hears the work others make claimable from the moment it is open.
  await listener.start();
  return ledger;
}

interface IndexRow {
  created_at: number;
  id: string;
  receiver: string;
  group_key: string;
  status: 'firing' | 'resolved';
  alerts: number;
  alertnames: string;
}

interface StateRow {
  receiver: string;
  group_key: string;
  target: string;
  firing: string;
  resolved: string;
  accepted_at: number;
  duplicates: number;
}

const stateOf = (r: StateRow): DedupState => ({
  firing: JSON.parse(r.firing) as string[],
  resolved: JSON.parse(r.resolved) as string[],
  at: r.accepted_at,
});

/**
 * Dedup (nflog's rule, as the SQLite backend decides it), under the lanes' advisory locks: of two replicas accepting
 * the same notification at once, the second reads the state the first recorded. Returns the duplicates' indexes.
 */
async function decideDedup(
  c: pg.ClientBase,
  deliveries: readonly NewDelivery[],
  { entries, since, claimed }: NonNullable<AcceptBatchItem['dedup']>,
  at: number,
): Promise<number[]> {
  const duplicates: number[] = [];
  for (const [i, entry] of entries.entries()) {
    if (!entry) continue;
    const last = claimed ? undefined : await readState(c, entry);
    if (claimed || needsUpdate(last && stateOf(last), entry, since)) {
      await c.query(
        `INSERT INTO dedup_state (receiver, group_key, target, firing, resolved, accepted_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (receiver, group_key, target) DO UPDATE SET firing = excluded.firing, resolved = excluded.resolved, accepted_at = excluded.accepted_at`,
        [entry.receiver, entry.groupKey, entry.target, JSON.stringify(entry.firing), JSON.stringify(entry.resolved), at],
      );
    } else if (deliveries[i]?.state === 'pending') {
      duplicates.push(i);
      await c.query(
        `UPDATE dedup_state SET duplicates = duplicates + 1, last_duplicate_at = $1 WHERE receiver = $2 AND group_key = $3 AND target = $4`,
        [at, entry.receiver, entry.groupKey, entry.target],
      );
    }
  }
  return duplicates;
}

async function readState(c: pg.ClientBase, entry: DedupEntry): Promise<StateRow | undefined> {
  const { rows } = await c.query<StateRow>(`SELECT * FROM dedup_state WHERE receiver = $1 AND group_key = $2 AND target = $3`, [entry.receiver, entry.groupKey, entry.target]);
  return rows[0];
}

async function insertDelivery(c: pg.ClientBase, d: NewDelivery, seq: number, duplicate: boolean, owner: string | null, until: number | null): Promise<void> {
  await c.query(
    `INSERT INTO deliveries (seq, id, notification_id, target, target_type, group_key, notification_key, state, skip_reason, priority, alerts, attempts,
       created_at, updated_at, next_attempt_at, lease_owner, lease_until)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14, $15, $16)`,
    [
      seq,
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
      owner,
      until,
    ],
  );
}
