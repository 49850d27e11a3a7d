import { expect } from 'chai';
import { Database, LedgerDatabaseError } from '../../src/delivery/postgres/connection.js';
import { requirePostgres, startPostgres, type PostgresCluster } from '../helpers/postgres.js';

// The pool of the PostgreSQL ledger when a connection breaks under a checked-out client (issue 23: the database
// stopped mid-run ended the replica's process with an unhandled 'error' event of the driver's client).
describe('the PostgreSQL ledger pool when a connection breaks mid-transaction', function () {
  this.timeout(60_000);
  let cluster: PostgresCluster | undefined;
  let db: Database | undefined;

  before(async function () {
    const binaries = requirePostgres(this);
    cluster = await startPostgres(binaries);
  });

  after(async () => {
    await db?.end().catch(() => undefined);
    await cluster?.stop();
  });

  it('fails the transaction with a ledger error, keeps the process up, and answers again on a fresh connection', async () => {
    const reachable: boolean[] = [];
    db = new Database({ url: cluster!.url, poolSize: 2, statementTimeoutMs: 5000, events: { reachable: (up) => reachable.push(up) } });
    const failure = await db
      .transaction(async (client) => {
        const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
        // Killed from another session while this client is checked out and between statements.
        cluster!.psql(`SELECT pg_terminate_backend(${Number(pid)})`);
        await new Promise((resolve) => setTimeout(resolve, 300));
        await client.query('SELECT 1');
      })
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(failure).to.be.instanceOf(LedgerDatabaseError);
    expect(reachable).to.deep.equal([false]);
    // The broken client was dropped: the next call connects again.
    expect((await db.query<{ one: number }>('SELECT 1 AS one')).rows).to.deep.equal([{ one: 1 }]);
    expect(reachable).to.deep.equal([false, true]);
  });
});
