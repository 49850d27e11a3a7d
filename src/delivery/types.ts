import type { DedupEntry, DedupState } from './dedup.js';

/** Where a delivery is in its life. `pending` covers both "due" and "waiting for a retry or a healthy target". */
export type DeliveryState = 'pending' | 'delivered' | 'dead' | 'skipped' | 'superseded';

/** Why a target was skipped without an attempt. */
export const SKIP_REASONS = ['disabled', 'filtered', 'unhealthy', 'degraded', 'circuit_open', 'duplicate', 'superseded', 'paused'] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/** A received notification as stored: the payload as Alertmanager sent it and as enriched. */
export interface NotificationRecord {
  id: string;
  key: string;
  receiver: string;
  groupKey: string;
  status: 'firing' | 'resolved';
  createdAt: number;
  /** JSON of the webhook payload as received. */
  original: string;
  /** JSON of the enriched payload. */
  enriched: string;
  /** The alerts' distinct alertnames and how many alerts (for the notification list); read from `original` when absent. */
  alertnames?: readonly string[];
  alertCount?: number;
}

/** One notification to one target. */
export interface DeliveryRecord {
  id: string;
  notificationId: string;
  target: string;
  targetType: string;
  groupKey: string;
  notificationKey: string;
  /** Arrival order; per target and group, deliveries go out in this order. */
  seq: number;
  state: DeliveryState;
  skipReason?: SkipReason;
  /** 0 critical, 1 error, 2 warning, 3 anything else: lower goes first. */
  priority: number;
  /** Indexes into the notification's alerts that this target selected. */
  alerts: number[];
  attempts: number;
  createdAt: number;
  updatedAt: number;
  nextAttemptAt?: number;
  lastStatus?: number;
  lastReason?: string;
  lastError?: string;
  retryable?: boolean;
  durationMs?: number;
  deliveredAt?: number;
  /** When an operator last replayed it (its retry budget and max_age count from here), if ever. */
  replayedAt?: number;
  /** `attempts` at that replay: the attempts of the current budget are `attempts - attemptsAtReplay`. */
  attemptsAtReplay?: number;
  /** On a fallback delivery: the id of the delivery it stands in for. */
  fallbackOf?: string;
  /** On a fallback delivery: the target of the delivery it stands in for. */
  fallbackFor?: string;
  /** On a fallback delivery: why it was sent. */
  fallbackReason?: FallbackReason;
  /** On a delivery whose target has a fallback: the id of the fallback delivery sent for it, once sent. */
  fallbackId?: string;
  /** Since when a delivery to a target with a fallback has been held by its target's breaker or health (then `fallback_after` counts). */
  heldSince?: number;
}

/** One attempt of a delivery, as the ledger keeps it (the attempt history; replay adds to it, never erases it). */
export interface AttemptRecord {
  deliveryId: string;
  notificationId: string;
  target: string;
  /** Its number among all the delivery's attempts (replays keep counting). */
  attempt: number;
  /** When it started (epoch ms). */
  at: number;
  /** Which alertmux process made it (host name unless overridden). */
  replica: string;
  durationMs?: number;
  statusCode?: number;
  reason?: string;
  /** An excerpt of the error, redacted as the delivery's lastError is. */
  error?: string;
  /** The delivery's state after it: delivered, pending (a retry is due at nextAttemptAt), dead, superseded. */
  outcome: DeliveryState;
  nextAttemptAt?: number;
  /** It was the breaker's half-open trial (an operator's trial included). */
  trial: boolean;
  /** It was the first attempt after an operator's replay. */
  replay: boolean;
}

/** Why a fallback delivery was sent: its original was dead-lettered, or held for `fallback_after`. */
export const FALLBACK_REASONS = ['dead', 'held'] as const;
export type FallbackReason = (typeof FALLBACK_REASONS)[number];

/** A delivery as created on accept (before it has an id-assigned sequence). */
export type NewDelivery = Omit<DeliveryRecord, 'seq' | 'updatedAt'>;

/** One notification with its deliveries, as committed together. */
export interface AcceptBatchItem {
  notification: NotificationRecord;
  deliveries: NewDelivery[];
  /** Ids being attempted right now in the lanes of these deliveries: never superseded under their feet. */
  inFlight?: readonly string[];
  /** Dedup (nflog's rule), decided inside the accept's transaction: two identical notifications cannot both pass. */
  dedup?: AcceptDedup;
}

/** The dedup part of an accept. */
export interface AcceptDedup {
  /** Per delivery (same order), its target's view of the notification; undefined for one that takes no part (disabled, nothing matched). */
  entries: ReadonlyArray<DedupEntry | undefined>;
  /** Start of `dedup.window`: states accepted before it are forgotten. */
  since: number;
  /** The claim vouched that none is a duplicate (their attempts may have started): only record the states. */
  claimed: boolean;
}

/**
 * What an accept stored: each delivery's sequence number, and which ones (indexes) were duplicates.
 * When every delivery that would go is a duplicate, nothing is stored (`stored: false`, sequence
 * numbers 0): the lanes' duplicate counters go up instead.
 */
export interface AcceptResult {
  seqs: number[];
  duplicates: number[];
  stored?: boolean;
  /**
   * Indexes of pending deliveries that must wait for another replica's attempt in their lane (a shared ledger
   * only): not leased to this replica, not attempted now; they stay pending and are claimed once the lane clears.
   */
  blocked?: number[];
}

/** Accepts and outcome updates committed in one transaction (group commit). */
export interface WriteBatch {
  accepts: readonly AcceptBatchItem[];
  updates: readonly DeliveryUpdate[];
}

/** What a batch did: what each accept stored, or why that accept failed. */
export interface WriteResult {
  accepted: Array<AcceptResult | { error: string; code?: string }>;
  /** Set when the updates could not be written (the accepts may still have committed). */
  updateError?: string;
  /** The SQLite error code of updateError (`SQLITE_FULL`, ...). */
  updateCode?: string;
  /** Ids of updates not applied: this replica's lease on them had expired and another replica took them. */
  lost?: string[];
}

/** Ids to leave out of a query (deliveries in flight). */
export interface IdFilter {
  has(id: string): boolean;
  readonly size: number;
}

/** What an attempt (or a skip) changes on a delivery. */
export interface DeliveryUpdate {
  id: string;
  state: DeliveryState;
  skipReason?: SkipReason | null;
  attempts: number;
  nextAttemptAt?: number | null;
  lastStatus?: number | null;
  lastReason?: string | null;
  lastError?: string | null;
  retryable?: boolean | null;
  durationMs?: number | null;
  deliveredAt?: number | null;
  /** Since when it has been held (fallback_after); never cleared by an update. */
  heldSince?: number | null;
  updatedAt: number;
  /**
   * Set when this update records an attempt (not a skip or a supersede): when the attempt started. The ledger
   * then adds a row to the attempt history in the same transaction.
   */
  attemptedAt?: number | null;
  /** That attempt was the breaker's half-open trial. */
  trial?: boolean;
  /** That attempt was the first after an operator's replay. */
  replay?: boolean;
}

/** Which deliveries a replay makes pending again: a bulk filter, limited to the configured targets. */
export interface ReplayFilter extends BulkFilter {
  /** Only deliveries of these targets (the configured ones); the others are reported, not replayed. */
  configured?: readonly string[];
}

/** What a replay did. */
export interface ReplayResult {
  /** The ids replayed. */
  ids: string[];
  /** Deliveries the filter matched whose target is not in `configured` (at most 100 listed), and how many in all. */
  unconfigured: Array<{ id: string; target: string }>;
  unconfiguredCount: number;
}

/** Filter of the operator API. Times are ms; `before` is a sequence number (the cursor: rows older than it). */
export interface DeliveryFilter {
  state?: DeliveryState;
  target?: string;
  notificationId?: string;
  /** Created at or after / at or before. */
  since?: number;
  until?: number;
  /** The last failure's reason (`serverError`, ...). */
  reason?: string;
  before?: number;
  limit?: number;
  /** Oldest first (default: newest first). */
  oldestFirst?: boolean;
}

/** Which deliveries a bulk replay or delete acts on. `state` defaults to dead; `ids` match dead and pending ones. */
export interface BulkFilter {
  ids?: readonly string[];
  target?: string;
  state?: 'dead' | 'pending';
  /** Created at or after (ms). */
  since?: number;
}

/** Outcome filter of the notification list (docs/api.md): `pending` is any notification with a delivery still queued. */
export type NotificationOutcome = 'delivered' | 'partial' | 'failed' | 'accepted' | 'pending';

/** Filter of the notification list. Times are ms; `before` is the cursor (the last row of the previous page). */
export interface NotificationFilter {
  alertname?: string;
  receiver?: string;
  groupKey?: string;
  status?: 'firing' | 'resolved';
  outcome?: NotificationOutcome;
  target?: string;
  since?: number;
  until?: number;
  before?: { createdAt: number; id: string };
}

/** A notification as the list shows it (no payload). */
export interface NotificationSummary {
  id: string;
  createdAt: number;
  receiver: string;
  groupKey: string;
  status: 'firing' | 'resolved';
  alerts: number;
  alertnames: string[];
}

/** Per target: deliveries waiting (pending) and dead-lettered, and the oldest pending one's creation time. */
export interface TargetQueueStats {
  target: string;
  pending: number;
  dead: number;
  oldestPendingAt?: number;
}

/** Notifications received since a time, counted by outcome (as of now) per bucket. */
export interface OutcomeBucket {
  /** Bucket index from the start. */
  bucket: number;
  delivered: number;
  partial: number;
  failed: number;
  accepted: number;
}

/** Queue depth for metrics: pending and dead deliveries (finished ones are not counted). */
export interface QueueStats {
  byStateAndPriority: Array<{ state: DeliveryState; priority: number; count: number }>;
  oldestPendingAt?: number;
}

/**
 * The durable ledger's storage. One implementation (SQLite) today; the interface
 * is what another backend would implement.
 */
export interface Store {
  /**
   * Commit a notification and its deliveries in one transaction; older pending deliveries of the same
   * target and group (not `inFlight`) become superseded; duplicates (`dedup`) are skipped and counted.
   */
  accept(notification: NotificationRecord, deliveries: NewDelivery[], inFlight: IdFilter, dedup?: AcceptDedup): DeliveryRecord[];
  /**
   * Note that an accept at `at` with these dedup entries is coming. True when none can be a duplicate
   * of what the ledger holds since `since` (the dedup window), so its first attempts may start while
   * it commits (then accept with `claimed`). False means "maybe": the commit decides; wait for it.
   */
  claimDedup(entries: ReadonlyArray<DedupEntry | undefined>, at: number, since: number): boolean;
  /** The dedup state of a lane, with how many duplicates it skipped (operator API, tests). */
  dedupState(receiver: string, groupKey: string, target: string): (DedupState & { duplicates: number }) | undefined;
  /**
   * Group commit: the accepts and updates in one transaction, off the main thread for a file ledger.
   * An accept that fails is retried alone, so it cannot fail the others. Resolves once committed.
   */
  write(batch: WriteBatch): Promise<WriteResult>;
  /** Apply attempt outcomes; many at once in one transaction. */
  update(updates: readonly DeliveryUpdate[]): void;
  /** Pending deliveries due at `now`, most urgent first. */
  due(now: number, limit: number, exclude: IdFilter): DeliveryRecord[];
  /** When the next pending delivery is due, if any. */
  nextDueAt(exclude: IdFilter): number | undefined;
  /** The newest sequence number of a target and group (for order and supersede). */
  latestSeq(target: string, groupKey: string): number | undefined;
  /** Make every waiting delivery of a target due now (it recovered): skipped ones and those in backoff. */
  wake(target: string, now: number): number;
  getNotification(id: string): NotificationRecord | undefined;
  getDelivery(id: string): DeliveryRecord | undefined;
  deliveriesOf(notificationId: string): DeliveryRecord[];
  list(filter: DeliveryFilter): DeliveryRecord[];
  /**
   * Commit a fallback delivery (`fallbackOf` set) and mark its original as having one, in one transaction.
   * Undefined when the original already has one: one fallback per original delivery, also across restarts.
   */
  addFallback(delivery: NewDelivery): Promise<DeliveryRecord | undefined>;
  /** Pending deliveries of `target` held since `before` or earlier that have no fallback yet, longest held first. */
  heldSince(target: string, before: number, limit: number): Promise<DeliveryRecord[]>;
  /** The earliest `heldSince` of a pending delivery of `target` without a fallback, if any. */
  earliestHeld(target: string): Promise<number | undefined>;
  /**
   * Make dead (or pending) deliveries pending and due now, with a fresh attempt budget counted from `now`;
   * their attempts, attempt history and createdAt are kept.
   */
  replay(filter: ReplayFilter, now: number): ReplayResult;
  /** The attempt history of a delivery, oldest first. */
  attemptsOf(deliveryId: string): AttemptRecord[];
  /** The attempt history of every delivery of a notification, oldest first. */
  attemptsOfNotification(notificationId: string): AttemptRecord[];
  delete(id: string): boolean;
  /** Delete the deliveries a bulk filter selects; returns how many. */
  deleteMany(filter: BulkFilter): number;
  /**
   * Notifications newest first (by arrival, then id) matching `filter`, read lazily: the caller stops when it has
   * enough (a label matcher is applied by the caller, on the payload).
   */
  notifications(filter: NotificationFilter): Iterable<NotificationSummary>;
  /** The deliveries of these notifications, in arrival order. */
  deliveriesOfMany(notificationIds: readonly string[]): DeliveryRecord[];
  /** Hold a paused target's pending deliveries (skip reason `paused`, due at `until`); returns how many. */
  hold(target: string, until: number): number;
  /** Release them: due now, in order; returns how many. */
  release(target: string, now: number): number;
  /** Queue depth, dead letters and oldest pending delivery per target. */
  targetStats(): TargetQueueStats[];
  /** Notifications created since `since`, counted by current outcome per `bucketMs` bucket (empty buckets left out). */
  outcomeBuckets(since: number, bucketMs: number): OutcomeBucket[];
  /**
   * Remove finished records older than `before`, and expired correlation state: at most `limit` rows of each
   * kind (all without one). Returns the number of rows removed.
   */
  prune(before: number, now: number, limit?: number): number;
  stats(): QueueStats;
  /** Correlation state: a small key-value table with expiry. */
  stateGet(key: string, now: number): string | undefined;
  stateSet(key: string, value: string, expiresAt: number): void;
  stateDelete(key: string): void;
  stateList(prefix: string, now: number): Array<{ key: string; value: string }>;
  /** Close the ledger (and its writer thread, after the writes it was given). */
  close(): Promise<void>;
}
