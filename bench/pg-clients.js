// Which PostgreSQL client for the ledger: `pg` (node-postgres) vs `postgres` (porsager), on the accept transaction's
// shape (a notification and 5 deliveries in one transaction) from a pool of 10, ~5 s each, on a throwaway cluster.
// Run: npx tsx bench/pg-clients.js (needs the PostgreSQL server binaries; see test/helpers/postgres.ts).
import { randomUUID } from 'node:crypto';
import pg from 'pg';
// The losing client is not a dependency: npm install --no-save postgres to run this again.
import postgres from 'postgres';
import { startPostgres } from '../test/helpers/postgres.ts';

const SECONDS = Number(process.env.SECONDS ?? 5);
const POOL = 10;
const payload = JSON.stringify({ alerts: Array.from({ length: 5 }, (_, i) => ({ labels: { alertname: `A${i}`, instance: `host-${i}` } })) });
const SCHEMA = `CREATE TABLE n (id text PRIMARY KEY, created_at bigint NOT NULL, original text NOT NULL);
  CREATE TABLE d (seq bigserial PRIMARY KEY, id text UNIQUE NOT NULL, notification_id text NOT NULL REFERENCES n(id), target text NOT NULL, state text NOT NULL, created_at bigint NOT NULL);`;

async function run(name, accept) {
  const deadline = Date.now() + SECONDS * 1000;
  let done = 0;
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: POOL }, async () => {
    while (Date.now() < deadline) {
      await accept(randomUUID());
      done++;
    }
  }));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  console.log(`${name}: ${(done / seconds).toFixed(0)} tx/s, ${((used.user + used.system) / done).toFixed(0)} µs CPU per tx (${done} tx in ${seconds.toFixed(1)} s)`);
}

const cluster = await startPostgres();
try {
  const pool = new pg.Pool({ connectionString: cluster.url, max: POOL });
  await pool.query(SCHEMA);
  await run('pg', async (id) => {
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      await c.query('INSERT INTO n (id, created_at, original) VALUES ($1, $2, $3)', [id, Date.now(), payload]);
      for (let t = 0; t < 5; t++) {
        await c.query('INSERT INTO d (id, notification_id, target, state, created_at) VALUES ($1, $2, $3, $4, $5)', [`${id}-${t}`, id, `t${t}`, 'pending', Date.now()]);
      }
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK');
      throw err;
    } finally {
      c.release();
    }
  });
  await pool.end();

  const sql = postgres(cluster.url, { max: POOL, onnotice: () => {} });
  await sql`TRUNCATE d, n`;
  await run('postgres', (id) =>
    sql.begin(async (tx) => {
      await tx`INSERT INTO n (id, created_at, original) VALUES (${id}, ${Date.now()}, ${payload})`;
      for (let t = 0; t < 5; t++) {
        await tx`INSERT INTO d (id, notification_id, target, state, created_at) VALUES (${`${id}-${t}`}, ${id}, ${`t${t}`}, 'pending', ${Date.now()})`;
      }
    }),
  );
  await sql.end();
} finally {
  await cluster.stop();
}
