import type { Dispatcher } from '../dispatch/dispatcher.js';
import type { Runtime } from '../dispatch/runtime.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { WebhookMessage } from '../alerts/types.js';
import type { DeliveryRecord, Store } from './types.js';

/** Everything the retry worker needs. */
export interface WorkerDeps {
  store: Store;
  dispatcher: Dispatcher;
  runtime: () => Runtime;
  metrics: Metrics;
  logger: Logger;
  now: () => number;
}

const MAX_SLEEP = 30_000;
const PRUNE_EVERY = 3600_000;

/**
 * Attempts pending deliveries when they are due, most urgent first (priority by
 * severity, then due time). It reads the ledger, so what was pending when
 * alertmux stopped or crashed resumes at start.
 */
export class RetryWorker {
  private timer?: NodeJS.Timeout;
  private pruneTimer?: NodeJS.Timeout;
  private running = false;
  private stopped = true;
  private active = 0;
  private readonly messages = new Map<string, { original: WebhookMessage; enriched: WebhookMessage }>();

  constructor(private readonly deps: WorkerDeps) {}

  start(): void {
    this.stopped = false;
    this.prune();
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
      const room = rt.config.dispatch.max_concurrency * 2 - this.active;
      if (room > 0) {
        for (const record of this.deps.store.due(this.deps.now(), room, this.deps.dispatcher.busy)) this.start1(record, rt);
      }
      const next = this.deps.store.nextDueAt(this.deps.dispatcher.busy);
      if (next !== undefined && this.active < rt.config.dispatch.max_concurrency * 2) this.schedule(next - this.deps.now());
      else this.schedule(MAX_SLEEP);
    } catch (err) {
      this.deps.logger.error('retry worker pass failed', { error: String(err) });
      this.schedule(1000);
    } finally {
      this.running = false;
    }
  }

  private start1(record: DeliveryRecord, rt: Runtime): void {
    const target = rt.targets.get(record.target);
    const message = target && this.message(record);
    if (!target || !message) {
      const why = target ? 'its notification is gone from the ledger' : `target "${record.target}" is no longer configured`;
      this.deps.store.update([
        { id: record.id, state: 'dead', attempts: record.attempts, lastReason: 'other', lastError: why, retryable: false, nextAttemptAt: null, updatedAt: this.deps.now() },
      ]);
      this.deps.metrics.deadLetters.inc({ target: record.target, reason: 'other' });
      this.deps.logger.warn('delivery dead-lettered', { target: record.target, deliveryId: record.id, why });
      return;
    }
    this.active++;
    void this.deps.dispatcher.retry(record, message, target).finally(() => {
      this.active--;
      this.wake();
    });
  }

  private message(record: DeliveryRecord) {
    let parsed = this.messages.get(record.notificationId);
    if (!parsed) {
      const n = this.deps.store.getNotification(record.notificationId);
      if (!n) return undefined;
      parsed = { original: JSON.parse(n.original) as WebhookMessage, enriched: JSON.parse(n.enriched) as WebhookMessage };
      // A small cache: retries of one notification to several targets parse it once.
      if (this.messages.size >= 500) this.messages.delete(this.messages.keys().next().value as string);
      this.messages.set(record.notificationId, parsed);
    }
    return this.deps.dispatcher.targetMessage(parsed.original, parsed.enriched, record.alerts);
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

  /** Drop finished records past retention and expired correlation state, hourly. */
  private prune(): void {
    try {
      const rt = this.deps.runtime();
      const removed = this.deps.store.prune(this.deps.now() - rt.config.storage.retention, this.deps.now());
      if (removed) this.deps.logger.info('pruned finished deliveries', { removed });
    } catch (err) {
      this.deps.logger.error('pruning the ledger failed', { error: String(err) });
    }
    if (this.stopped) return;
    this.pruneTimer = setTimeout(() => this.prune(), PRUNE_EVERY);
    this.pruneTimer.unref();
  }
}
