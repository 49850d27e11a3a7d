import { hostname } from 'node:os';
import { openSqliteStore, type WriteOptions } from './sqlite.js';
import type { ExclusiveJob, Ledger } from './ledger.js';
import type { IdFilter, NotificationSummary, Store } from './types.js';

/** Options of the SQLite ledger: the writer thread (files only) and the replica named in the attempt history. */
export type SqliteLedgerOptions = { writerThread?: boolean } & WriteOptions;

/**
 * The embedded ledger: one process on one SQLite file. Its leases are the process's own bookkeeping (the pending
 * deliveries of an accept, and what `claim` handed out, until settled or given back),
 * so nothing is ever blocked behind another replica or lost, and no lease expires; every job that
 * must run once runs here; no other replica makes work claimable. The store's synchronous calls answer in the
 * same turn; the writer thread and checkpointing stay inside it.
 */
export function openSqliteLedger(path: string, options: SqliteLedgerOptions = {}): Ledger {
  return sqliteLedger(openSqliteStore(path, options), options.replica ?? hostname());
}

/** The asynchronous ledger over an open SQLite store. */
export function sqliteLedger(store: Store, replica: string): Ledger {
  /** Leased (accepted pending, or claimed) and not yet settled (an update written) or given back (`unlease`): a claim leaves them out. */
  const claimed = new Set<string>();
  const unclaimed = (exclude: IdFilter): IdFilter =>
    claimed.size === 0 ? exclude : { has: (id) => claimed.has(id) || exclude.has(id), size: claimed.size + exclude.size };
  return {
    driver: 'sqlite',
    replica,
    write: (batch) =>
      store.write(batch).then((result) => {
        // An accept leases its pending deliveries to this process (their first attempts), as a shared ledger does:
        // until the attempt's outcome is written, the row is stale and no claim may hand it out again.
        batch.accepts.forEach((a, i) => {
          const stored = result.accepted[i];
          if (!stored || !('seqs' in stored)) return;
          a.deliveries.forEach((d, j) => {
            if (d.state === 'pending' && !stored.duplicates.includes(j)) claimed.add(d.id);
          });
        });
        // An outcome not written keeps its lease: the caller still owns the delivery and writes it again.
        if (!result.updateError) for (const u of batch.updates) claimed.delete(u.id);
        return result;
      }),
    claimDedup: (entries, at, since) => store.claimDedup(entries, at, since),
    dedupState: async (receiver, groupKey, target) => store.dedupState(receiver, groupKey, target),
    claim: async (now, limit, exclude) => {
      const due = store.due(now, limit, unclaimed(exclude));
      for (const d of due) claimed.add(d.id);
      return due;
    },
    nextDueAt: async (exclude) => store.nextDueAt(unclaimed(exclude)),
    unlease: async (ids) => {
      for (const id of ids) claimed.delete(id);
    },
    onWork: () => () => {},
    latestSeq: async (target, groupKey) => store.latestSeq(target, groupKey),
    wake: async (target, now) => store.wake(target, now),
    getNotification: async (id) => store.getNotification(id),
    getDelivery: async (id) => store.getDelivery(id),
    deliveriesOf: async (id) => store.deliveriesOf(id),
    deliveriesOfMany: async (ids) => store.deliveriesOfMany(ids),
    list: async (filter) => store.list(filter),
    notifications: async (filter, limit) => {
      const page: NotificationSummary[] = [];
      if (limit <= 0) return page;
      for (const summary of store.notifications(filter)) {
        page.push(summary);
        if (page.length >= limit) break;
      }
      return page;
    },
    attemptsOf: async (id) => store.attemptsOf(id),
    attemptsOfNotification: async (id) => store.attemptsOfNotification(id),
    addFallback: (delivery) => store.addFallback(delivery),
    heldSince: (target, before, limit) => store.heldSince(target, before, limit),
    earliestHeld: (target) => store.earliestHeld(target),
    replay: async (filter, now) => store.replay(filter, now),
    delete: async (id) => {
      claimed.delete(id);
      return store.delete(id);
    },
    deleteMany: async (filter) => store.deleteMany(filter),
    hold: async (target, until) => store.hold(target, until),
    release: async (target, now) => store.release(target, now),
    targetStats: async () => store.targetStats(),
    outcomeBuckets: async (since, bucketMs) => store.outcomeBuckets(since, bucketMs),
    stats: async () => store.stats(),
    prune: async (before, now, limit) => store.prune(before, now, limit),
    stateGet: async (key, now) => store.stateGet(key, now),
    stateSet: async (key, value, expiresAt) => store.stateSet(key, value, expiresAt),
    stateDelete: async (key) => store.stateDelete(key),
    stateList: async (prefix, now) => store.stateList(prefix, now),
    exclusive: async (_job: ExclusiveJob) => true,
    close: () => store.close(),
  };
}
