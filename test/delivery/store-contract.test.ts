import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openPostgresLedger } from '../../src/delivery/postgres/ledger.js';
import { openSqliteLedger } from '../../src/delivery/sqlite-ledger.js';
import { requirePostgres, startPostgres, type PostgresCluster } from '../helpers/postgres.js';
import { describeStoreContract, type StoreBackend } from './contract/index.js';

/** A SQLite ledger file in a temp dir of its own per test, removed after it. One process: not shared. */
function sqliteBackend(name: string, writerThread: boolean): StoreBackend {
  let dir: string | undefined;
  return {
    name,
    shared: false,
    fresh: async () => {
      dir = mkdtempSync(join(tmpdir(), 'alertmux-contract-'));
    },
    open: async (options = {}) => {
      if (!dir) throw new Error('open() before fresh()');
      // A SQLite ledger never expires a lease nor reports events: leaseMs and events have nothing to drive.
      return openSqliteLedger(join(dir, 'ledger.db'), { writerThread, replica: options.replica ?? 'contract' });
    },
    dispose: async () => {
      if (dir) rmSync(dir, { recursive: true, force: true });
      dir = undefined;
    },
  };
}

describeStoreContract(sqliteBackend('SQLite, writes on the main connection', false));
describeStoreContract(sqliteBackend('SQLite, writes on the writer thread', true));

// PostgreSQL: one throwaway cluster for the file (test/helpers/postgres.ts: skipped without the binaries, failing under
// CI), a new database per test, and `open` called once per replica on it (`shared`: the replicas contract runs).
describe('PostgreSQL', () => {
  let cluster: PostgresCluster | undefined;
  let admin: pg.Client | undefined;
  let url = '';
  let n = 0;
  before(async function () {
    this.timeout(60_000);
    cluster = await startPostgres(requirePostgres(this));
    admin = new pg.Client({ connectionString: cluster.url });
    await admin.connect();
  });
  after(async () => {
    await admin?.end();
    await cluster?.stop();
  });
  describeStoreContract({
    name: 'PostgreSQL',
    shared: true,
    fresh: async () => {
      const name = `contract_${++n}`;
      await admin!.query(`CREATE DATABASE ${name}`);
      url = cluster!.url.replace(/\/postgres$/, `/${name}`);
    },
    open: (options = {}) =>
      openPostgresLedger({ url, poolSize: 4, statementTimeoutMs: 5000, leaseMs: options.leaseMs ?? 30_000, replica: options.replica ?? 'contract', events: options.events }),
    dispose: async () => {
      await admin!.query(`DROP DATABASE contract_${n} WITH (FORCE)`);
    },
  });
});
