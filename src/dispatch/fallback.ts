import { uuidv7 } from '../delivery/ids.js';
import type { WebhookMessage } from '../alerts/types.js';
import type { HealthStrategy } from '../config/types.js';
import type { Ledger } from '../delivery/ledger.js';
import type { DeliveryRecord, FallbackReason, NewDelivery, SkipReason } from '../delivery/types.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { TargetConfig } from '../config/target.js';
import type { Runtime, TargetRuntime } from './runtime.js';

/** Everything fallback sending needs. */
export interface FallbacksDeps {
  store: Ledger;
  metrics: Metrics;
  logger: Logger;
  runtime: () => Runtime;
  now: () => number;
}

/** The schema's default of `fallback_after`, for a target built without the schema. */
const DEFAULT_FALLBACK_AFTER = 5 * 60_000;
/** Held deliveries of one target given a fallback in one sweep at most; the rest go in the next one, at once. */
export const SWEEP_BATCH = 100;
/** Longest time between two sweeps, whatever is known to be due (a reload may shorten a `fallback_after`). */
export const MAX_SWEEP_GAP = 30_000;
/** Shortest time between two sweeps while something held is still due. */
export const MIN_SWEEP_GAP = 1_000;
/** How soon a fallback the ledger could not write is tried again. */
export const OWED_RETRY = 5_000;

/** How long a delivery to `target` may be held before it also goes to its fallback. */
export function fallbackAfter(target: TargetConfig): number {
  return target.fallback_after ?? DEFAULT_FALLBACK_AFTER;
}

/** Whether a target holds its deliveries back now: breaker not closed, or a health state the strategy skips. */
export function isHolding(target: TargetRuntime, strategy: HealthStrategy): boolean {
  if (strategy === 'publish_to_all') return false;
  if (target.breaker.state !== 'closed') return true;
  const health = target.health.status;
  return health === 'unhealthy' || (health === 'degraded' && strategy === 'skip_unhealthy_and_degraded');
}

/**
 * Fallback targets: a delivery to a target with `fallback` that is dead-lettered, or
 * held by its target's breaker or health for `fallback_after`, also goes to the
 * fallback target, once. The fallback is an ordinary durable delivery of that target
 * (retries, dead letters, its breaker and health), committed with a mark on its
 * original, so a restart neither sends it twice nor loses it. The original keeps its
 * own state: a held one may still be delivered later ("page someone else too").
 */
export class Fallbacks {
  /** Per target, since when its current hold began: its first delivery held since it last answered. */
  private readonly holds = new Map<string, number>();
  /** Originals whose fallback the ledger could not write: tried again at each sweep. */
  private readonly owed = new Map<string, { record: DeliveryRecord; reason: FallbackReason }>();
  /** The fallback delivery created for an original record (the dispatch result shows it). */
  private readonly created = new WeakMap<DeliveryRecord, DeliveryRecord>();
  private nextSweepAt = 0;

  constructor(private readonly deps: FallbacksDeps) {}

  /** When the next sweep is due (epoch ms). */
  get dueAt(): number {
    return this.nextSweepAt;
  }

  /**
   * `record` is held by its target now: it counts as held since the start of the target's current hold (or its own
   * earlier one), so a newer notification of the group that supersedes a held one inherits the wait, not restarts it.
   */
  held(record: DeliveryRecord, target: TargetConfig): void {
    if (target.fallback === undefined || record.fallbackId !== undefined) return;
    let since = this.holds.get(target.name);
    if (since === undefined) this.holds.set(target.name, (since = this.deps.now()));
    record.heldSince = Math.min(record.heldSince ?? since, since);
    this.nextSweepAt = Math.min(this.nextSweepAt, record.heldSince + fallbackAfter(target));
  }

  /** The target answered (delivered, or refused for good): its hold is over. */
  reached(target: string): void {
    if (this.holds.size) this.holds.delete(target);
  }

  /** The fallback delivery created for `original` by this process, if any. */
  of(original: DeliveryRecord): DeliveryRecord | undefined {
    return this.created.get(original);
  }

  /** `record` was dead-lettered: send it to its target's fallback, if it has one and has not had it. */
  async afterDead(record: DeliveryRecord): Promise<DeliveryRecord | undefined> {
    if (record.fallbackId !== undefined || this.deps.runtime().targets.get(record.target)?.config.fallback === undefined) return undefined;
    return this.send(record, 'dead');
  }

  /**
   * Give a fallback to every delivery held for its target's `fallback_after` by a target that still holds it (one
   * whose breaker closed meanwhile is about to deliver its own). Returns the fallback deliveries created.
   */
  async sweep(): Promise<DeliveryRecord[]> {
    const now = this.deps.now();
    const rt = this.deps.runtime();
    const created: DeliveryRecord[] = [];
    for (const { record, reason } of [...this.owed.values()]) {
      this.owed.delete(record.id);
      const sent = await this.send(record, reason);
      if (sent) created.push(sent);
    }
    let next = now + MAX_SWEEP_GAP;
    for (const target of rt.targets.values()) {
      if (target.config.fallback === undefined || !isHolding(target, rt.config.dispatch.health_strategy)) continue;
      const after = fallbackAfter(target.config);
      const due = await this.deps.store.heldSince(target.config.name, now - after, SWEEP_BATCH);
      for (const record of due) {
        const sent = await this.send(record, 'held');
        if (sent) created.push(sent);
      }
      const earliest = due.length === SWEEP_BATCH ? now : await this.deps.store.earliestHeld(target.config.name);
      // Still due now (a full batch, or one that could not be given its fallback): soon, but never a busy loop.
      if (earliest !== undefined) next = Math.min(next, earliest + after > now ? earliest + after : now + MIN_SWEEP_GAP);
    }
    this.nextSweepAt = this.owed.size ? Math.min(next, now + OWED_RETRY) : next;
    return created;
  }

  /** Commit the fallback delivery of `original` (skipped when the fallback target is disabled or wants none of it). */
  private async send(original: DeliveryRecord, reason: FallbackReason): Promise<DeliveryRecord | undefined> {
    const { store, logger, metrics } = this.deps;
    const rt = this.deps.runtime();
    const name = rt.targets.get(original.target)?.config.fallback;
    const fallback = name === undefined ? undefined : rt.targets.get(name);
    if (!fallback) return undefined;
    let message: WebhookMessage;
    try {
      const notification = await store.getNotification(original.notificationId);
      if (!notification) return undefined;
      message = JSON.parse(notification.original) as WebhookMessage;
    } catch (err) {
      // Not owed again: a notification the ledger cannot give back would fail the same way at every sweep.
      logger.error('fallback not sent: its notification cannot be read from the ledger', { target: original.target, deliveryId: original.id, error: rt.redact(String(err)) });
      return undefined;
    }
    // The fallback was chosen explicitly: its `match` does not apply, but it gets resolved alerts only if it wants them.
    const alerts = fallback.config.send_resolved ? original.alerts : original.alerts.filter((i) => message.alerts[i]?.status === 'firing');
    const skip: SkipReason | undefined = !fallback.config.enabled ? 'disabled' : alerts.length === 0 ? 'filtered' : undefined;
    const now = this.deps.now();
    const delivery: NewDelivery = {
      id: `d_${uuidv7(now)}`,
      notificationId: original.notificationId,
      target: fallback.config.name,
      targetType: fallback.config.type,
      groupKey: original.groupKey,
      notificationKey: original.notificationKey,
      state: skip ? 'skipped' : 'pending',
      skipReason: skip,
      priority: original.priority,
      alerts,
      attempts: 0,
      createdAt: now,
      nextAttemptAt: skip ? undefined : now,
      fallbackOf: original.id,
      fallbackFor: original.target,
      fallbackReason: reason,
    };
    let stored: DeliveryRecord | undefined;
    try {
      stored = await store.addFallback(delivery);
    } catch (err) {
      this.owed.set(original.id, { record: original, reason });
      this.nextSweepAt = Math.min(this.nextSweepAt, now + OWED_RETRY);
      logger.error('fallback delivery could not be recorded; trying again', { target: original.target, fallback: fallback.config.name, deliveryId: original.id, error: rt.redact(String(err)) });
      return undefined;
    }
    // Already sent (by this process before a restart, or a sweep racing the dead letter): never twice.
    if (!stored) return undefined;
    original.fallbackId = stored.id;
    this.created.set(original, stored);
    const fields = {
      target: original.target,
      fallback: fallback.config.name,
      alertname: alertnameOf(message, alerts.length ? alerts : original.alerts),
      notificationId: original.notificationId,
      deliveryId: original.id,
      fallbackDeliveryId: stored.id,
      why: reason === 'dead' ? `dead-lettered (${original.lastReason ?? 'failed'})` : `held ${original.skipReason ?? 'by its target'} since ${new Date(original.heldSince ?? now).toISOString()}`,
    };
    if (skip) {
      logger.warn(`fallback not sent: the fallback target is ${skip === 'disabled' ? 'disabled' : 'sent no resolved alerts'}`, fields);
      return stored;
    }
    metrics.fallbacks.inc({ target: original.target, fallback: fallback.config.name, reason });
    logger.warn('fallback sent', fields);
    return stored;
  }
}

/** The alertname of the group (or of its first alert), for the log line. */
function alertnameOf(message: WebhookMessage, alerts: readonly number[]): string | undefined {
  return message.commonLabels?.['alertname'] ?? message.alerts[alerts[0] ?? 0]?.labels['alertname'];
}
