import type { Ledger, LedgerEvents } from '../../../src/delivery/ledger.js';
import { attemptsContract } from './attempts.js';
import { consoleContract } from './console.js';
import { fallbackContract } from './fallback.js';
import { lanesContract } from './lanes.js';
import { queueContract } from './queue.js';
import { replicasContract } from './replicas.js';
import { retentionContract } from './retention.js';

/** How a test opens a ledger: the replica it speaks for, its lease length, and who hears its events. */
export interface OpenOptions {
  /** The replica named in the attempt history and owning the leases. */
  replica?: string;
  /** How long a lease lasts past the `now` of the claim that took it (shared backends). */
  leaseMs?: number;
  events?: LedgerEvents;
}

/**
 * A ledger backend under test. Per test the suite calls `fresh()` (a new, empty database), then `open()` once,
 * or, when `shared`, twice (two replicas on that one database), closes every ledger it opened, then `dispose()`.
 */
export interface StoreBackend {
  name: string;
  /** Several processes share the database (PostgreSQL): the replicas contract runs; false: it is skipped, saying so. */
  shared: boolean;
  /** Before each test: make the database the test's ledgers open (a temp dir, a `CREATE DATABASE`). */
  fresh(): Promise<void>;
  /** A ledger on the database `fresh()` made. */
  open(options?: OpenOptions): Promise<Ledger>;
  /** After each test, once its ledgers are closed: remove what `fresh()` made. */
  dispose(): Promise<void>;
}

/**
 * The ledger's behaviour as the dispatcher, the worker and the API rely on it, written against the `Ledger`
 * interface only: every backend must pass it. Backend-specific behaviour (migrations, the writer thread, WAL,
 * the pool) stays in that backend's own tests.
 */
export function describeStoreContract(backend: StoreBackend): void {
  describe(`the ledger contract (${backend.name})`, () => {
    lanesContract(backend);
    queueContract(backend);
    attemptsContract(backend);
    consoleContract(backend);
    fallbackContract(backend);
    retentionContract(backend);
    replicasContract(backend);
  });
}

/**
 * Per test of the enclosing describe: a fresh database and the ledgers `open` opens on it, all closed after the
 * test (a ledger the test closed itself with `close` is not closed again).
 */
export function useLedgers(backend: StoreBackend): { open(options?: OpenOptions): Promise<Ledger>; close(ledger: Ledger): Promise<void> } {
  const opened = new Set<Ledger>();
  let ready = false;
  beforeEach(async () => {
    await backend.fresh();
    ready = true;
  });
  afterEach(async () => {
    const open = [...opened];
    opened.clear();
    try {
      await Promise.all(open.map((ledger) => ledger.close()));
    } finally {
      if (ready) await backend.dispose();
      ready = false;
    }
  });
  return {
    async open(options) {
      if (!ready) throw new Error('no database (opened outside a test)');
      const ledger = await backend.open(options);
      opened.add(ledger);
      return ledger;
    },
    async close(ledger) {
      opened.delete(ledger);
      await ledger.close();
    },
  };
}

/** A fresh ledger per test of the enclosing describe, closed after it. */
export function useStore(backend: StoreBackend, options?: OpenOptions): () => Ledger {
  const ledgers = useLedgers(backend);
  let ledger: Ledger | undefined;
  beforeEach(async () => {
    ledger = await ledgers.open(options);
  });
  afterEach(() => {
    ledger = undefined;
  });
  return () => {
    if (!ledger) throw new Error('no ledger open (used outside a test)');
    return ledger;
  };
}
