import type { DedupEntry, DedupState } from './dedup.js';
import type {
  AttemptRecord,
  BulkFilter,
  DeliveryFilter,
  DeliveryRecord,
  IdFilter,
  NewDelivery,
  NotificationFilter,
  NotificationRecord,
  NotificationSummary,
  OutcomeBucket,
  QueueStats,
  ReplayFilter,
  ReplayResult,
  TargetQueueStats,
  WriteBatch,
  WriteResult,
} from './types.js';

/** The ledger backends: the embedded SQLite file (one process) and PostgreSQL (N replicas on one database). */
export const LEDGER_DRIVERS = ['sqlite', 'postgres'] as const;
export type LedgerDriver = (typeof LEDGER_DRIVERS)[number];

/** Jobs that must run on one replica at a time (PostgreSQL: an advisory lock each; SQLite: always this process). */
export type ExclusiveJob = 'prune' | 'deadman' | 'queue-gauges';

/** What a ledger reports besides answers: lease takeovers and losses, and whether the database answers. */
export interface LedgerEvents {
  /** A claim took deliveries whose lease another replica let expire (that replica died or hung). */
  takeover?(count: number, from: string): void;
  /** Outcomes not written because this replica's lease had expired and another replica took the delivery. */
  leaseLost?(ids: readonly string[]): void;
  /** The database became unreachable (false) or answers again (true). */
  reachable?(up: boolean): void;
}

/**
 * The durable ledger, as the dispatcher, the retry worker, the API and the jobs use it: asynchronous and
 * backend-agnostic. Each backend keeps its own mechanics private (SQLite: the writer thread, WAL
 * checkpointing, in-memory dedup keys; PostgreSQL: the pool, LISTEN/NOTIFY, advisory locks, lease renewal).
 *
 * Leases: a delivery this replica attempts is leased to it (owner = `replica`, with an expiry the backend
 * renews while the replica lives). The accepting replica holds the lease of the first attempts it makes; the
 * retry worker gets leases from `claim`. A lease that expires (its replica died) lets another replica's
 * `claim` take the delivery; an outcome written under a lost lease is not applied (`WriteResult.lost`).
 * With one process (SQLite) leases are the process's own bookkeeping and never expire while it runs.
 */
export interface Ledger {
  readonly driver: LedgerDriver;
  /** The replica this ledger speaks for: the owner of its leases and the name in the attempt history. */
  readonly replica: string;

  /**
   * Group commit: accepts and outcome updates, each accept committed atomically (notification, deliveries,
   * supersede, dedup) and none failing another. An accept's deliveries that are `pending` are leased to this
   * replica (its first attempts), except those `blocked` behind another replica's attempt in their lane.
   * An update settles a delivery and releases its lease; one whose lease was lost is listed in `lost`.
   */
  write(batch: WriteBatch): Promise<WriteResult>;
  /**
   * True only when the backend can vouch, without a round trip, that none of these dedup entries is a
   * duplicate (so first attempts may start while the accept commits). False means "maybe": the commit decides.
   * A shared database never vouches (another replica may have accepted the same notification).
   */
  claimDedup(entries: ReadonlyArray<DedupEntry | undefined>, at: number, since: number): boolean;
  dedupState(receiver: string, groupKey: string, target: string): Promise<(DedupState & { duplicates: number }) | undefined>;

  /**
   * Lease up to `limit` pending deliveries due at `now` to this replica, most urgent first: not `exclude`d,
   * not leased by a live replica (this one included: what it claimed is not claimed again until an update of it
   * is written or it is `unlease`d), and first in their lane (per target and group key, nothing older is pending).
   * Replaces the synchronous `due`.
   */
  claim(now: number, limit: number, exclude: IdFilter): Promise<DeliveryRecord[]>;
  /** When the next delivery becomes claimable (due, or its lease expires), if any. */
  nextDueAt(exclude: IdFilter): Promise<number | undefined>;
  /** Give back leases without an outcome (the attempt never started): the deliveries stay pending. */
  unlease(ids: readonly string[]): Promise<void>;
  /**
   * Called when another replica made work claimable (a delivery settled, a replay, a wake): the worker looks
   * again. Returns the unsubscribe. SQLite never calls it (the process kicks its own worker).
   */
  onWork(listener: () => void): () => void;

  /** The newest sequence number of a target and group (for order and supersede). */
  latestSeq(target: string, groupKey: string): Promise<number | undefined>;
  /** Make every waiting delivery of a target due now (it recovered): skipped ones and those in backoff. */
  wake(target: string, now: number): Promise<number>;

  getNotification(id: string): Promise<NotificationRecord | undefined>;
  getDelivery(id: string): Promise<DeliveryRecord | undefined>;
  deliveriesOf(notificationId: string): Promise<DeliveryRecord[]>;
  deliveriesOfMany(notificationIds: readonly string[]): Promise<DeliveryRecord[]>;
  list(filter: DeliveryFilter): Promise<DeliveryRecord[]>;
  /** Notifications newest first matching `filter`: at most `limit` (the caller filters labels and asks again). */
  notifications(filter: NotificationFilter, limit: number): Promise<NotificationSummary[]>;
  attemptsOf(deliveryId: string): Promise<AttemptRecord[]>;
  attemptsOfNotification(notificationId: string): Promise<AttemptRecord[]>;

  /** Commit a fallback delivery (`fallbackOf` set) and mark its original as having one; undefined when it already has one (one fallback per original, also across restarts and replicas). */
  addFallback(delivery: NewDelivery): Promise<DeliveryRecord | undefined>;
  heldSince(target: string, before: number, limit: number): Promise<DeliveryRecord[]>;
  earliestHeld(target: string): Promise<number | undefined>;

  replay(filter: ReplayFilter, now: number): Promise<ReplayResult>;
  delete(id: string): Promise<boolean>;
  deleteMany(filter: BulkFilter): Promise<number>;
  hold(target: string, until: number): Promise<number>;
  release(target: string, now: number): Promise<number>;

  targetStats(): Promise<TargetQueueStats[]>;
  outcomeBuckets(since: number, bucketMs: number): Promise<OutcomeBucket[]>;
  stats(): Promise<QueueStats>;
  prune(before: number, now: number, limit?: number): Promise<number>;

  /** Correlation state (Slack ts, Rootly ids, re-post state, pause, dead man's switch): shared by every replica. */
  stateGet(key: string, now: number): Promise<string | undefined>;
  stateSet(key: string, value: string, expiresAt: number): Promise<void>;
  stateDelete(key: string): Promise<void>;
  /** The live rows whose key starts with `prefix` (a scan of the table: for a few rows now and then). */
  stateList(prefix: string, now: number): Promise<Array<{ key: string; value: string }>>;

  /**
   * Whether this replica runs `job` now: it holds the job's lock (taking it when free). SQLite: always true.
   * PostgreSQL: a session advisory lock, released when the replica stops or dies.
   */
  exclusive(job: ExclusiveJob): Promise<boolean>;

  /** Close: finish the writes it was given, give back leases and locks. */
  close(): Promise<void>;
}

/** One lane's dedup state as `migrate-storage` moves it. */
export interface DedupExport extends DedupState {
  receiver: string;
  groupKey: string;
  target: string;
  duplicates: number;
}

/**
 * A page of what must survive a move between backends (`alertmux migrate-storage`): pending and dead deliveries in
 * arrival order (their lanes' order) with their notifications and attempt history; with the first page, every
 * lane's dedup state and the unexpired correlation state (Slack ts, Rootly ids, re-post state, pauses, the dead
 * man's switch). Finished deliveries (delivered, skipped, superseded) are history, not moved.
 */
export interface LedgerExport {
  notifications: NotificationRecord[];
  deliveries: DeliveryRecord[];
  attempts: AttemptRecord[];
  dedup: DedupExport[];
  state: Array<{ key: string; value: string; expiresAt: number }>;
  /** The cursor of the next page (the last delivery's sequence number), absent on the last page. */
  next?: number;
}

/** What an import wrote: rows new to the destination (a row already there, by id or key, is left as it is). */
export interface ImportCounts {
  notifications: number;
  deliveries: number;
  attempts: number;
  dedup: number;
  state: number;
}

/** A backend that `migrate-storage` can copy into. */
export interface LedgerImport {
  /** Write an exported page in one transaction; rows already there are left as they are, so a re-run is safe. */
  importRecords(page: LedgerExport): Promise<ImportCounts>;
}
