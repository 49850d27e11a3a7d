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
     fallback_of text, fallback_for text, fallback_reason text, fallback_id text, held_since bigint,
     replayed_at bigint, attempts_at_replay integer,
     -- The replica attempting it, and until when (renewed while it runs; another replica takes it after).
     lease_owner text, lease_until bigint);
   CREATE INDEX deliveries_queue ON deliveries (priority, next_attempt_at, seq) WHERE state = 'pending';
   CREATE INDEX deliveries_lane ON deliveries (target, group_key, seq) WHERE state = 'pending';
   CREATE INDEX deliveries_latest ON deliveries (target, group_key, seq) WHERE fallback_of IS NULL;
   CREATE INDEX deliveries_notification ON deliveries (notification_id);
   CREATE INDEX deliveries_state_target ON deliveries (state, target) WHERE state IN ('pending', 'dead');
   CREATE INDEX deliveries_created ON deliveries (created_at);
   -- One fallback per original delivery, also across replicas; most deliveries have none, so only those are indexed.
   CREATE UNIQUE INDEX deliveries_fallback_of ON deliveries (fallback_of) WHERE fallback_of IS NOT NULL;
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
  // Accepts as server-side functions: one round trip (and one commit) per batch of accepts, however many
  // deliveries and lanes each has. Under load every round trip waited for a busy event loop: eight per accept made
  // the webhook's answer wait for all of them. The dedup rule here is nflog's as src/delivery/dedup.ts has it
  // (needsUpdate); the ledger contract suite runs the same cases on both backends.
  `CREATE FUNCTION alertmux_needs_update(last_firing text, last_resolved text, last_at bigint, e jsonb, since bigint)
   RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $fn$
   DECLARE
     f text[] := ARRAY(SELECT jsonb_array_elements_text(e->'firing'));
     r text[] := ARRAY(SELECT jsonb_array_elements_text(e->'resolved'));
     lf text[];
     lr text[];
   BEGIN
     IF (e->>'repeat')::boolean THEN RETURN true; END IF;
     IF last_at IS NULL OR last_at < since THEN RETURN true; END IF;
     lf := ARRAY(SELECT jsonb_array_elements_text(last_firing::jsonb));
     lr := ARRAY(SELECT jsonb_array_elements_text(last_resolved::jsonb));
     IF NOT (f <@ lf) THEN RETURN true; END IF;
     IF cardinality(f) = 0 THEN RETURN cardinality(lf) > 0; END IF;
     IF (e->>'sendResolved')::boolean AND NOT (r <@ lr) THEN RETURN true; END IF;
     RETURN false;
   END $fn$;

   CREATE FUNCTION alertmux_accept_one(item jsonb, original text, enriched text, me text, lease_ms bigint)
   RETURNS jsonb LANGUAGE plpgsql AS $fn$
   DECLARE
     n jsonb := item->'n';
     at bigint := (n->>'createdAt')::bigint;
     ds jsonb := item->'d';
     cnt integer := jsonb_array_length(item->'d');
     dd jsonb := item->'dedup';
     in_flight text[] := ARRAY(SELECT jsonb_array_elements_text(COALESCE(item->'inFlight', '[]'::jsonb)));
     dups integer[] := '{}';
     blocked integer[] := '{}';
     seqs bigint[] := '{}';
     sending boolean[] := '{}';
     any_sending boolean := false;
     e jsonb;
     d jsonb;
     k integer;
     s bigint;
     last_firing text;
     last_resolved text;
     last_at bigint;
     pending_in_lane bigint;
     held_elsewhere boolean;
   BEGIN
     IF dd IS NOT NULL AND jsonb_typeof(dd) = 'object' THEN
       FOR k IN 0 .. cnt - 1 LOOP
         e := dd->'entries'->k;
         CONTINUE WHEN e IS NULL OR jsonb_typeof(e) <> 'object';
         last_firing := NULL; last_resolved := NULL; last_at := NULL;
         IF NOT (dd->>'claimed')::boolean THEN
           SELECT firing, resolved, accepted_at INTO last_firing, last_resolved, last_at FROM dedup_state
             WHERE receiver = e->>'receiver' AND group_key = e->>'groupKey' AND target = e->>'target';
         END IF;
         IF (dd->>'claimed')::boolean OR alertmux_needs_update(last_firing, last_resolved, last_at, e, (dd->>'since')::bigint) THEN
           INSERT INTO dedup_state (receiver, group_key, target, firing, resolved, accepted_at)
             VALUES (e->>'receiver', e->>'groupKey', e->>'target', (e->'firing')::text, (e->'resolved')::text, at)
             ON CONFLICT (receiver, group_key, target) DO UPDATE SET firing = excluded.firing, resolved = excluded.resolved,
               accepted_at = excluded.accepted_at;
         ELSIF ds->k->>'state' = 'pending' THEN
           dups := dups || k;
           UPDATE dedup_state SET duplicates = duplicates + 1, last_duplicate_at = at
             WHERE receiver = e->>'receiver' AND group_key = e->>'groupKey' AND target = e->>'target';
         END IF;
       END LOOP;
     END IF;
     FOR k IN 0 .. cnt - 1 LOOP
       sending := sending || ((ds->k->>'state') = 'pending' AND NOT (k = ANY(dups)));
       any_sending := any_sending OR sending[k + 1];
     END LOOP;
     -- Nothing to send to anyone: the duplicates are counted, the payload is not stored again.
     IF cardinality(dups) > 0 AND NOT any_sending THEN
       RETURN jsonb_build_object('seqs', (SELECT jsonb_agg(0) FROM generate_series(1, cnt)), 'duplicates', to_jsonb(dups), 'stored', false);
     END IF;
     FOR k IN 0 .. cnt - 1 LOOP
       d := ds->k;
       CONTINUE WHEN NOT sending[k + 1] OR d ? 'fallbackOf';
       -- The lane's pending deliveries, if any (most lanes have none: one lookup, then nothing to do).
       SELECT count(*), COALESCE(bool_or(o.lease_owner IS NOT NULL AND o.lease_owner <> me AND o.lease_until >= at), false)
         INTO pending_in_lane, held_elsewhere
         FROM deliveries o WHERE o.target = d->>'target' AND o.group_key = d->>'groupKey' AND o.state = 'pending' AND o.fallback_of IS NULL;
       CONTINUE WHEN pending_in_lane = 0;
       -- Another replica's attempt in this lane: wait behind it (blocked), never overtake it.
       IF held_elsewhere THEN
         blocked := blocked || k;
       END IF;
       -- Alertmanager always sends the whole group state: a newer notification replaces what is still waiting.
       UPDATE deliveries o SET state = 'superseded', skip_reason = 'superseded', next_attempt_at = NULL, updated_at = at,
           lease_owner = NULL, lease_until = NULL
         WHERE o.target = d->>'target' AND o.group_key = d->>'groupKey' AND o.state = 'pending' AND o.fallback_of IS NULL
           AND NOT (o.id = ANY(in_flight)) AND NOT (o.lease_owner IS NOT NULL AND o.lease_owner <> me AND o.lease_until >= at);
     END LOOP;
     INSERT INTO notifications (id, key, receiver, group_key, status, created_at, original, enriched, alertnames, alert_count, targets)
       VALUES (n->>'id', n->>'key', n->>'receiver', n->>'groupKey', n->>'status', at, original, enriched,
         ARRAY(SELECT jsonb_array_elements_text(n->'alertnames')), (n->>'alertCount')::integer,
         ARRAY(SELECT jsonb_array_elements_text(n->'targets')));
     FOR k IN 0 .. cnt - 1 LOOP
       d := ds->k;
       s := nextval('delivery_seq');
       seqs := seqs || s;
       INSERT INTO deliveries (seq, id, notification_id, target, target_type, group_key, notification_key, state, skip_reason,
           priority, alerts, attempts, created_at, updated_at, next_attempt_at, lease_owner, lease_until)
         VALUES (s, d->>'id', n->>'id', d->>'target', d->>'targetType', d->>'groupKey', d->>'notificationKey',
           CASE WHEN k = ANY(dups) THEN 'skipped' ELSE d->>'state' END,
           CASE WHEN k = ANY(dups) THEN 'duplicate' ELSE d->>'skipReason' END,
           (d->>'priority')::integer, d->>'alerts', (d->>'attempts')::integer, (d->>'createdAt')::bigint, (d->>'createdAt')::bigint,
           CASE WHEN k = ANY(dups) THEN NULL ELSE (d->>'nextAttemptAt')::bigint END,
           CASE WHEN sending[k + 1] AND NOT (k = ANY(blocked)) THEN me END,
           CASE WHEN sending[k + 1] AND NOT (k = ANY(blocked)) THEN at + lease_ms END);
     END LOOP;
     RETURN jsonb_build_object('seqs', to_jsonb(seqs), 'duplicates', to_jsonb(dups), 'blocked', to_jsonb(blocked));
   END $fn$;

   CREATE FUNCTION alertmux_accept_batch(items jsonb, originals text[], enricheds text[], me text, lease_ms bigint)
   RETURNS jsonb LANGUAGE plpgsql AS $fn$
   DECLARE
     results jsonb := '[]'::jsonb;
     i integer;
   BEGIN
     -- Every lane of the batch locked first, in one order on every replica: no deadlock between batches.
     PERFORM pg_advisory_xact_lock(hashtextextended(l, 0)) FROM (
       SELECT DISTINCT (d->>'target') || chr(9216) || (d->>'groupKey') AS l
       FROM jsonb_array_elements(items) AS it, jsonb_array_elements(it->'d') AS d ORDER BY 1) AS lanes;
     FOR i IN 0 .. jsonb_array_length(items) - 1 LOOP
       BEGIN
         results := results || jsonb_build_array(alertmux_accept_one(items->i, originals[i + 1], enricheds[i + 1], me, lease_ms));
       EXCEPTION WHEN OTHERS THEN
         -- One accept that fails (a subtransaction rolled back) does not fail the others.
         results := results || jsonb_build_array(jsonb_build_object('error', SQLERRM, 'code', SQLSTATE));
       END;
     END LOOP;
     RETURN results;
   END $fn$;

   -- Attempt outcomes: each delivery's last of the batch (deduplicated by the caller), applied only where no other
   -- replica holds the lease, releasing it; the attempts added to the history; returns the ids another replica holds
   -- (lost) and whether a delivery waits behind one of these in its lane (wake the other replicas).
   CREATE FUNCTION alertmux_settle(latest jsonb, attempts jsonb, me text)
   RETURNS jsonb LANGUAGE plpgsql AS $fn$
   DECLARE
     applied text[];
     lost text[];
     waiting boolean;
   BEGIN
     WITH done AS (
       UPDATE deliveries d SET state = u.state, skip_reason = u."skipReason", attempts = u.attempts, next_attempt_at = u."nextAttemptAt",
           last_status = u."lastStatus", last_reason = u."lastReason", last_error = u."lastError", retryable = u.retryable,
           duration_ms = u."durationMs", delivered_at = u."deliveredAt", updated_at = u."updatedAt",
           held_since = COALESCE(d.held_since, u."heldSince"), lease_owner = NULL, lease_until = NULL
         FROM jsonb_to_recordset(latest) AS u(id text, state text, "skipReason" text, attempts integer, "nextAttemptAt" bigint,
           "lastStatus" integer, "lastReason" text, "lastError" text, retryable boolean, "durationMs" double precision,
           "deliveredAt" bigint, "updatedAt" bigint, "heldSince" bigint)
         WHERE d.id = u.id AND d.state <> 'superseded' AND (d.lease_owner IS NULL OR d.lease_owner = me)
         RETURNING d.id)
     SELECT COALESCE(array_agg(id), '{}') INTO applied FROM done;
     INSERT INTO delivery_attempts (delivery_id, notification_id, target, attempt, started_at, replica, duration_ms, status_code,
         reason, error, outcome, next_attempt_at, trial, replay)
       SELECT d.id, d.notification_id, d.target, a.attempts, a."attemptedAt", me, a."durationMs", a."lastStatus", a."lastReason",
         substr(a."lastError", 1, 500), a.state, a."nextAttemptAt", COALESCE(a.trial, false), COALESCE(a.replay, false)
       FROM jsonb_to_recordset(attempts) AS a(id text, attempts integer, "attemptedAt" bigint, "durationMs" double precision,
         "lastStatus" integer, "lastReason" text, "lastError" text, state text, "nextAttemptAt" bigint, trial boolean, replay boolean)
       JOIN deliveries d ON d.id = a.id
       WHERE a.id = ANY(applied)
       ON CONFLICT (delivery_id, attempt, started_at) DO NOTHING;
     -- Not applied: superseded or deleted meanwhile (nothing to say), or held by another replica (lost).
     lost := '{}';
     IF cardinality(applied) < jsonb_array_length(latest) THEN
       SELECT COALESCE(array_agg(d.id), '{}') INTO lost FROM deliveries d
         WHERE d.id IN (SELECT x->>'id' FROM jsonb_array_elements(latest) AS x) AND NOT (d.id = ANY(applied))
           AND d.lease_owner IS NOT NULL AND d.lease_owner <> me AND d.state <> 'superseded';
     END IF;
     SELECT EXISTS (SELECT 1 FROM deliveries o JOIN deliveries d ON o.target = d.target AND o.group_key = d.group_key AND o.seq > d.seq
         WHERE d.id = ANY(applied) AND o.state = 'pending' AND o.lease_owner IS NULL) INTO waiting;
     RETURN jsonb_build_object('lost', to_jsonb(lost), 'wake', waiting);
   END $fn$;`,
  // Accepts and outcomes only look rows up by key, through an index, however small the tables are: a function's plans
  // are made once per connection, and those made while deliveries was small (a new install, the first minutes) scanned
  // the whole table for every batch long after it had grown; settling a batch took most of its database time.
  // Outcomes are also looked up by id alone and their attempts written from what the update returned.
  `ALTER FUNCTION alertmux_accept_batch(jsonb, text[], text[], text, bigint) SET enable_seqscan = off;
   CREATE OR REPLACE FUNCTION alertmux_settle(latest jsonb, attempts jsonb, me text)
   RETURNS jsonb LANGUAGE plpgsql SET enable_seqscan = off AS $fn$
   DECLARE
     ids text[] := ARRAY(SELECT x->>'id' FROM jsonb_array_elements(latest) AS x);
     applied text[];
     lost text[] := '{}';
     waiting boolean;
   BEGIN
     WITH done AS (
       UPDATE deliveries d SET state = u.state, skip_reason = u."skipReason", attempts = u.attempts, next_attempt_at = u."nextAttemptAt",
           last_status = u."lastStatus", last_reason = u."lastReason", last_error = u."lastError", retryable = u.retryable,
           duration_ms = u."durationMs", delivered_at = u."deliveredAt", updated_at = u."updatedAt",
           held_since = COALESCE(d.held_since, u."heldSince"), lease_owner = NULL, lease_until = NULL
         FROM jsonb_to_recordset(latest) AS u(id text, state text, "skipReason" text, attempts integer, "nextAttemptAt" bigint,
           "lastStatus" integer, "lastReason" text, "lastError" text, retryable boolean, "durationMs" double precision,
           "deliveredAt" bigint, "updatedAt" bigint, "heldSince" bigint)
         WHERE d.id = ANY(ids) AND d.id = u.id AND d.state <> 'superseded' AND (d.lease_owner IS NULL OR d.lease_owner = me)
         RETURNING d.id, d.notification_id, d.target),
     added AS (
       INSERT INTO delivery_attempts (delivery_id, notification_id, target, attempt, started_at, replica, duration_ms, status_code,
           reason, error, outcome, next_attempt_at, trial, replay)
         SELECT done.id, done.notification_id, done.target, a.attempts, a."attemptedAt", me, a."durationMs", a."lastStatus",
           a."lastReason", substr(a."lastError", 1, 500), a.state, a."nextAttemptAt", COALESCE(a.trial, false), COALESCE(a.replay, false)
         FROM jsonb_to_recordset(attempts) AS a(id text, attempts integer, "attemptedAt" bigint, "durationMs" double precision,
           "lastStatus" integer, "lastReason" text, "lastError" text, state text, "nextAttemptAt" bigint, trial boolean, replay boolean)
         JOIN done ON done.id = a.id
         ON CONFLICT (delivery_id, attempt, started_at) DO NOTHING)
     SELECT COALESCE(array_agg(id), '{}') INTO applied FROM done;
     -- Not applied: superseded or deleted meanwhile (nothing to say), or held by another replica (lost).
     IF cardinality(applied) < cardinality(ids) THEN
       SELECT COALESCE(array_agg(d.id), '{}') INTO lost FROM deliveries d
         WHERE d.id = ANY(ids) AND NOT (d.id = ANY(applied)) AND d.lease_owner IS NOT NULL AND d.lease_owner <> me
           AND d.state <> 'superseded';
     END IF;
     SELECT EXISTS (SELECT 1 FROM deliveries o JOIN deliveries d ON o.target = d.target AND o.group_key = d.group_key AND o.seq > d.seq
         WHERE d.id = ANY(applied) AND o.state = 'pending' AND o.lease_owner IS NULL) INTO waiting;
     RETURN jsonb_build_object('lost', to_jsonb(lost), 'wake', waiting);
   END $fn$;`,
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
