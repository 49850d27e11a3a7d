import { expect } from 'chai';
import { Database } from '../../src/delivery/postgres/connection.js';
import { requirePostgres, startPostgres, type PostgresCluster } from '../helpers/postgres.js';

// The pool of the PostgreSQL ledger when the server goes away under a checked-out connection (issue 23's fault test
// found that node-postgres's 'error' event on such a client, which the pool does not listen to, crashed alertmux).
describe('PostgreSQL ledger connections when the database drops them', function () {
  this.timeout(60_000);
  let cluster: PostgresCluster | undefined;

  before(async function () {
    cluster = await startPostgres(requirePostgres(this));
  });

  after(async () => {
    await cluster?.stop();
  });

  it('a connection terminated while checked out is reported, dropped by the pool, and the next transaction reconnects', async () => {
    const url = await cluster!.freshDatabase();
    const reachable: boolean[] = [];
    const db = new Database({ url, poolSize: 2, statementTimeoutMs: 5000, events: { reachable: (up) => reachable.push(up) } });
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    process.prependListener('uncaughtException', onUncaught);
    try {
      const held = await db.checkout();
      const pid = (await held.client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const errored = new Promise((resolve) => held.client.once('error', resolve));
      cluster!.sql(`SELECT pg_terminate_backend(${pid})`, url);
      await errored; // emitted between statements: with no listener of ours, an uncaught exception
      held.release();
      // The broken connection was dropped: the pool serves a new one.
      const sum = await db.transaction(async (client) => (await client.query<{ n: number }>('SELECT 1 + 1 AS n')).rows[0]!.n);
      expect(sum).to.equal(2);
      // A transaction whose connection is terminated mid-way fails with a ledger error, and the process lives on.
      const failed = await db
        .transaction(async (client) => {
          const me = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
          cluster!.sql(`SELECT pg_terminate_backend(${me})`, url);
          await client.query('SELECT pg_sleep(0.2)');
        })
        .then(
          () => undefined,
          (err: unknown) => err as Error,
        );
      expect(failed?.name).to.equal('LedgerDatabaseError');
      expect(failed?.message).to.match(/terminat/i);
      expect(await db.transaction(async (client) => (await client.query<{ n: number }>('SELECT 3 AS n')).rows[0]!.n)).to.equal(3);
      expect(reachable).to.deep.equal([false, true]);
    } finally {
      process.removeListener('uncaughtException', onUncaught);
      await db.end();
    }
    expect(uncaught).to.deep.equal([]);
  });
});
