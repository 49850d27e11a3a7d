import { alertnameOf } from '../alerts/common.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { TargetMessage, WebhookMessage } from '../alerts/types.js';
import type { Config } from '../config/types.js';
import type { LedgerRecovery } from './ledger-recovery.js';
import { eitherFilter, withOutcome } from './settled.js';
import type { ExclusiveJob, Ledger } from './ledger.js';
import type { DeliveryRecord, IdFilter } from './types.js';

/**
 * What the worker asks of the dispatcher, which makes every attempt (dispatch's `Dispatcher` is one).
 * Declared here, where it is used, so that delivery does not depend on dispatch. `T` is a configured target.
 */
export interface Retrier<T> {
  /** Deliveries in flight or queued in a lane: not the worker's to pick. */
  readonly busy: IdFilter;
  /** Outcomes the ledger has not written yet. */
  readonly ledger: LedgerRecovery;
  /** Deliveries held past their target's `fallback_after`: swept for their fallback when due. */
  readonly fallbacks: { readonly dueAt: number; sweep(): Promise<unknown> };
  /** Wait until every outcome so far is written to the ledger. */
  flush(): Promise<void>;
  /** Attempt one pending delivery again. */
  retry(record: DeliveryRecord, message: TargetMessage, target: T): Promise<unknown>;
  /** Attempt one delivery now, past the gate (an operator's replay or trial; `trial`: the caller took the breaker trial). */
  attemptNow(record: DeliveryRecord, message: TargetMessage, target: T, trial: boolean): Promise<DeliveryRecord>;
  /** The message a target gets: the enriched group cut to the record's alerts. */
  targetMessage(original: WebhookMessage, enriched: WebhookMessage, alerts: readonly number[]): TargetMessage;
}

/** The part of the current runtime the worker reads: the config, and the targets by name. */
export interface WorkerRuntime<T> {
  readonly config: Config;
  readonly targets: ReadonlyMap<string, T>;
}

/** Everything the retry worker needs. */
export interface WorkerDeps<T = unknown> {
  store: Ledger;
  /** Whether this replica runs a job that must run once (retention pruning); default: the ledger's `exclusive`. */
  exclusive?: (job: ExclusiveJob) => Promise<boolean>;
  dispatcher: Retrier<T>;
  runtime: () => WorkerRuntime<T>;
  metrics: Metrics;
  logger: Logger;
  now: () => number;
}

const MAX_SLEEP = 30_000;
/** Retention pruning: a few small batches every few minutes, each a short transaction, never one long delete. */
export const PRUNE_EVERY = 5 * 60_000;
export const PRUNE_BATCH = 500;
/** Most batches in one round; what is left goes in the next round. */
export const PRUNE_MAX_BATCHES = 40;

/**
 * Attempts pending deliveries when they are due, most urgent first (priority by
 * severity, then due time). It reads the ledger, so what was pending when
 * alertmux stopped or crashed resumes at start.
 */
export class RetryWorker<T = unknown> {
  private timer?: NodeJS.Timeout;
  private pruneTimer?: NodeJS.Timeout;
  private running = false;
  private stopped = true;
  private active = 0;
  /** Passes failed in a row (the ledger could not be read). */
  private failedPasses = 0;
  private readonly messages = new Map<string, { original: WebhookMessage; enriched: WebhookMessage }>();
  /** Deliveries an operator attempts now whose notification is being read (then the dispatcher holds them busy). */
  private readonly starting = new Set<string>();
  /** Deliveries whose ledger row is not theirs to take: in flight, or with an outcome the ledger could not write yet. */
  private readonly exclude: IdFilter;
  /** Deliveries in flight, waiting in a lane or about to start (an operator's attempt now must not start another). */
  readonly reserved: IdFilter;

  constructor(private readonly deps: WorkerDeps<T>) {
    this.reserved = eitherFilter(deps.dispatcher.busy, this.starting);
    this.exclude = eitherFilter(this.reserved, deps.dispatcher.ledger.unwritten);
  }

  start(): void {
    this.stopped = false;
    // The first round soon after start, off the start's path.
    this.schedulePrune(1000);
    this.wake();
  }

  /** Look for due work now (after an accept, a replay, or a target's recovery). */
  wake(): void {
    if (this.stopped) return;
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.pruneTimer);
    this.timer = undefined;
    this.pruneTimer = undefined;
  }

  /** One pass: start every due delivery there is room for, then sleep until the next is due. */
  async tick(): Promise<void> {
    this.timer = undefined;
    if (this.stopped || this.running) return;
    this.running = true;
    try {
      // Outcomes are written in batches; read the ledger only after the last batch is in.
      await this.deps.dispatcher.flush();
      if (this.stopped) return;
      const rt = this.deps.runtime();
      // Deliveries held past their target's fallback_after get their fallback delivery first: it is due now, below.
      const { fallbacks } = this.deps.dispatcher;
      if (fallbacks.dueAt <= this.deps.now()) await fallbacks.sweep();
      const room = rt.config.dispatch.max_concurrency * 2 - this.active;
      if (room > 0) {
        const owed = await this.unwrittenDue(room);
        // Leased to this replica by the claim (no more than there is room for): each starts below.
        const claimed = owed.length < room ? await this.deps.store.claim(this.deps.now(), room - owed.length, this.exclude) : [];
        const records = [...owed, ...claimed];
        await Promise.all(records.map((record) => this.start1(record, rt)));
      }
      const next = earliest(await this.deps.store.nextDueAt(this.exclude), this.deps.dispatcher.ledger.unwritten.nextDueAt(this.deps.dispatcher.busy));
      if (next !== undefined && this.active < rt.config.dispatch.max_concurrency * 2) this.schedule(Math.min(next, fallbacks.dueAt) - this.deps.now());
      else this.schedule(Math.min(MAX_SLEEP, fallbacks.dueAt - this.deps.now()));
      this.failedPasses = 0;
    } catch (err) {
      // A ledger that cannot be read: try again after 1 s, doubling up to MAX_SLEEP, so a broken file is no hot loop.
      const retryInMs = Math.min(MAX_SLEEP, 1000 * 2 ** this.failedPasses++);
      const code = (err as { code?: unknown } | undefined)?.code;
      this.deps.logger.error('retry worker pass failed', { error: String(err), code: typeof code === 'string' ? code : undefined, retryInMs });
      this.schedule(retryInMs);
    } finally {
      this.running = false;
    }
  }

  /**
   * Retries owed by outcomes the ledger could not write: their rows are stale, so they are
   * retried from the outcome kept in memory, with its attempts counted.
   */
  private async unwrittenDue(limit: number): Promise<DeliveryRecord[]> {
    const { dispatcher, store } = this.deps;
    const records: DeliveryRecord[] = [];
    for (const u of dispatcher.ledger.unwritten.due(this.deps.now(), dispatcher.busy).slice(0, limit)) {
      const row = await store.getDelivery(u.id);
      if (row) records.push(withOutcome(row, u));
    }
    return records;
  }

  private async start1(record: DeliveryRecord, rt: WorkerRuntime<T>): Promise<void> {
    const target = rt.targets.get(record.target);
    this.starting.add(record.id);
    let message: TargetMessage | undefined;
    try {
      message = target && (await this.message(record));
    } finally {
      this.starting.delete(record.id);
    }
    if (!target || !message) {
      const why = target ? 'its notification is gone from the ledger' : `target "${record.target}" is no longer configured`;
      const update = { id: record.id, state: 'dead' as const, attempts: record.attempts, lastReason: 'other', lastError: why, retryable: false, nextAttemptAt: null, updatedAt: this.deps.now() };
      const { ledger } = this.deps.dispatcher;
      ledger.unwritten.replace(update);
      try {
        const written = await this.deps.store.write({ accepts: [], updates: [update] });
        if (written.updateError) throw new Error(written.updateError);
        if (written.lost?.length) ledger.lost([update]);
        else ledger.written([update]);
      } catch (err) {
        // Kept as settled like an attempt's outcome: not picked again while the ledger cannot write it.
        ledger.failed(err instanceof Error ? err : new Error(String(err)), [update]);
      }
      this.deps.metrics.deadLetters.inc({ target: record.target, reason: 'other' });
      const parsed = target ? undefined : await this.parsed(record.notificationId).catch(() => undefined);
      this.deps.logger.warn('delivery dead-lettered', {
        target: record.target,
        alertname: parsed && alertnameOf(parsed.original),
        notificationId: record.notificationId,
        deliveryId: record.id,
        attempts: record.attempts,
        reason: 'other',
        why,
      });
      return;
    }
    this.active++;
    void this.deps.dispatcher.retry(record, message, target).finally(() => {
      this.active--;
      this.wake();
    });
  }

  /**
   * Attempt `record` now, outside its schedule and past the gate (an operator's replay or trial; `trial`: the
   * caller took its target's breaker trial). Undefined when its notification is gone from the ledger.
   */
  async attemptNow(record: DeliveryRecord, target: T, trial: boolean): Promise<DeliveryRecord | undefined> {
    // Reserved while its notification is read: the worker's claim and another operator's attempt leave it alone.
    this.starting.add(record.id);
    let message: TargetMessage | undefined;
    try {
      message = await this.message(record);
    } finally {
      this.starting.delete(record.id);
    }
    if (!message) return undefined;
    this.active++;
    return this.deps.dispatcher.attemptNow(record, message, target, trial).finally(() => {
      this.active--;
      this.wake();
    });
  }

  private async message(record: DeliveryRecord): Promise<TargetMessage | undefined> {
    const parsed = await this.parsed(record.notificationId);
    return parsed && this.deps.dispatcher.targetMessage(parsed.original, parsed.enriched, record.alerts);
  }

  private async parsed(notificationId: string): Promise<{ original: WebhookMessage; enriched: WebhookMessage } | undefined> {
    let parsed = this.messages.get(notificationId);
    if (!parsed) {
      const n = await this.deps.store.getNotification(notificationId);
      if (!n) return undefined;
      parsed = { original: JSON.parse(n.original) as WebhookMessage, enriched: JSON.parse(n.enriched) as WebhookMessage };
      // A small cache: retries of one notification to several targets parse it once.
      if (this.messages.size >= 500) this.messages.delete(this.messages.keys().next().value as string);
      this.messages.set(notificationId, parsed);
    }
    return parsed;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    const delay = Math.max(0, Math.min(MAX_SLEEP, delayMs));
    if (this.timer) {
      if (delay > 0) return; // already scheduled; wake() (delay 0) replaces it below
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => void this.tick(), delay);
    this.timer.unref();
  }

  /**
   * Drop finished records past retention and expired correlation state: every PRUNE_EVERY, in batches of
   * PRUNE_BATCH rows, each its own short transaction with the event loop free between them, so a large
   * backlog (after a retention change, or a long stop) never holds the ledger for one long delete.
   */
  async prune(): Promise<number> {
    this.pruneTimer = undefined;
    let removed = 0;
    try {
      // On a shared ledger one replica prunes at a time; the others look again at their next round.
      const exclusive = this.deps.exclusive ?? ((job: ExclusiveJob) => this.deps.store.exclusive(job));
      if (!(await exclusive('prune'))) {
        this.schedulePrune(PRUNE_EVERY);
        return 0;
      }
      for (let batch = 0; batch < PRUNE_MAX_BATCHES && !this.stopped; batch++) {
        const now = this.deps.now();
        const n = await this.deps.store.prune(now - this.deps.runtime().config.storage.retention, now, PRUNE_BATCH);
        removed += n;
        if (n === 0) break;
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (removed) this.deps.logger.info('pruned finished records', { removed });
    } catch (err) {
      this.deps.logger.error('pruning the ledger failed', { error: String(err) });
    }
    this.schedulePrune(PRUNE_EVERY);
    return removed;
  }

  private schedulePrune(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.pruneTimer);
    this.pruneTimer = setTimeout(() => void this.prune(), delayMs);
    this.pruneTimer.unref();
  }
}

function earliest(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}
