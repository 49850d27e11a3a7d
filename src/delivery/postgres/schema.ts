import type pg from 'pg';
import { SCHEMA_NEWER } from '../open-error.js';
import { storageFailure } from '../ledger-health.js';

/**
 * Schema migrations of the PostgreSQL ledger, applied in order at open; `alertmux_schema` records how many ran.
 * Never edit one that shipped.
 *
 * Rolling upgrade: a migration is additive (new tables, columns with defaults or NULL, new indexes) so the
 * replicas still running the previous version keep working on the migrated schema; the first new replica to
 * start migrates (under the advisory lock), the others find it done. A replica older than the schema refuses to
 * start (`ALERTMUX_SCHEMA_NEWER`), so a rollback past a migration needs the database restored, not just the image.
 * Something that is not additive (dropping or renaming a column) ships in two releases: stop using it, then drop it.
 *
 * Times are the application's epoch milliseconds in `bigint` columns (never the database clock: the replicas'
 * `now` decides due times and lease expiries, as in the SQLite ledger).
 */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE notifications (
     id text PRIMARY KEY, key text NOT NULL, receiver text NOT NULL, group_key text NOT NULL,
     status text NOT NULL, created_at bigint NOT NULL, original text NOT NULL, enriched text NOT NULL);
   CREATE INDEX notifications_created ON notifications (created_at);
   -- Arrival order: taken under the lane's advisory lock, so within a lane a later commit has a larger seq.
   CREATE SEQUENCE delivery_seq;
   CREATE TABLE deliveries (
     seq bigint PRIMARY KEY, id text NOT NULL UNIQUE,
     notification_id text NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
     target text NOT NULL, target_type text NOT NULL, group_key text NOT NULL, notification_key text NOT NULL,
     state text NOT NULL, skip_reason text, priority integer NOT NULL, alerts text NOT NULL,
     attempts integer NOT NULL, created_at bigint NOT NULL, updated_at bigint NOT NULL,
     next_attempt_at bigint, last_status integer, last_reason text, last_error text, retryable boolean,
     duration_ms double precision, delivered_at bigint,
     fallback_of text, fallback_for text, fallback_reason text, fallback_id text, held_since bigint,
     replayed_at bigint, attempts_at_replay integer,
     lease_owner text, lease_until bigint);
   CREATE INDEX deliveries_queue ON deliveries (priority, next_attempt_at, seq) WHERE state = 'pending';
   CREATE INDEX deliveries_lane ON deliveries (group_key, target, seq);
   CREATE INDEX deliveries_notification ON deliveries (notification_id);
   CREATE INDEX deliveries_state_target ON deliveries (state, target);
   CREATE INDEX deliveries_created ON deliveries (created_at);
   CREATE INDEX deliveries_leased ON deliveries (lease_owner) WHERE lease_owner IS NOT NULL;
   CREATE UNIQUE INDEX deliveries_fallback_of ON deliveries (fallback_of) WHERE fallback_of IS NOT NULL;
   CREATE INDEX deliveries_held ON deliveries (target, held_since) WHERE state = 'pending' AND held_since IS NOT NULL AND fallback_id IS NULL;
   -- Keys join their parts with a NUL character, which text cannot hold: their UTF-8 bytes.
   CREATE TABLE target_state (key bytea PRIMARY KEY, value text NOT NULL, expires_at bigint NOT NULL);
   CREATE TABLE dedup_state (
     receiver text NOT NULL, group_key text NOT NULL, target text NOT NULL,
     firing text NOT NULL, resolved text NOT NULL, accepted_at bigint NOT NULL,
     duplicates integer NOT NULL DEFAULT 0, last_duplicate_at bigint,
     PRIMARY KEY (receiver, group_key, target));
   CREATE TABLE delivery_attempts (
     id bigserial PRIMARY KEY, delivery_id text NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
     notification_id text NOT NULL, target text NOT NULL, attempt integer NOT NULL, started_at bigint NOT NULL,
     replica text NOT NULL, duration_ms double precision, status_code integer, reason text, error text, outcome text NOT NULL,
     next_attempt_at bigint, trial boolean NOT NULL, replay boolean NOT NULL);
   CREATE UNIQUE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, attempt, started_at);
   CREATE TABLE notification_index (
     created_at bigint NOT NULL, id text NOT NULL, receiver text NOT NULL, group_key text NOT NULL, status text NOT NULL,
     alerts integer NOT NULL, alertnames text NOT NULL, targets text NOT NULL,
     PRIMARY KEY (created_at, id));`,
];

/** The advisory lock key of migrations (any constant that no other lock of the ledger hashes to). */
const MIGRATION_LOCK = 4_207_023_001;

/**
 * Bring the schema up to date, one migration per transaction, under a session advisory lock so that replicas
 * starting together do not race (the second waits, then finds nothing to do). Fails when the database was
 * migrated by a newer alertmux.
 */
export async function migrate(client: pg.ClientBase): Promise<void> {
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
  try {
    await client.query('CREATE TABLE IF NOT EXISTS alertmux_schema (version integer NOT NULL)');
    const { rows } = await client.query<{ version: number | null }>('SELECT max(version) AS version FROM alertmux_schema');
    const version = rows[0]?.version ?? 0;
    if (version > MIGRATIONS.length) {
      throw storageFailure(`database schema version ${version} is newer than this alertmux (${MIGRATIONS.length}); upgrade alertmux`, SCHEMA_NEWER);
    }
    for (let v = version; v < MIGRATIONS.length; v++) {
      await client.query('BEGIN');
      try {
        await client.query(MIGRATIONS[v] ?? '');
        await client.query('INSERT INTO alertmux_schema (version) VALUES ($1)', [v + 1]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
  }
}
