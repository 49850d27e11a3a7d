import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { dedupLane, needsUpdate, type DedupEntry, type DedupState } from './dedup.js';
import { DEDUP_INDEX_LOAD, DedupIndex } from './dedup-index.js';
import { sqliteCode, storageFailure } from './ledger-health.js';
import { ledgerOpenError, SCHEMA_NEWER } from './open-error.js';
import { joinNames, listFields, listNotifications, OUTCOME_BUCKETS_SQL } from './notification-list.js';
import { ATTEMPT_ERROR_CHARS, storedDeliveries, storedDelivery } from './records.js';
import { attemptFromRow, deliveryFromRow, notificationFromRow, opt, type AttemptRow, type DeliveryRow, type NotificationRow } from './rows.js';
import { WriterThread } from './writer-thread.js';
import type {
  BulkFilter,
  OutcomeBucket,
  TargetQueueStats,
  AcceptBatchItem,
  AcceptDedup,
  AcceptResult,
  IdFilter,
  DeliveryFilter,
  DeliveryRecord,
  DeliveryUpdate,
  NewDelivery,
  NotificationRecord,
  QueueStats,
  ReplayFilter,
  ReplayResult,
  Store,
  WriteBatch,
  WriteResult,
} from './types.js';

/** Schema migrations, applied in order; `PRAGMA user_version` records how many ran. Never edit one that shipped. */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE notifications (
     id TEXT PRIMARY KEY, key TEXT NOT NULL, receiver TEXT NOT NULL, group_key TEXT NOT NULL,
     status TEXT NOT NULL, created_at INTEGER NOT NULL, original TEXT NOT NULL, enriched TEXT NOT NULL);
   CREATE TABLE deliveries (
     seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
     notification_id TEXT NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
     target TEXT NOT NULL, target_type TEXT NOT NULL, group_key TEXT NOT NULL, notification_key TEXT NOT NULL,
     state TEXT NOT NULL, skip_reason TEXT, priority INTEGER NOT NULL, alerts TEXT NOT NULL,
     attempts INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
     next_attempt_at INTEGER, last_status INTEGER, last_reason TEXT, last_error TEXT, retryable INTEGER,
     duration_ms REAL, delivered_at INTEGER);
   CREATE INDEX deliveries_due ON deliveries(state, next_attempt_at) WHERE state = 'pending';
   CREATE INDEX deliveries_lane ON deliveries(target, group_key, seq);
   CREATE INDEX deliveries_key ON deliveries(notification_key, created_at);
   CREATE INDEX deliveries_notification ON deliveries(notification_id);
   CREATE INDEX deliveries_state_target ON deliveries(state, target);
   CREATE INDEX notifications_created ON notifications(created_at);`,
  `CREATE TABLE target_state (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at INTEGER NOT NULL);`,
  // The retry queue in the worker's order, so picking the next due ones never sorts the whole backlog.
  `CREATE INDEX deliveries_queue ON deliveries(priority, next_attempt_at, seq) WHERE state = 'pending';`,
  // The lane index by group first: a notification's deliveries (one per target, same group key) go into one page of
  // it, where target first put each in its own page (fewer pages written per notification).
  `DROP INDEX deliveries_lane;
   CREATE INDEX deliveries_lane ON deliveries(group_key, target, seq);`,
  // The dedup lookup by the notification's key, one entry per notification: by the deliveries' key it took five
  // entries in a random page of a hash-ordered index per notification. The
  // window of recent keys is read along created_at (in time order, so appended, not scattered).
  `CREATE INDEX notifications_key ON notifications(key);
   CREATE INDEX deliveries_created ON deliveries(created_at);
   DROP INDEX deliveries_key;`,
  // Dedup as Alertmanager's nflog: per receiver, group and target, the last accepted firing and resolved
  // fingerprints (JSON arrays, sorted), and how many duplicates were skipped since (a duplicate stores nothing
  // else). The notification key is no longer looked up (deliveries_created stays: pruning walks it in batches).
  `CREATE TABLE dedup_state (
     receiver TEXT NOT NULL, group_key TEXT NOT NULL, target TEXT NOT NULL,
     firing TEXT NOT NULL, resolved TEXT NOT NULL, accepted_at INTEGER NOT NULL,
     duplicates INTEGER NOT NULL DEFAULT 0, last_duplicate_at INTEGER,
     PRIMARY KEY (receiver, group_key, target)) WITHOUT ROWID;
   DROP INDEX notifications_key;`,
  // Fallback targets: a fallback delivery names the delivery it stands in for (unique: one fallback per original, also
  // across restarts), that delivery's target, and why it was sent; an original records its fallback's id, and since when
  // it has been held by its target's breaker or health. Only held originals still owing a fallback are in the held index.
  `ALTER TABLE deliveries ADD COLUMN fallback_of TEXT;
   ALTER TABLE deliveries ADD COLUMN fallback_for TEXT;
   ALTER TABLE deliveries ADD COLUMN fallback_reason TEXT;
   ALTER TABLE deliveries ADD COLUMN fallback_id TEXT;
   ALTER TABLE deliveries ADD COLUMN held_since INTEGER;
   CREATE UNIQUE INDEX deliveries_fallback_of ON deliveries(fallback_of) WHERE fallback_of IS NOT NULL;
   CREATE INDEX deliveries_held ON deliveries(target, held_since) WHERE state = 'pending' AND held_since IS NOT NULL AND fallback_id IS NULL;`,
  // Every attempt on record (issue 23): one row per attempt, added in the transaction that writes the attempt's
  // outcome (one INSERT more per attempt, no round trip), removed with its delivery (pruning, DELETE) by the
  // cascade. Unique per delivery, attempt and start: an outcome written again (ledger recovery) adds no second row.
  // A replay no longer resets attempts and created_at: it records when it happened and the attempts then, and the
  // fresh retry budget (max_attempts, max_age) counts from there.
  `CREATE TABLE delivery_attempts (
     id INTEGER PRIMARY KEY, delivery_id TEXT NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
     notification_id TEXT NOT NULL, target TEXT NOT NULL, attempt INTEGER NOT NULL, started_at INTEGER NOT NULL,
     replica TEXT NOT NULL, duration_ms REAL, status_code INTEGER, reason TEXT, error TEXT, outcome TEXT NOT NULL,
     next_attempt_at INTEGER, trial INTEGER NOT NULL, replay INTEGER NOT NULL);
   CREATE UNIQUE INDEX delivery_attempts_delivery ON delivery_attempts(delivery_id, attempt, started_at);
   ALTER TABLE deliveries ADD COLUMN replayed_at INTEGER;
   ALTER TABLE deliveries ADD COLUMN attempts_at_replay INTEGER;`,
  // The notification list (GET /api/v1/notifications, the console): one small row per stored notification, in time
  // order (appended), with what its filters read: alertnames and wanting targets as '\nA\nB\n'. Filtering walks these
  // rows (about 40 to a page) instead of the notifications' payloads (about one to a page). Filled from what is stored.
  `CREATE TABLE notification_index (
     created_at INTEGER NOT NULL, id TEXT NOT NULL, receiver TEXT NOT NULL, group_key TEXT NOT NULL, status TEXT NOT NULL,
     alerts INTEGER NOT NULL, alertnames TEXT NOT NULL, targets TEXT NOT NULL,
     PRIMARY KEY (created_at, id)) WITHOUT ROWID;
   INSERT INTO notification_index
     SELECT n.created_at, n.id, n.receiver, n.group_key, n.status,
       COALESCE(json_array_length(n.original, '$.alerts'), 0),
       char(10) || COALESCE((SELECT group_concat(a, char(10)) FROM (SELECT DISTINCT json_extract(value, '$.labels.alertname') AS a
         FROM json_each(n.original, '$.alerts') WHERE a IS NOT NULL)), '') || char(10),
       char(10) || COALESCE((SELECT group_concat(t, char(10)) FROM (SELECT DISTINCT d.target AS t FROM deliveries d
         WHERE d.notification_id = n.id AND COALESCE(d.skip_reason, '') NOT IN ('filtered', 'disabled'))), '') || char(10)
     FROM notifications n WHERE json_valid(n.original);`,
];

/**
 * The page cache of each connection, in KiB: SQLite's own default. better-sqlite3 builds SQLite with 16 MB
 * (`SQLITE_DEFAULT_CACHE_SIZE=-16000`), and the writer thread's cache filled up under load with pages the
 * inserts touch once: resident memory per connection for no throughput. Pages that leave it are read again
 * from the OS's cache.
 */
export const PAGE_CACHE_KIB = 2000;

/**
 * Open the ledger file with the settings every connection to it uses (the main one and the writer thread's).
 * `autocheckpoint: false` turns off SQLite's automatic WAL checkpoint (at 1,000 pages): with a writer thread,
 * that thread checkpoints (checkpoint.ts) and the main connection never does.
 */
export function openDatabase(path: string, options: { autocheckpoint?: boolean } = {}): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode: a commit survives a process crash (kill -9); only an OS crash may lose the last ones.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  // Negative: a size in KiB rather than a number of pages.
  db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
  if (options.autocheckpoint === false) db.pragma('wal_autocheckpoint = 0');
  return db;
}

/** The ledger's hot writes (accepts and outcome updates), prepared on one connection. */
export interface LedgerWrites {
  /** Insert a notification and its deliveries (inside a transaction): their sequence numbers, and the duplicates. */
  acceptRows(n: NotificationRecord, deliveries: readonly NewDelivery[], inFlight: IdFilter, dedup?: AcceptDedup): AcceptResult;
  /** Group commit: one transaction; an accept that fails is retried alone so it cannot fail the others. */
  commit(batch: WriteBatch): WriteResult;
}

/** What the ledger's writes record besides what they are given. */
export interface WriteOptions {
  /** Who makes the attempts, for the attempt history. */
  replica?: string;
}

/** Prepare the accept and update statements on `db`; shared by the main connection and the writer thread. */
export function prepareWrites(db: Database.Database, options: WriteOptions = {}): LedgerWrites {
  const replica = options.replica ?? hostname();
  const insertNotification = db.prepare(
    `INSERT INTO notifications (id, key, receiver, group_key, status, created_at, original, enriched)
     VALUES (@id, @key, @receiver, @groupKey, @status, @createdAt, @original, @enriched)`,
  );
  const insertDelivery = db.prepare(
    `INSERT INTO deliveries (id, notification_id, target, target_type, group_key, notification_key, state, skip_reason,
       priority, alerts, attempts, created_at, updated_at, next_attempt_at)
     VALUES (@id, @notificationId, @target, @targetType, @groupKey, @notificationKey, @state, @skipReason,
       @priority, @alerts, @attempts, @createdAt, @createdAt, @nextAttemptAt)`,
  );
  const insertIndex = db.prepare(
    `INSERT INTO notification_index (created_at, id, receiver, group_key, status, alerts, alertnames, targets)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const pendingOfLane = db.prepare(
    // A fallback delivery is in no lane: it carries another target's share of its notification, so it neither supersedes nor is superseded.
    `SELECT id FROM deliveries WHERE target = ? AND group_key = ? AND +state = 'pending' AND seq < ? AND fallback_of IS NULL`,
  );
  const supersede = db.prepare(
    `UPDATE deliveries SET state = 'superseded', skip_reason = 'superseded', next_attempt_at = NULL, updated_at = ? WHERE id = ?`,
  );
  const dedup = dedupStatements(db);
  const updateStmt = db.prepare(
    `UPDATE deliveries SET state = @state, skip_reason = @skipReason, attempts = @attempts, next_attempt_at = @nextAttemptAt,
       last_status = @lastStatus, last_reason = @lastReason, last_error = @lastError, retryable = @retryable,
       duration_ms = @durationMs, delivered_at = @deliveredAt, updated_at = @updatedAt, held_since = COALESCE(held_since, @heldSince)
     WHERE id = @id AND state NOT IN ('superseded')`,
  );
  // Notification and target from the row the update just touched (no lookup elsewhere); nothing for a deleted delivery.
  const insertAttempt = db.prepare(
    `INSERT OR IGNORE INTO delivery_attempts (delivery_id, notification_id, target, attempt, started_at, replica, duration_ms,
       status_code, reason, error, outcome, next_attempt_at, trial, replay)
     SELECT id, notification_id, target, ?, ?, ?, ?, ?, ?, substr(?, 1, ${ATTEMPT_ERROR_CHARS}), ?, ?, ?, ? FROM deliveries WHERE id = ?`,
  );

  const acceptRows = (n: NotificationRecord, deliveries: readonly NewDelivery[], inFlight: IdFilter, dedupOf?: AcceptDedup): AcceptResult => {
    // Deliveries that are duplicates (an Alertmanager retry, its HA peer sending the same), by nflog's rule.
    const duplicates = dedupOf ? dedup.decide(deliveries, dedupOf, n.createdAt) : [];
    // Nothing to send to anyone: counted above, and the payload is not stored again.
    if (duplicates.length && !deliveries.some((d, i) => d.state === 'pending' && !duplicates.includes(i))) {
      return { seqs: deliveries.map(() => 0), duplicates, stored: false };
    }
    insertNotification.run(n);
    const { alertnames, alerts } = listFields(n);
    const wanting = deliveries.filter((d) => d.skipReason !== 'filtered' && d.skipReason !== 'disabled').map((d) => d.target);
    insertIndex.run(n.createdAt, n.id, n.receiver, n.groupKey, n.status, alerts, joinNames(alertnames), joinNames(wanting));
    const seqs = deliveries.map((d, i) => {
      const duplicate = duplicates.includes(i);
      const seq = Number(
        insertDelivery.run({
          ...d,
          state: duplicate ? 'skipped' : d.state,
          skipReason: duplicate ? 'duplicate' : (d.skipReason ?? null),
          alerts: JSON.stringify(d.alerts),
          nextAttemptAt: duplicate ? null : (d.nextAttemptAt ?? null),
        }).lastInsertRowid,
      );
      if (d.state === 'pending' && !duplicate) {
        // Alertmanager always sends the whole group state: a newer notification replaces what is still waiting.
        for (const { id } of pendingOfLane.all(d.target, d.groupKey, seq) as Array<{ id: string }>) {
          if (!inFlight.has(id)) supersede.run(d.createdAt, id);
        }
      }
      return seq;
    });
    return { seqs, duplicates };
  };
  const updateRows = (updates: readonly DeliveryUpdate[]) => {
    for (const u of updates) {
      const row = {
        id: u.id,
        state: u.state,
        skipReason: u.skipReason ?? null,
        attempts: u.attempts,
        nextAttemptAt: u.nextAttemptAt ?? null,
        lastStatus: u.lastStatus ?? null,
        lastReason: u.lastReason ?? null,
        lastError: u.lastError ?? null,
        retryable: u.retryable === undefined || u.retryable === null ? null : u.retryable ? 1 : 0,
        durationMs: u.durationMs ?? null,
        deliveredAt: u.deliveredAt ?? null,
        heldSince: u.heldSince ?? null,
        updatedAt: u.updatedAt,
      };
      updateStmt.run(row);
      if (u.attemptedAt != null) {
        // Positional: no copy of the row per attempt.
        insertAttempt.run(
          row.attempts,
          u.attemptedAt,
          replica,
          row.durationMs,
          row.lastStatus,
          row.lastReason,
          row.lastError,
          row.state,
          row.nextAttemptAt,
          u.trial ? 1 : 0,
          u.replay ? 1 : 0,
          row.id,
        );
      }
    }
  };
  const writeAll = db.transaction((accepts: readonly AcceptBatchItem[], updates: readonly DeliveryUpdate[]) => {
    // Updates first: they happened before the accepts they are batched with, and a delivery that was
    // delivered must not look pending (and be superseded) to a newer notification of its group.
    updateRows(updates);
    return accepts.map((a) => acceptRows(a.notification, a.deliveries, new Set(a.inFlight), a.dedup));
  });
  // BEGIN IMMEDIATE: the write lock from the start, waiting busy_timeout for it. A deferred transaction reads first
  // (dedup, lanes); when the other connection wrote meanwhile (retention pruning, a replay), its upgrade to a write
  // fails at once with SQLITE_BUSY and the webhook is answered 503. The parallel test suite met that under load.
  const write = (accepts: readonly AcceptBatchItem[], updates: readonly DeliveryUpdate[]) => writeAll.immediate(accepts, updates);
  const commit = ({ accepts, updates }: WriteBatch): WriteResult => {
    if (!accepts.length && !updates.length) return { accepted: [] };
    try {
      return { accepted: write(accepts, updates) };
    } catch {
      // One bad item must not fail the others: write each on its own.
      const accepted = accepts.map((a) => {
        try {
          return write([a], [])[0] ?? { seqs: [], duplicates: [] };
        } catch (err) {
          return { error: String(err), code: sqliteCode(err) };
        }
      });
      if (!updates.length) return { accepted };
      try {
        write([], updates);
        return { accepted };
      } catch (err) {
        return { accepted, updateError: String(err), updateCode: sqliteCode(err) };
      }
    }
  };
  return { acceptRows, commit };
}

/**
 * Open (and migrate) the SQLite ledger at `path` (`:memory:` for none). WAL. Reads and
 * occasional writes use this thread's connection; for a file, accepts and outcome updates
 * are committed by a writer thread (`writerThread: false` keeps them here).
 */
export function openSqliteStore(path: string, options: { writerThread?: boolean } & WriteOptions = {}): Store {
  const threaded = path !== ':memory:' && options.writerThread !== false;
  let db: Database.Database | undefined;
  let writes: LedgerWrites;
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    // With a writer thread, checkpoints are its job: one here would stop the event loop for the copy and the sync.
    db = openDatabase(path, { autocheckpoint: !threaded });
    migrate(db);
    writes = prepareWrites(db, options);
  } catch (err) {
    db?.close();
    throw ledgerOpenError(path, err);
  }
  const thread = threaded ? new WriterThread(path, options) : undefined;

  const byId = db.prepare(`SELECT * FROM deliveries WHERE id = ?`);
  // One priority at a time along deliveries_queue: with ORDER BY priority over all due rows, SQLite sorted
  // the whole due backlog on every worker pass.
  const dueOfPriority = db.prepare(
    `SELECT * FROM deliveries INDEXED BY deliveries_queue
     WHERE state = 'pending' AND priority = ? AND next_attempt_at <= ? ORDER BY next_attempt_at, seq LIMIT ?`,
  );
  const nextPriority = db.prepare(
    `SELECT priority FROM deliveries INDEXED BY deliveries_queue WHERE state = 'pending' AND priority > ? ORDER BY priority LIMIT 1`,
  );
  const nextDue = db.prepare(`SELECT id, next_attempt_at FROM deliveries WHERE state = 'pending' ORDER BY next_attempt_at LIMIT ?`);
  // Backwards along the lane index to the newest row that is not a fallback delivery (those are in no lane): one row read as a rule.
  const latest = db.prepare(`SELECT seq FROM deliveries WHERE target = ? AND group_key = ? AND fallback_of IS NULL ORDER BY seq DESC LIMIT 1`);
  const wakeStmt = db.prepare(
    `UPDATE deliveries SET next_attempt_at = ? WHERE target = ? AND state = 'pending' AND next_attempt_at > ?`,
  );
  const notification = db.prepare(`SELECT * FROM notifications WHERE id = ?`);
  const replayStmt = db.prepare(
    `UPDATE deliveries SET state = 'pending', skip_reason = NULL, next_attempt_at = ?, replayed_at = ?, attempts_at_replay = attempts,
       updated_at = ? WHERE id = ?`,
  );
  const attemptsOfDelivery = db.prepare(`SELECT * FROM delivery_attempts WHERE delivery_id = ? ORDER BY attempt, started_at`);
  // Along the deliveries of the notification, then each one's attempts: no index of its own on the hot path.
  const attemptsOfNotification = db.prepare(
    `SELECT a.* FROM deliveries d JOIN delivery_attempts a ON a.delivery_id = d.id WHERE d.notification_id = ? ORDER BY a.id`,
  );
  const insertFallback = db.prepare(
    `INSERT OR IGNORE INTO deliveries (id, notification_id, target, target_type, group_key, notification_key, state, skip_reason,
       priority, alerts, attempts, created_at, updated_at, next_attempt_at, fallback_of, fallback_for, fallback_reason)
     VALUES (@id, @notificationId, @target, @targetType, @groupKey, @notificationKey, @state, @skipReason,
       @priority, @alerts, @attempts, @createdAt, @createdAt, @nextAttemptAt, @fallbackOf, @fallbackFor, @fallbackReason)`,
  );
  const markFallback = db.prepare(`UPDATE deliveries SET fallback_id = ? WHERE id = ? AND fallback_id IS NULL`);
  const listFallback = db.prepare(
    `UPDATE notification_index SET targets = targets || @target
     WHERE (created_at, id) = ((SELECT created_at FROM notifications WHERE id = @id), @id) AND instr(targets, char(10) || @target) = 0`,
  );
  const addFallback = db.transaction((d: NewDelivery): DeliveryRecord | undefined => {
    const inserted = insertFallback.run({
      ...d,
      skipReason: d.skipReason ?? null,
      alerts: JSON.stringify(d.alerts),
      nextAttemptAt: d.nextAttemptAt ?? null,
      fallbackOf: d.fallbackOf ?? null,
      fallbackFor: d.fallbackFor ?? null,
      fallbackReason: d.fallbackReason ?? null,
    });
    if (inserted.changes === 0) return undefined;
    markFallback.run(d.id, d.fallbackOf);
    // The fallback target now has a delivery of the notification: the list's target filter finds it there too.
    listFallback.run({ id: d.notificationId, target: `${d.target}\n` });
    return storedDelivery(d, Number(inserted.lastInsertRowid), false);
  });
  const heldOf = db.prepare(
    `SELECT * FROM deliveries INDEXED BY deliveries_held
     WHERE target = ? AND state = 'pending' AND held_since IS NOT NULL AND fallback_id IS NULL AND held_since <= ? ORDER BY held_since LIMIT ?`,
  );
  const earliestHeldOf = db.prepare(
    `SELECT MIN(held_since) AS at FROM deliveries INDEXED BY deliveries_held
     WHERE target = ? AND state = 'pending' AND held_since IS NOT NULL AND fallback_id IS NULL`,
  );
  const ofNotification = db.prepare(`SELECT * FROM deliveries WHERE notification_id = ? ORDER BY seq`);
  const deleteStmt = db.prepare(`DELETE FROM deliveries WHERE id = ?`);
  // A paused target's queue waits without being picked; resuming makes it due now, in its order (priority, then seq).
  const holdStmt = db.prepare(`UPDATE deliveries SET skip_reason = 'paused', next_attempt_at = ? WHERE target = ? AND state = 'pending'`);
  const releaseStmt = db.prepare(
    `UPDATE deliveries SET next_attempt_at = ?, skip_reason = CASE WHEN skip_reason = 'paused' THEN NULL ELSE skip_reason END
     WHERE target = ? AND state = 'pending' AND (next_attempt_at > ? OR skip_reason = 'paused')`,
  );
  // Along deliveries_state_target (the queue and the dead letters only), as the queue gauges.
  const targetStatsStmt = db.prepare(
    `SELECT target, state, COUNT(*) AS count, MIN(created_at) AS oldest FROM deliveries WHERE state IN ('pending', 'dead') GROUP BY state, target`,
  );
  const outcomesStmt = db.prepare(OUTCOME_BUCKETS_SQL);
  const pruneIndex = db.prepare(
    `DELETE FROM notification_index WHERE (created_at, id) IN (SELECT created_at, id FROM notification_index i WHERE i.created_at < ?
       AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.id = i.id) LIMIT ?)`,
  );
  // In batches along the time indexes: a finished delivery updated before `before` was created before it too.
  const pruneDeliveries = db.prepare(
    `DELETE FROM deliveries WHERE seq IN (SELECT seq FROM deliveries INDEXED BY deliveries_created
       WHERE created_at < @before AND state IN ('delivered', 'skipped', 'superseded') AND updated_at < @before LIMIT @limit)`,
  );
  const pruneNotifications = db.prepare(
    `DELETE FROM notifications WHERE id IN (SELECT id FROM notifications n INDEXED BY notifications_created WHERE n.created_at < ?
       AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.notification_id = n.id) LIMIT ?)`,
  );
  const pruneState = db.prepare(`DELETE FROM target_state WHERE key IN (SELECT key FROM target_state WHERE expires_at < ? LIMIT ?)`);
  // Only the queue (pending) and the dead letters: along the state index, so a scrape stays cheap however many
  // finished deliveries retention keeps (counting every state scanned the whole table).
  const statsStmt = db.prepare(
    `SELECT state, priority, COUNT(*) AS count FROM deliveries WHERE state IN ('pending', 'dead') GROUP BY state, priority`,
  );
  const oldest = db.prepare(`SELECT MIN(created_at) AS at FROM deliveries WHERE state = 'pending'`);
  const stateGet = db.prepare(`SELECT value FROM target_state WHERE key = ? AND expires_at >= ?`);
  const stateSet = db.prepare(`INSERT OR REPLACE INTO target_state (key, value, expires_at) VALUES (?, ?, ?)`);
  const stateDelete = db.prepare(`DELETE FROM target_state WHERE key = ?`);
  // As bytes: SQLite's text functions stop at a NUL, which correlation keys hold (`target\0key`).
  const stateList = db.prepare(`SELECT key, value FROM target_state WHERE substr(CAST(key AS BLOB), 1, @bytes) = CAST(@prefix AS BLOB) AND expires_at >= @now ORDER BY key`);
  const dedup = dedupStatements(db);
  const statesSince = db.prepare(
    `SELECT receiver, group_key, target, firing, resolved, accepted_at FROM dedup_state WHERE accepted_at >= ? ORDER BY accepted_at DESC LIMIT ?`,
  );
  // In batches, as the other prunes: a round never holds the ledger for long.
  const pruneDedup = db.prepare(
    `DELETE FROM dedup_state WHERE (receiver, group_key, target) IN
       (SELECT receiver, group_key, target FROM dedup_state WHERE accepted_at < ? LIMIT ?)`,
  );
  // Loaded at the first claim, which brings the window to load; dropped when a commit fails (its claims did not happen).
  let index: DedupIndex | undefined;
  const loadIndex = (since: number) => {
    const rows = (statesSince.all(since, DEDUP_INDEX_LOAD) as StateRow[]).reverse();
    // At the row limit, what is older than the oldest loaded state is not known (past the budget, set() forgets more).
    const loaded = new DedupIndex(rows.length === DEDUP_INDEX_LOAD ? (rows[0]?.accepted_at ?? since) + 1 : since);
    for (const r of rows) loaded.set(dedupLane({ receiver: r.receiver, groupKey: r.group_key, target: r.target }), stateOf(r));
    return loaded;
  };
  const committed = (result: WriteResult): WriteResult => {
    if (result.accepted.some((a) => 'error' in a)) index = undefined;
    return result;
  };

  const accept = db.transaction((n: NotificationRecord, deliveries: NewDelivery[], inFlight: IdFilter, dedupOf?: AcceptDedup) =>
    storedDeliveries(deliveries, writes.acceptRows(n, deliveries, inFlight, dedupOf)),
  );
  const replay = db.transaction((filter: ReplayFilter, now: number): ReplayResult => {
    const { where, params } = bulkWhere(filter);
    const rows = db.prepare(`SELECT id, target FROM deliveries WHERE ${where} ORDER BY seq`).all(...params) as Array<{ id: string; target: string }>;
    const configured = filter.configured && new Set(filter.configured);
    const unconfigured = configured ? rows.filter((r) => !configured.has(r.target)) : [];
    const ids = (configured ? rows.filter((r) => configured.has(r.target)) : rows).map((r) => r.id);
    // A fresh retry budget and max_age, counted from the replay; the attempts so far, their history and created_at stay.
    for (const id of ids) replayStmt.run(now, now, now, id);
    return { ids, unconfigured: unconfigured.slice(0, 100), unconfiguredCount: unconfigured.length };
  });

  return {
    accept: (n, deliveries, inFlight, dedupOf) => {
      try {
        return accept(n, deliveries, inFlight, dedupOf);
      } catch (err) {
        index = undefined;
        throw err;
      }
    },
    claimDedup: (entries, at, since) => (index ??= loadIndex(since)).claim(entries, at, since),
    dedupState: (receiver, groupKey, target) => {
      const r = dedup.get(receiver, groupKey, target);
      return r && { ...stateOf(r), duplicates: r.duplicates };
    },
    write: (batch) => {
      if (!thread) return Promise.resolve(committed(writes.commit(batch)));
      return thread.write(batch).then(committed, (err: unknown) => {
        index = undefined;
        throw err;
      });
    },
    update: (updates) => {
      const { updateError, updateCode } = writes.commit({ accepts: [], updates });
      if (updateError) throw storageFailure(updateError, updateCode);
    },
    due: (now, limit, exclude) => {
      const due: DeliveryRecord[] = [];
      const after = (p: number) => (nextPriority.get(p) as { priority: number } | undefined)?.priority;
      let priority = after(Number.MIN_SAFE_INTEGER);
      while (priority !== undefined && due.length < limit) {
        // Over-fetch by the number excluded (in flight), so excluded rows never starve due ones.
        for (const row of dueOfPriority.all(priority, now, limit - due.length + exclude.size) as DeliveryRow[]) {
          if (due.length < limit && !exclude.has(row.id)) due.push(deliveryFromRow(row));
        }
        priority = after(priority);
      }
      return due;
    },
    nextDueAt: (exclude) => {
      const rows = nextDue.all(exclude.size + 1) as Array<{ id: string; next_attempt_at: number | null }>;
      return opt(rows.find((r) => !exclude.has(r.id))?.next_attempt_at ?? null);
    },
    latestSeq: (target, groupKey) => (latest.get(target, groupKey) as { seq: number } | undefined)?.seq,
    wake: (target, now) => wakeStmt.run(now, target, now).changes,
    getNotification: (id) => {
      const r = notification.get(id) as NotificationRow | undefined;
      return r && notificationFromRow(r);
    },
    getDelivery: (id) => {
      const r = byId.get(id) as DeliveryRow | undefined;
      return r && deliveryFromRow(r);
    },
    deliveriesOf: (id) => (ofNotification.all(id) as DeliveryRow[]).map(deliveryFromRow),
    list: (filter: DeliveryFilter) => {
      const clauses: string[] = [];
      const params: unknown[] = [];
      for (const [clause, value] of [
        ['state = ?', filter.state],
        ['target = ?', filter.target],
        ['notification_id = ?', filter.notificationId],
        ['created_at >= ?', filter.since],
        ['created_at <= ?', filter.until],
        ['last_reason = ?', filter.reason],
        ['seq < ?', filter.before],
      ] as const) {
        if (value !== undefined) {
          clauses.push(clause);
          params.push(value);
        }
      }
      const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
      const sql = `SELECT * FROM deliveries ${where} ORDER BY seq ${filter.oldestFirst ? 'ASC' : 'DESC'} LIMIT ?`;
      return (db.prepare(sql).all(...params, filter.limit ?? 100) as DeliveryRow[]).map(deliveryFromRow);
    },
    addFallback: (d) => settled(() => addFallback(d)),
    heldSince: (target, before, limit) => settled(() => (heldOf.all(target, before, limit) as DeliveryRow[]).map(deliveryFromRow)),
    earliestHeld: (target) => settled(() => opt((earliestHeldOf.get(target) as { at: number | null }).at)),
    replay: (filter, now) => replay(filter, now),
    attemptsOf: (id) => (attemptsOfDelivery.all(id) as AttemptRow[]).map(attemptFromRow),
    attemptsOfNotification: (id) => (attemptsOfNotification.all(id) as AttemptRow[]).map(attemptFromRow),
    delete: (id) => deleteStmt.run(id).changes > 0,
    deleteMany: (filter) => {
      const { where, params } = bulkWhere(filter);
      return db.prepare(`DELETE FROM deliveries WHERE ${where}`).run(...params).changes;
    },
    notifications: (filter) => listNotifications(db, filter),
    deliveriesOfMany: (ids) => {
      if (!ids.length) return [];
      const sql = `SELECT * FROM deliveries WHERE notification_id IN (${ids.map(() => '?').join(', ')}) ORDER BY seq`;
      return (db.prepare(sql).all(...ids) as DeliveryRow[]).map(deliveryFromRow);
    },
    hold: (target, until) => holdStmt.run(until, target).changes,
    release: (target, now) => releaseStmt.run(now, target, now).changes,
    targetStats: () => {
      const byTarget = new Map<string, TargetQueueStats>();
      for (const r of targetStatsStmt.all() as Array<{ target: string; state: 'pending' | 'dead'; count: number; oldest: number }>) {
        const t = byTarget.get(r.target) ?? { target: r.target, pending: 0, dead: 0 };
        t[r.state] = r.count;
        if (r.state === 'pending') t.oldestPendingAt = r.oldest;
        byTarget.set(r.target, t);
      }
      return [...byTarget.values()];
    },
    outcomeBuckets: (since, bucketMs) => outcomesStmt.all({ since, bucketMs }) as OutcomeBucket[],
    prune: (before, now, limit = -1) =>
      db.transaction(() => {
        const removed =
          pruneDeliveries.run({ before, limit }).changes +
          pruneNotifications.run(before, limit).changes +
          pruneState.run(now, limit).changes +
          pruneDedup.run(before, limit).changes;
        // The list rows of the notifications removed (not counted: each is part of its notification).
        pruneIndex.run(before, limit);
        return removed;
      })(),
    stats: (): QueueStats => ({
      byStateAndPriority: statsStmt.all() as QueueStats['byStateAndPriority'],
      oldestPendingAt: opt((oldest.get() as { at: number | null }).at),
    }),
    stateGet: (key, now) => (stateGet.get(key, now) as { value: string } | undefined)?.value,
    stateSet: (key, value, expiresAt) => void stateSet.run(key, value, expiresAt),
    stateDelete: (key) => void stateDelete.run(key),
    stateList: (prefix, now) => stateList.all({ prefix, bytes: Buffer.byteLength(prefix), now }) as Array<{ key: string; value: string }>,
    close: async () => {
      await thread?.close();
      db.close();
    },
  };
}

/** The WHERE clause of a bulk replay or delete. */
function bulkWhere(filter: BulkFilter): { where: string; params: unknown[] } {
  const clauses = [filter.ids ? `state IN ('dead', 'pending')` : filter.state === 'pending' ? `state = 'pending'` : `state = 'dead'`];
  const params: unknown[] = [];
  if (filter.ids) {
    clauses.push(`id IN (${filter.ids.map(() => '?').join(', ')})`);
    params.push(...filter.ids);
  }
  if (filter.target !== undefined) {
    clauses.push('target = ?');
    params.push(filter.target);
  }
  if (filter.since !== undefined) {
    clauses.push('created_at >= ?');
    params.push(filter.since);
  }
  return { where: clauses.join(' AND '), params };
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

/** The dedup state's statements: one read and one write per lane, so a duplicate costs the same however many came before. */
function dedupStatements(db: Database.Database) {
  const read = db.prepare(`SELECT * FROM dedup_state WHERE receiver = ? AND group_key = ? AND target = ?`);
  const record = db.prepare(
    `INSERT INTO dedup_state (receiver, group_key, target, firing, resolved, accepted_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (receiver, group_key, target) DO UPDATE SET firing = excluded.firing, resolved = excluded.resolved, accepted_at = excluded.accepted_at`,
  );
  const count = db.prepare(
    `UPDATE dedup_state SET duplicates = duplicates + 1, last_duplicate_at = ? WHERE receiver = ? AND group_key = ? AND target = ?`,
  );
  const get = (receiver: string, groupKey: string, target: string) => read.get(receiver, groupKey, target) as StateRow | undefined;
  return {
    get,
    /** Record the states the accept leaves and count its duplicates; returns the duplicates' indexes. */
    decide(deliveries: readonly NewDelivery[], { entries, since, claimed }: AcceptDedup, at: number): number[] {
      const duplicates: number[] = [];
      entries.forEach((entry: DedupEntry | undefined, i) => {
        if (!entry) return;
        const last = claimed ? undefined : get(entry.receiver, entry.groupKey, entry.target);
        if (claimed || needsUpdate(last && stateOf(last), entry, since)) {
          record.run(entry.receiver, entry.groupKey, entry.target, JSON.stringify(entry.firing), JSON.stringify(entry.resolved), at);
        } else if (deliveries[i]?.state === 'pending') {
          duplicates.push(i);
          count.run(at, entry.receiver, entry.groupKey, entry.target);
        }
      });
      return duplicates;
    },
  };
}

/** Run `work` now, on this connection, as a promise (the interface is async, so another backend may go over the network). */
function settled<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}

function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw storageFailure(`database schema version ${version} is newer than this alertmux (${MIGRATIONS.length}); upgrade alertmux`, SCHEMA_NEWER);
  }
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v] ?? '');
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
