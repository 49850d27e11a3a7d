import type { Store } from '../../../src/delivery/types.js';
import { attemptsContract } from './attempts.js';
import { consoleContract } from './console.js';
import { fallbackContract } from './fallback.js';
import { lanesContract } from './lanes.js';
import { queueContract } from './queue.js';
import { retentionContract } from './retention.js';

/** What the ledger records besides what it is given. */
export interface OpenOptions {
  /** The replica named in the attempt history. */
  replica?: string;
}

/**
 * A ledger backend under test: opens a fresh, empty store per test; its `close()` also removes whatever the
 * backend created for it (a temp file, a schema).
 */
export interface StoreBackend {
  name: string;
  open(options?: OpenOptions): Store | Promise<Store>;
}

/**
 * The ledger's behaviour as the dispatcher, the worker and the API rely on it, written against the `Store`
 * interface only: every backend must pass it. Backend-specific behaviour (migrations, the writer thread, WAL)
 * stays in that backend's own tests.
 */
export function describeStoreContract(backend: StoreBackend): void {
  describe(`the ledger contract (${backend.name})`, () => {
    lanesContract(backend);
    queueContract(backend);
    attemptsContract(backend);
    consoleContract(backend);
    fallbackContract(backend);
    retentionContract(backend);
  });
}

/** A fresh store per test of the enclosing describe, closed after it. */
export function useStore(backend: StoreBackend, options?: OpenOptions): () => Store {
  let store: Store | undefined;
  beforeEach(async () => {
    store = await backend.open(options);
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });
  return () => {
    if (!store) throw new Error('no store open (used outside a test)');
    return store;
  };
}
