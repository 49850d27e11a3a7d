import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

// The PostgreSQL backend (issue 23): one throwaway cluster for the file (skipped without the binaries, failing under
// CI), a new database per test, `open` called once per replica on it (`shared`: the replicas contract runs).
describe('PostgreSQL', () => {
  let cluster: PostgresCluster | undefined;
  let url = '';
  before(async function () {
    this.timeout(60_000);
    cluster = await startPostgres(requirePostgres(this));
  });
  after(() => cluster?.stop());
  describeStoreContract({
    name: 'PostgreSQL',
    shared: true,
    fresh: async () => {
      if (!cluster) throw new Error('no cluster');
      url = await cluster.freshDatabase();
    },
    open: (options = {}) =>
      openPostgresLedger({
        url,
        poolSize: 4,
        statementTimeoutMs: 5000,
        leaseMs: options.leaseMs ?? 30_000,
        replica: options.replica ?? 'contract',
        events: options.events,
        // Leases follow the tests' `now`, never the wall clock: no renewal during a test.
        renewEveryMs: 3_600_000,
      }),
    dispose: async () => {
      await cluster?.dropDatabase(url);
    },
  });
});
