import type pg from 'pg';

/**
 * The PostgreSQL ledger's schema, one migration per entry, applied in order at open under an advisory lock (replicas
 * starting together do not race: the first migrates, the others wait and find nothing left to do). The version is
 * the number of entries applied, kept in `alertmux_schema`.
 *
 * Rolling upgrades: migrations are additive (new tables, columns and indexes; nothing an older release reads is
 * dropped or renamed in the same release), so replicas of the previous release keep working beside a migrated
 * database until they are replaced. A database migrated by a newer release than this one refuses to open.
 *
 * Times are the application's epoch milliseconds (bigint), never the database clock: every replica's `now` is
 * what its leases, retries and retention compare against, as in the SQLite ledger.
 */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE notifications (
     id text PRIMARY KEY, key text NOT NULL, receiver text NOT NULL, group_key text NOT NULL, status text NOT NULL,
     created_at bigint NOT NULL, original text NOT NULL, enriched text NOT NULL,
     -- The notification list's filters: distinct alertnames, the alert count, and the targets that wanted it.
     alertnames text[] NOT NULL, alert_count integer NOT NULL, targets text[] NOT NULL);
   CREATE INDEX notifications_created ON notifications (created_at DESC, id DESC);
   -- Arrival order: taken under the lane's lock, so within a lane (target, group key) it is commit order.
   CREATE SEQUENCE delivery_seq;
   CREATE TABLE deliveries (
     seq bigint NOT NULL UNIQUE, id text PRIMARY KEY,
     notification_id text NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
     target text NOT NULL, target_type text NOT NULL, group_key text NOT NULL, notification_key text NOT NULL,
     state text NOT NULL, skip_reason text, priority integer NOT NULL, alerts text NOT NULL,
     attempts integer NOT NULL, created_at bigint NOT NULL, updated_at bigint NOT NULL,
     next_attempt_at bigint, last_status integer, last_reason text, last_error text, retryable boolean,
     duration_ms double precision, delivered_at bigint,
     fallback_of text UNIQUE, fallback_for text, fallback_reason text, fallback_id text, held_since bigint,
     replayed_at bigint, attempts_at_replay integer,
     -- The replica attempting it, and until when (renewed while it runs; another replica takes it after).
     lease_owner text, lease_until bigint);
   CREATE INDEX deliveries_queue ON deliveries (priority, next_attempt_at, seq) WHERE state = 'pending';
   CREATE INDEX deliveries_lane ON deliveries (target, group_key, seq) WHERE state = 'pending';
   CREATE INDEX deliveries_latest ON deliveries (target, group_key, seq) WHERE fallback_of IS NULL;
   CREATE INDEX deliveries_notification ON deliveries (notification_id);
   CREATE INDEX deliveries_state_target ON deliveries (state, target) WHERE state IN ('pending', 'dead');
   CREATE INDEX deliveries_created ON deliveries (created_at);
   CREATE INDEX deliveries_leases ON deliveries (lease_owner) WHERE lease_owner IS NOT NULL;
   CREATE INDEX deliveries_held ON deliveries (target, held_since)
     WHERE state = 'pending' AND held_since IS NOT NULL AND fallback_id IS NULL;
   CREATE TABLE delivery_attempts (
     id bigserial PRIMARY KEY, delivery_id text NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
     notification_id text NOT NULL, target text NOT NULL, attempt integer NOT NULL, started_at bigint NOT NULL,
     replica text NOT NULL, duration_ms double precision, status_code integer, reason text, error text,
     outcome text NOT NULL, next_attempt_at bigint, trial boolean NOT NULL, replay boolean NOT NULL,
     UNIQUE (delivery_id, attempt, started_at));
   CREATE TABLE dedup_state (
     receiver text NOT NULL, group_key text NOT NULL, target text NOT NULL,
     firing text NOT NULL, resolved text NOT NULL, accepted_at bigint NOT NULL,
     duplicates integer NOT NULL DEFAULT 0, last_duplicate_at bigint,
     PRIMARY KEY (receiver, group_key, target));
   CREATE INDEX dedup_state_accepted ON dedup_state (accepted_at);
   CREATE TABLE target_state (key text PRIMARY KEY, value text NOT NULL, expires_at bigint NOT NULL);
   CREATE INDEX target_state_expires ON target_state (expires_at);`,
];

/** The advisory lock class of alertmux (its two-key locks: migrations, jobs): 'amx'. */
export const LOCK_CLASS = 0x616d78;
/** The migration lock's key within LOCK_CLASS. */
const MIGRATION_LOCK = 0;

/** Bring the database's schema to MIGRATIONS.length, under the migration lock; fails on a newer schema. */
export async function migrate(client: pg.ClientBase): Promise<void> {
  await client.query('SELECT pg_advisory_lock($1, $2)', [LOCK_CLASS, MIGRATION_LOCK]);
  try {
    await client.query('CREATE TABLE IF NOT EXISTS alertmux_schema (version integer NOT NULL)');
    const { rows } = await client.query<{ version: number }>('SELECT version FROM alertmux_schema');
    let version = rows[0]?.version ?? 0;
    if (rows.length === 0) await client.query('INSERT INTO alertmux_schema (version) VALUES (0)');
    if (version > MIGRATIONS.length) {
      throw new Error(`the ledger database's schema version ${version} is newer than this alertmux knows (${MIGRATIONS.length}): upgrade alertmux`);
    }
    for (; version < MIGRATIONS.length; version++) {
      await client.query('BEGIN');
      try {
        await client.query(MIGRATIONS[version] as string);
        await client.query('UPDATE alertmux_schema SET version = $1', [version + 1]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_CLASS, MIGRATION_LOCK]);
  }
}
