import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/delivery/sqlite.js';
import type { Store } from '../../src/delivery/types.js';
import { describeStoreContract, type OpenOptions, type StoreBackend } from './contract/index.js';

/** A SQLite ledger in a temp dir of its own, removed when the store closes. */
function sqliteBackend(name: string, writerThread: boolean): StoreBackend {
  return {
    name,
    open(options: OpenOptions = {}): Store {
      const dir = mkdtempSync(join(tmpdir(), 'alertmux-contract-'));
      const store = openSqliteStore(join(dir, 'ledger.db'), { writerThread, ...options });
      const close = store.close.bind(store);
      store.close = async () => {
        await close();
        rmSync(dir, { recursive: true, force: true });
      };
      return store;
    },
  };
}

describeStoreContract(sqliteBackend('SQLite, writes on the main connection', false));
describeStoreContract(sqliteBackend('SQLite, writes on the writer thread', true));
// The PostgreSQL backend plugs in here once it exists (issue 23): a backend whose open() creates a fresh
// database (or schema) on a cluster from test/helpers/postgres.ts, skipped without the binaries as that helper says.
