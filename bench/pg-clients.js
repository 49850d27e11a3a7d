// Which PostgreSQL client for the ledger: `pg` (node-postgres) or `postgres` (porsager), on an accept-shaped
// transaction (a notification and 5 deliveries), a pool of 10, about 5 s each. tx/s and this process's CPU per tx.
// Usage: PG_URL=postgres://postgres@127.0.0.1:5432/postgres node bench/pg-clients.js   (`postgres` is not a dependency:
// npm install --no-save postgres first).
import { randomUUID } from 'node:crypto';
import pg from 'pg';

const url = process.env.PG_URL;
if (!url) throw new Error('set PG_URL to a PostgreSQL database the benchmark may create tables in');
const SECONDS = Number(process.env.SECONDS ?? 5);
const POOL = 10;
const PAYLOAD = JSON.stringify({ alerts: Array.from({ length: 5 }, (_, i) => ({ labels: { alertname: `A${i}`, instance: `host-${i}` } })) });

const DDL = `DROP TABLE IF EXISTS bench_deliveries; DROP TABLE IF EXISTS bench_notifications;
  CREATE TABLE bench_notifications (id text PRIMARY KEY, group_key text NOT NULL, created_at bigint NOT NULL, original text NOT NULL);
  CREATE TABLE bench_deliveries (seq bigserial PRIMARY KEY, id text NOT NULL UNIQUE, notification_id text NOT NULL REFERENCES bench_notifications(id),
    target text NOT NULL, group_key text NOT NULL, state text NOT NULL, created_at bigint NOT NULL);`;

async function run(name, accept) {
  const end = Date.now() + SECONDS * 1000;
  let done = 0;
  const cpu = process.cpuUsage();
  const started = Date.now();
  await Promise.all(
    Array.from({ length: POOL * 2 }, async () => {
      while (Date.now() < end) {
        await accept(randomUUID(), `{}:{alertname="G${done % 50}"}`);
        done++;
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  const elapsed = (Date.now() - started) / 1000;
  const line = { client: name, tx: done, txPerSecond: Math.round(done / elapsed), cpuMsPerTx: ((used.user + used.system) / 1000 / done).toFixed(3) };
  console.log(JSON.stringify(line));
}

const insertD = `INSERT INTO bench_deliveries (id, notification_id, target, group_key, state, created_at) VALUES ($1, $2, $3, $4, 'pending', $5)`;

{
  const pool = new pg.Pool({ connectionString: url, max: POOL });
  await pool.query(DDL);
  await run('pg', async (id, group) => {
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      await c.query({ name: 'n', text: 'INSERT INTO bench_notifications VALUES ($1, $2, $3, $4)', values: [id, group, Date.now(), PAYLOAD] });
      for (let t = 0; t < 5; t++) await c.query({ name: 'd', text: insertD, values: [`${id}-${t}`, id, `t${t}`, group, Date.now()] });
      await c.query('COMMIT');
    } finally {
      c.release();
    }
  });
  await pool.end();
}

let postgres;
try {
  postgres = (await import('postgres')).default;
} catch {
  console.log('(postgres not installed: npm install --no-save postgres to compare)');
}
if (postgres) {
  const sql = postgres(url, { max: POOL, onnotice: () => {} });
  await sql.unsafe(DDL);
  await run('postgres', (id, group) =>
    sql.begin(async (tx) => {
      await tx`INSERT INTO bench_notifications VALUES (${id}, ${group}, ${Date.now()}, ${PAYLOAD})`;
      for (let t = 0; t < 5; t++) await tx.unsafe(insertD, [`${id}-${t}`, id, `t${t}`, group, Date.now()], { prepare: true });
    }),
  );
  await sql.end();
}
