import { alertnameOf } from '../alerts/common.js';
import { afterFailure } from '../delivery/backoff.js';
import type { TargetMessage } from '../alerts/types.js';
import type { Ledger } from '../delivery/ledger.js';
import type { DeliveryRecord, DeliveryState, DeliveryUpdate, SkipReason } from '../delivery/types.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { Outcome } from '../publishers/publisher.js';
import type { Runtime, TargetRuntime } from './runtime.js';

/** What the attempt history records of an attempt besides its outcome. */
export interface AttemptMeta {
  /** When it started (the clock's time). */
  at: number;
  trial: boolean;
  replay: boolean;
}

/** Everything settling needs from outside. */
export interface SettleDeps {
  metrics: Metrics;
  logger: Logger;
  now: () => number;
  random: () => number;
  /** The current runtime: its retry policy and redaction. */
  runtime: () => Pick<Runtime, 'config' | 'redact'>;
  /** Asked whether a newer notification of a failed delivery's group arrived before it waits for a retry. */
  store: Pick<Ledger, 'latestSeq'>;
  /** Queue the ledger write of a delivery's new state. */
  write: (update: DeliveryUpdate) => void;
  /** The target answered (anything but a retryable failure): what it held waits no longer for a fallback. */
  reached: (target: string) => void;
  /** Aborted when the dispatcher stops: an outcome then is the shutdown's, not the target's. */
  stopping: AbortSignal;
}

/** What settling records on a target: breaker, health, recent outcomes, delivered count. */
export type SettledTarget = Pick<TargetRuntime, 'breaker' | 'health' | 'status' | 'meters'>;

/**
 * Turns an attempt's outcome into the delivery's new state: delivered, pending with its next attempt, dead,
 * or superseded; records it on the target's breaker and health; logs and counts it; queues the ledger write.
 */
export class Settler {
  constructor(private readonly deps: SettleDeps) {}

  /** Synchronous but for a retry that would wait (it asks the ledger first): a delivered outcome costs no await. */
  settle(
    record: DeliveryRecord,
    target: SettledTarget,
    message: TargetMessage,
    outcome: Outcome,
    attempts: number,
    durationMs: number,
    meta: AttemptMeta,
  ): DeliveryRecord | Promise<DeliveryRecord> {
    const { metrics, logger, now: clock } = this.deps;
    const rt = this.deps.runtime();
    const now = clock();
    const stopped = this.deps.stopping.aborted;
    const targetFailed = !outcome.ok && outcome.retryable;
    if (!stopped) {
      if (!targetFailed) this.deps.reached(record.target);
      target.breaker.record(!targetFailed);
      target.health.record(!targetFailed, durationMs, outcome.ok ? undefined : rt.redact(outcome.message));
      target.status.recent.add(now, outcome.ok, durationMs);
    } else target.breaker.release();
    record.attempts = attempts;
    record.durationMs = durationMs;
    record.lastStatus = outcome.status;

    const alertname = alertnameOf(message.message);
    if (outcome.ok) {
      target.meters.delivered.inc();
      // After retries, a state change an SRE wants to see (the target got it in the end); a first-time success is routine.
      const level = attempts > 1 ? 'info' : 'debug';
      if (logger.isLevelEnabled(level)) {
        logger[level](attempts > 1 ? 'delivered after retries' : 'delivered', {
          target: record.target,
          type: record.targetType,
          alertname,
          notificationId: record.notificationId,
          deliveryId: record.id,
          attempts,
          statusCode: outcome.status,
          durationMs: Math.round(durationMs),
        });
      }
      record.lastReason = undefined;
      record.lastError = undefined;
      record.retryable = undefined;
      record.deliveredAt = now;
      return this.apply(record, 'delivered', undefined, undefined, meta);
    }
    const error = rt.redact(outcome.message);
    record.lastReason = outcome.reason;
    record.lastError = error;
    record.retryable = outcome.retryable;
    const labels = { target: record.target, type: record.targetType };
    metrics.notificationsFailed.inc({ ...labels, reason: outcome.reason });
    if (stopped) return this.apply(record, 'pending', undefined, now, meta);
    // A replay gives a fresh budget: max_attempts and max_age count from it (attempts and createdAt stay the history's).
    const budgetAttempts = attempts - (record.attemptsAtReplay ?? 0);
    const next = afterFailure(outcome, budgetAttempts, record.replayedAt ?? record.createdAt, now, rt.config.retry, this.deps.random);
    const failure = { ...labels, alertname, notificationId: record.notificationId, deliveryId: record.id, attempts, reason: outcome.reason, error };
    if (next.state === 'dead') {
      metrics.deadLetters.inc({ target: record.target, reason: outcome.reason });
      logger.warn('delivery dead-lettered', { ...failure, why: next.why });
      return this.apply(record, 'dead', undefined, undefined, meta);
    }
    const retryLater = () => {
      logger.warn('delivery failed; will retry', { ...failure, nextAttemptAt: new Date(next.nextAttemptAt).toISOString() });
      return this.apply(record, 'pending', undefined, next.nextAttemptAt, meta);
    };
    if (record.fallbackOf !== undefined) return retryLater();
    // A retry that would wait first asks the ledger whether a newer notification of its group superseded it.
    return this.deps.store
      .latestSeq(record.target, record.groupKey)
      .then((latest) => ((latest ?? 0) > record.seq ? this.apply(record, 'superseded', 'superseded', undefined, meta) : retryLater()));
  }

  /**
   * Give a delivery its new state (with a skip reason and due time, or neither), and queue the
   * ledger write of the whole record. The caller set what the attempt found on the record first.
   * Records and updates each keep one V8 shape: this runs once per attempt.
   */
  apply(record: DeliveryRecord, state: DeliveryState, skipReason?: SkipReason, nextAttemptAt?: number, attempt?: AttemptMeta): DeliveryRecord {
    record.state = state;
    record.skipReason = skipReason;
    record.nextAttemptAt = nextAttemptAt;
    record.updatedAt = this.deps.now();
    const update: DeliveryUpdate = {
      id: record.id,
      state,
      skipReason: skipReason ?? null,
      attempts: record.attempts,
      nextAttemptAt: nextAttemptAt ?? null,
      lastStatus: record.lastStatus ?? null,
      lastReason: record.lastReason ?? null,
      lastError: record.lastError ?? null,
      retryable: record.retryable ?? null,
      durationMs: record.durationMs ?? null,
      deliveredAt: record.deliveredAt ?? null,
      heldSince: record.heldSince ?? null,
      updatedAt: record.updatedAt,
      // Set when an attempt was made: the ledger adds it to the attempt history in the same transaction.
      attemptedAt: attempt ? attempt.at : null,
      trial: attempt ? attempt.trial : false,
      replay: attempt ? attempt.replay : false,
    };
    this.deps.write(update);
    return record;
  }
}
