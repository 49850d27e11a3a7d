import type pg from 'pg';
import { SCHEMA_NEWER } from '../open-error.js';
import { schemaName } from './connection.js';

/**
 * The PostgreSQL schema, one migration per entry; `alertmux_schema.version` records how many ran. Never edit one
 * that shipped. Times are the callers' epoch ms (bigint), never the database clock, so every replica and every test
 * drives leases and due times with the same clock it reasons with.
 *
 * Rolling upgrades: migrations are additive (new tables, columns with defaults, indexes), so replicas still on the
 * previous version keep working against the migrated schema while the new version rolls out; the first new replica
 * to start migrates (under the advisory lock, the others wait and then find nothing to do). A change that removes
 * or renames something ships in two releases: the first stops using it, the second drops it. A replica older than
 * the schema refuses to start (SCHEMA_NEWER) rather than write what it does not understand.
 */
export const PG_MIGRATIONS: readonly string[] = [
  `CREATE TABLE notifications (
     id text PRIMARY KEY, key text NOT NULL, receiver text NOT NULL, group_key text NOT NULL,
     status text NOT NULL, created_at bigint NOT NULL, original text NOT NULL, enriched text NOT NULL);
   CREATE INDEX notifications_created ON notifications(created_at);
   CREATE SEQUENCE deliveries_seq;
   CREATE TABLE deliveries (
     seq bigint PRIMARY KEY, id text NOT NULL UNIQUE,
     notification_id text NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
     target text NOT NULL, target_type text NOT NULL, group_key text NOT NULL, notification_key text NOT NULL,
     state text NOT NULL, skip_reason text, priority integer NOT NULL, alerts text NOT NULL,
     attempts integer NOT NULL, created_at bigint NOT NULL, updated_at bigint NOT NULL,
     next_attempt_at bigint, last_status integer, last_reason text, last_error text, retryable boolean,
     duration_ms double precision, delivered_at bigint,
     fallback_of text, fallback_for text, fallback_reason text, fallback_id text, held_since bigint,
     replayed_at bigint, attempts_at_replay integer,
     lease_owner text, lease_until bigint);
   CREATE INDEX deliveries_queue ON deliveries(priority, next_attempt_at, seq) WHERE state = 'pending';
   CREATE INDEX deliveries_lane ON deliveries(group_key, target, seq);
   CREATE INDEX deliveries_notification ON deliveries(notification_id);
   CREATE INDEX deliveries_state_target ON deliveries(state, target);
   CREATE INDEX deliveries_created ON deliveries(created_at);
   CREATE UNIQUE INDEX deliveries_fallback_of ON deliveries(fallback_of) WHERE fallback_of IS NOT NULL;
   CREATE INDEX deliveries_held ON deliveries(target, held_since) WHERE state = 'pending' AND held_since IS NOT NULL AND fallback_id IS NULL;
   CREATE INDEX deliveries_leases ON deliveries(lease_owner) WHERE lease_owner IS NOT NULL;
   CREATE TABLE target_state (key text PRIMARY KEY, value text NOT NULL, expires_at bigint NOT NULL);
   CREATE TABLE dedup_state (
     receiver text NOT NULL, group_key text NOT NULL, target text NOT NULL,
     firing text NOT NULL, resolved text NOT NULL, accepted_at bigint NOT NULL,
     duplicates integer NOT NULL DEFAULT 0, last_duplicate_at bigint,
     PRIMARY KEY (receiver, group_key, target));
   CREATE INDEX dedup_state_accepted ON dedup_state(accepted_at);
   CREATE TABLE delivery_attempts (
     id bigserial PRIMARY KEY, delivery_id text NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
     notification_id text NOT NULL, target text NOT NULL, attempt integer NOT NULL, started_at bigint NOT NULL,
     replica text NOT NULL, duration_ms double precision, status_code integer, reason text, error text, outcome text NOT NULL,
     next_attempt_at bigint, trial boolean NOT NULL, replay boolean NOT NULL,
     UNIQUE (delivery_id, attempt, started_at));
   CREATE TABLE notification_index (
     created_at bigint NOT NULL, id text NOT NULL, receiver text NOT NULL, group_key text NOT NULL, status text NOT NULL,
     alerts integer NOT NULL, alertnames text NOT NULL, targets text NOT NULL,
     PRIMARY KEY (created_at, id));`,
];

/** The session advisory lock key that serialises migrations of one schema (replicas starting together). */
const MIGRATE_LOCK = (schema: string) => `alertmux-migrate:${schema}`;

/**
 * Create the schema and bring it to the newest version, under a session advisory lock so that replicas starting
 * together migrate once; each migration in its own transaction with its version. Fails (code SCHEMA_NEWER) when the
 * database was migrated by a newer alertmux.
 */
export async function migrate(client: pg.ClientBase, schema: string, migrations: readonly string[] = PG_MIGRATIONS): Promise<number> {
  const name = schemaName(schema);
  await client.query(`SELECT pg_advisory_lock(hashtextextended($1, 0))`, [MIGRATE_LOCK(schema)]);
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${name}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${name}.alertmux_schema (version integer NOT NULL)`);
    const { rows } = await client.query<{ version: number }>(`SELECT version FROM ${name}.alertmux_schema`);
    let version = rows[0]?.version ?? 0;
    if (!rows.length) await client.query(`INSERT INTO ${name}.alertmux_schema (version) VALUES (0)`);
    if (version > migrations.length) {
      const err = new Error(
        `database schema ${schema} is at version ${version}, newer than this alertmux knows (${migrations.length}): upgrade alertmux (a rolling upgrade migrates first, then replaces replicas)`,
      );
      (err as Error & { code?: string }).code = SCHEMA_NEWER;
      throw err;
    }
    for (; version < migrations.length; version++) {
      await client.query('BEGIN');
      try {
        await client.query(`SET LOCAL search_path = ${name}`);
        await client.query(migrations[version] ?? '');
        await client.query(`UPDATE ${name}.alertmux_schema SET version = $1`, [version + 1]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      }
    }
    return version;
  } finally {
    await client.query(`SELECT pg_advisory_unlock(hashtextextended($1, 0))`, [MIGRATE_LOCK(schema)]);
  }
}
