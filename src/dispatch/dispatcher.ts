import { performance } from 'node:perf_hooks';
import { alertnameOf, withAlerts } from '../alerts/common.js';
import { messageJson } from '../alerts/json.js';
import { notificationKey } from '../alerts/fingerprint.js';
import { afterFailure, priorityOf } from '../delivery/backoff.js';
import { uuidv7 } from '../delivery/ids.js';
import { LedgerRecovery } from '../delivery/ledger-recovery.js';
import { storedDeliveries, type StoredDeliveries } from '../delivery/records.js';
import { StorageError } from '../delivery/storage-error.js';
import { LedgerWriter } from '../delivery/writer.js';
import { BusyDeliveries } from './busy.js';
import { dedupEntry, fingerprintsOf } from './dedup-entries.js';
import { Deadlines } from './deadlines.js';
import { Fallbacks } from './fallback.js';
import { Limiter } from './limiter.js';
import { matchesAll, routeLabels } from '../matchers/matchers.js';
import { summarize, targetResult, type DispatchResult } from './result.js';
import { PAUSED_UNTIL } from './target-status.js';
import type { Alert, TargetMessage, WebhookMessage } from '../alerts/types.js';
import type { HealthStrategy } from '../config/types.js';
import type { Ledger } from '../delivery/ledger.js';
import type { DeliveryRecord, DeliveryState, DeliveryUpdate, NewDelivery, NotificationRecord, SkipReason } from '../delivery/types.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { Outcome } from '../publishers/publisher.js';
import type { Runtime, TargetRuntime } from './runtime.js';

/** Everything the dispatcher needs from outside. */
export interface DispatcherDeps {
  store: Ledger;
  metrics: Metrics;
  logger: Logger;
  /** The current runtime (config, targets); read once per dispatch, so one dispatch sees one config. */
  runtime: () => Runtime;
  now: () => number;
  random: () => number;
}

/** Per-call options of a dispatch. */
export interface DispatchOptions {
  /** Restrict to these target names (already checked to exist). */
  targets?: readonly string[];
  /** Override the config's health strategy (publish API). */
  strategy?: HealthStrategy;
  /** Every alert goes to the named `targets` whatever their `match` and `match_route` (the dead man's switch's page). */
  ignoreMatchers?: boolean;
}

/**
 * Whether an attempt is a notification's first (health-aware skip), a retry by the worker, or an operator's
 * attempt now (a replay's trial, `POST /targets/:name/try`), which passes the gate: the caller took the trial.
 */
type Mode = 'first' | 'retry' | 'now';

/** What the attempt history records of an attempt besides its outcome. */
interface AttemptMeta {
  /** When it started (the clock's time). */
  at: number;
  trial: boolean;
  replay: boolean;
}

/**
 * Fans a notification out to every selected target at once, through the
 * durable ledger: accept (one transaction), then one attempt per target under
 * a global concurrency cap, with per-target order, breakers and health skips.
 * Never rejects for a target's failure; every selected target appears exactly once.
 */
export class Dispatcher {
  private readonly limiter: Limiter;
  private readonly writer: LedgerWriter;
  /** Whether the ledger commits (readiness), and the outcomes it could not write, kept as settled until it does. */
  readonly ledger: LedgerRecovery;
  /** Deliveries being attempted or waiting for their turn in a lane: the worker must not pick them. */
  readonly busy = new BusyDeliveries();
  /** Per lane, the last delivery queued in it (the next one waits for it). */
  private readonly lanes = new Map<string, { tail: Promise<unknown>; id: string }>();
  private readonly attemptsInFlight = new Map<string, number>();
  /** Per target, the slots its retries may hold at once: a recovered target's backlog leaves room for the others. */
  private readonly retrySlots = new Map<string, Limiter>();
  /** Deliveries running or waiting in a lane, by id. */
  private readonly background = new Map<string, Promise<unknown>>();
  private readonly stopping = new AbortController();
  /** The attempts' timeouts, aborted together on close. */
  private readonly deadlines = new Deadlines();
  private readonly idleWaiters: Array<() => void> = [];
  /** Deliveries an operator sent as their target's breaker trial (attemptNow), until their attempt starts. */
  private readonly trials = new Set<string>();
  /** Fallback deliveries of dead-lettered and long-held ones; the retry worker runs its sweep. */
  readonly fallbacks: Fallbacks;

  constructor(private readonly deps: DispatcherDeps) {
    this.limiter = new Limiter(deps.runtime().config.dispatch.max_concurrency);
    this.ledger = new LedgerRecovery({
      store: deps.store,
      logger: deps.logger,
      countError: () => deps.metrics.storageErrors.inc(),
      countLost: (count) => deps.metrics.leasesLost.inc(count),
      now: deps.now,
    });
    this.writer = new LedgerWriter(deps.store, this.ledger);
    this.ledger.attach(this.writer);
    this.fallbacks = new Fallbacks({ store: deps.store, metrics: deps.metrics, logger: deps.logger, runtime: deps.runtime, now: deps.now });
  }

  /** Apply a new max_concurrency after a reload. */
  resize(maxConcurrency: number): void {
    this.limiter.resize(maxConcurrency);
    for (const slots of this.retrySlots.values()) slots.resize(retryCap(maxConcurrency));
  }

  /** Attempts in flight right now (all targets). */
  get inFlight(): number {
    return this.limiter.inFlight;
  }

  /**
   * Enrich, route, commit to the ledger, and make the first attempt to each
   * selected target. Resolves when every first attempt finished or the response
   * deadline passed (what is still running is reported `pending`). Throws
   * StorageError when the ledger write failed (nothing was accepted).
   */
  async dispatch(original: WebhookMessage, options: DispatchOptions = {}): Promise<DispatchResult> {
    const started = performance.now();
    const rt = this.deps.runtime();
    const now = this.deps.now();
    const enriched = rt.enrich(original);
    const key = notificationKey(original);
    const notification: NotificationRecord = {
      id: `n_${uuidv7()}`,
      key,
      receiver: original.receiver,
      groupKey: original.groupKey,
      status: original.status,
      createdAt: now,
      // Kept by object: webhook targets that pass the group through send this same text.
      original: messageJson(original),
      enriched: messageJson(enriched),
      alertnames: original.alerts.map((a) => a.labels['alertname']).filter((a): a is string => a !== undefined),
      alertCount: original.alerts.length,
    };

    const names = options.targets ?? [...rt.targets.keys()];
    const selections = names.map((name) => this.select(rt.targets.get(name) as TargetRuntime, enriched, options.ignoreMatchers === true));
    const fingerprints = fingerprintsOf(original);
    const dedupEntries = selections.map(({ target, matched }) => dedupEntry(original, fingerprints, target.config, matched));
    const newDeliveries: NewDelivery[] = selections.map(({ target, alerts, skip }) => ({
      id: `d_${uuidv7()}`,
      notificationId: notification.id,
      target: target.config.name,
      targetType: target.config.type,
      groupKey: original.groupKey,
      notificationKey: key,
      state: skip ? 'skipped' : 'pending',
      skipReason: skip,
      priority: priorityOf(alerts.map((i) => enriched.alerts[i]?.labels['severity'])),
      alerts,
      attempts: 0,
      createdAt: now,
      nextAttemptAt: skip ? undefined : now,
    }));

    // Busy before the commit: a flush the retry worker triggers must not hand it these deliveries too.
    const pending = newDeliveries.filter((d) => d.state === 'pending');
    // Attempts in flight in these lanes (an older notification of the group) are not superseded under their feet.
    const inFlight = pending.flatMap((d) => this.busy.inLane(BusyDeliveries.lane(d.target, d.groupKey)));
    for (const d of pending) this.busy.add(d.id, BusyDeliveries.lane(d.target, d.groupKey));
    const dedupSince = now - rt.config.dedup.window;
    // A notification that cannot be a duplicate, in lanes with nothing ahead of it, is sent while its accept commits
    // (at the end of this turn, with the others of the turn); each outcome is recorded after the commit. Only a ledger
    // of one process vouches so: a shared one never does, and its commit says which deliveries are blocked.
    const isNew = this.deps.store.claimDedup(dedupEntries, now, dedupSince);
    const early = isNew && inFlight.length === 0;
    // What the store vouches for needs no dedup lookup in the commit, only the states recorded.
    const dedup = { entries: dedupEntries, since: dedupSince, claimed: isNew };
    const accepted = this.writer.accept({ notification, deliveries: newDeliveries, inFlight, dedup }, early);
    let records: StoredDeliveries;
    let committed: Promise<boolean> | undefined;
    if (early) {
      records = storedDeliveries(newDeliveries, { seqs: [], duplicates: [] });
      committed = accepted.then(
        (stored) => {
          records.forEach((record, i) => (record.seq = stored[i]?.seq ?? 0));
          return true;
        },
        () => false,
      );
    } else {
      try {
        // Duplicates (an identical notification within dedup.window) come back skipped: the check is in the commit.
        records = await accepted;
      } catch (err) {
        for (const d of pending) this.busy.delete(d.id);
        throw this.storageError(err);
      }
    }

    const deadline = rt.config.dispatch.response_deadline;
    // Attempts that finished by the deadline; the others are reported pending and go on in the background.
    const finished = new Map<DeliveryRecord, DeliveryRecord>();
    const attempts: Array<Promise<unknown>> = [];
    for (const record of records) {
      const target = rt.targets.get(record.target) as TargetRuntime;
      if (record.state === 'skipped') {
        this.busy.delete(record.id);
        this.deps.metrics.skipped.inc({ target: record.target, reason: record.skipReason ?? 'filtered' });
        continue;
      }
      // Behind another replica's attempt in its lane: not leased here; the retry worker claims it once the lane clears.
      if (records.blocked?.has(record)) {
        this.busy.delete(record.id);
        target.meters.notifications.inc();
        continue;
      }
      target.meters.notifications.inc();
      const message = this.targetMessage(original, enriched, record.alerts);
      const attempt = this.runDelivery(record, message, target, 'first', options.strategy ?? rt.config.dispatch.health_strategy, committed);
      attempts.push(attempt.then((done) => finished.set(record, done)));
    }
    // Not committed: answered 503 now. Attempts already sent may arrive, and again with Alertmanager's retry (at least once).
    if (committed && !(await committed)) throw this.storageError(await accepted.catch((err: unknown) => err));
    if (attempts.length) await untilDeadline(Promise.all(attempts), started + deadline);
    const results = records.map((record) => {
      if (record.state === 'skipped') return targetResult(record);
      if (records.blocked?.has(record)) return targetResult(record, true);
      const done = finished.get(record);
      return done ? targetResult(done) : targetResult(record, true);
    });
    // Fallback deliveries of targets dead-lettered by now (sent by the retry worker), after the selected targets.
    for (const done of finished.values()) {
      const fallback = done.fallbackId === undefined ? undefined : this.fallbacks.of(done);
      if (fallback) results.push(targetResult(fallback));
    }
    const result = summarize(notification, results, performance.now() - started);
    this.logResult(result, rt);
    return result;
  }

  /** Attempt a delivery the retry worker found due. */
  retry(record: DeliveryRecord, message: TargetMessage, target: TargetRuntime): Promise<DeliveryRecord> {
    return this.runDelivery(record, message, target, 'retry', this.deps.runtime().config.dispatch.health_strategy);
  }

  /**
   * Attempt a delivery now, outside its schedule and past the gate (an operator asked for it). `trial`: the
   * caller took the target's breaker trial (`CircuitBreaker.forceTrial`); the outcome closes or re-opens it.
   */
  attemptNow(record: DeliveryRecord, message: TargetMessage, target: TargetRuntime, trial: boolean): Promise<DeliveryRecord> {
    if (trial) this.trials.add(record.id);
    return this.runDelivery(record, message, target, 'now', this.deps.runtime().config.dispatch.health_strategy);
  }

  /** Rebuild what a target receives from the stored notification. */
  targetMessage(original: WebhookMessage, enriched: WebhookMessage, alerts: readonly number[]): TargetMessage {
    if (alerts.length === original.alerts.length) return { message: enriched, original };
    const pick = (msg: WebhookMessage) => withAlerts(msg, alerts.map((i) => msg.alerts[i]).filter((a): a is Alert => a !== undefined));
    return { message: pick(enriched), original: pick(original) };
  }

  /** Stop: abort attempts still running after `graceMs`; what did not finish stays pending in the ledger. */
  async close(graceMs: number): Promise<void> {
    if (this.background.size) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.background.values()]),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs))),
      ]);
      clearTimeout(timer);
    }
    this.stopping.abort();
    this.deadlines.stop(new DOMException('shutting down', 'AbortError'));
    await Promise.allSettled([...this.background.values()]);
    this.ledger.close();
    await this.writer.flush();
  }

  /** Resolves when no attempt is running (tests and benchmarks). */
  idle(): Promise<void> {
    if (!this.background.size) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Write queued ledger updates now; resolves once they are committed. */
  flush(): Promise<void> {
    return this.writer.flush();
  }

  /** The alerts a target gets, and those its matchers select whatever their status (for dedup). */
  private select(
    target: TargetRuntime,
    enriched: WebhookMessage,
    everything: boolean,
  ): { target: TargetRuntime; alerts: number[]; matched: number[]; skip?: SkipReason } {
    if (!target.config.enabled) return { target, alerts: [], matched: [], skip: 'disabled' };
    if (!everything && !matchesAll(target.routeMatchers, routeLabels(enriched))) return { target, alerts: [], matched: [], skip: 'filtered' };
    const alerts: number[] = [];
    const matched: number[] = [];
    enriched.alerts.forEach((alert, i) => {
      if (!everything && !matchesAll(target.matchers, alert.labels)) return;
      matched.push(i);
      if (target.config.send_resolved || alert.status === 'firing') alerts.push(i);
    });
    return alerts.length ? { target, alerts, matched } : { target, alerts, matched, skip: 'filtered' };
  }

  /** Counted and logged by the ledger's health (the writer reports the failure). */
  private storageError(err: unknown): StorageError {
    return new StorageError(`cannot record the notification: ${String(err)}`, { cause: err });
  }

  /**
   * Run one delivery in its lane (per target and group key: arrival order), tracked for shutdown.
   * `committed`: the accept is still committing; the outcome is recorded after it (not at all if it failed).
   */
  private runDelivery(
    record: DeliveryRecord,
    message: TargetMessage,
    target: TargetRuntime,
    mode: Mode,
    strategy: HealthStrategy,
    committed?: Promise<boolean>,
  ) {
    // A fallback delivery is in a lane of its own: it carries another target's share of the group, so no order or supersede applies.
    const laneKey = BusyDeliveries.lane(record.target, record.fallbackOf === undefined ? record.groupKey : `\u0000fallback\u0000${record.id}`);
    const previous = this.lanes.get(laneKey)?.tail;
    this.busy.add(record.id, laneKey);
    const run = this.inLane(laneKey, previous, record, message, target, mode, strategy, committed);
    this.lanes.set(laneKey, { tail: run, id: record.id });
    this.background.set(record.id, run);
    return run;
  }

  /** After the lane's previous delivery (if any), attempt; never rejects. */
  private async inLane(
    laneKey: string,
    previous: Promise<unknown> | undefined,
    record: DeliveryRecord,
    message: TargetMessage,
    target: TargetRuntime,
    mode: Mode,
    strategy: HealthStrategy,
    committed?: Promise<boolean>,
  ): Promise<DeliveryRecord> {
    try {
      if (previous) await previous;
      return await this.attempt(record, message, target, mode, strategy, previous !== undefined || mode !== 'first', committed);
    } catch (err) {
      const error = this.deps.runtime().redact(String(err));
      this.deps.logger.error('delivery crashed; it stays pending', { target: record.target, deliveryId: record.id, error });
      // No outcome will be written: its lease goes back, so a later claim (here or on another replica) takes it again.
      await this.deps.store.unlease([record.id]).catch(() => undefined);
      return record;
    } finally {
      this.busy.delete(record.id);
      this.background.delete(record.id);
      if (this.lanes.get(laneKey)?.id === record.id) this.lanes.delete(laneKey);
      if (!this.background.size) this.idleWaiters.splice(0).forEach((resolve) => resolve());
    }
  }

  private async attempt(
    record: DeliveryRecord,
    message: TargetMessage,
    target: TargetRuntime,
    mode: Mode,
    strategy: HealthStrategy,
    checkOrder: boolean,
    committed?: Promise<boolean>,
  ): Promise<DeliveryRecord> {
    const { metrics, store } = this.deps;
    const name = record.target;
    const operatorTrial = this.trials.delete(record.id);
    // Waited in its lane behind an earlier delivery: its accept must have committed before its sequence number is compared.
    if (checkOrder && committed && !(await committed)) return record;
    if (checkOrder && record.fallbackOf === undefined && ((await store.latestSeq(name, record.groupKey)) ?? 0) > record.seq) {
      // The trial taken for it goes back: nothing was sent.
      if (operatorTrial) target.breaker.release();
      // A newer notification of the same group arrived while this one waited.
      return this.apply(record, 'superseded', 'superseded');
    }
    // Through a breaker that is not closed, the one delivery let past the gate is its half-open trial.
    const trial = operatorTrial || (mode !== 'now' && strategy !== 'publish_to_all' && target.breaker.state !== 'closed');
    // A paused target queues everything, whatever the strategy or an operator's trial; resume releases it (store.release).
    const skip = target.status.paused
      ? 'paused'
      : strategy === 'publish_to_all' || mode === 'now'
        ? undefined
        : this.gate(target, mode, strategy);
    if (skip) {
      metrics.skipped.inc({ target: name, reason: skip });
      // A pause is the operator's choice, not an outage: it holds without a fallback.
      if (skip !== 'paused') this.fallbacks.held(record, target.config);
      const wait = skip === 'paused' ? PAUSED_UNTIL : (target.breaker.opensTrialAt ?? this.deps.now() + this.deps.runtime().config.breaker.cooldown);
      if (committed && !(await committed)) return record;
      return this.apply(record, 'pending', skip, wait);
    }

    const attempts = record.attempts + 1;
    // The first attempt after an operator's replay (its budget starts there).
    const replay = record.replayedAt !== undefined && attempts === (record.attemptsAtReplay ?? 0) + 1;
    if (attempts > 1) metrics.retries.inc({ target: name });
    this.attemptsInFlight.set(name, (this.attemptsInFlight.get(name) ?? 0) + 1);
    const started = performance.now();
    const meta: AttemptMeta = { at: this.deps.now(), trial, replay };
    let outcome: Outcome;
    // Retries first take one of their target's slots, so that a drained backlog never holds every global one.
    const own = mode === 'retry' ? this.retrySlotsOf(name) : undefined;
    const ownSlot = own?.acquire();
    if (ownSlot) await ownSlot;
    // A slot under max_concurrency; free ones are taken without a promise.
    const slot = this.limiter.acquire();
    if (slot) await slot;
    try {
      outcome = await this.publish(target, message, record, attempts);
    } finally {
      this.limiter.release();
      own?.release();
      this.attemptsInFlight.set(name, (this.attemptsInFlight.get(name) ?? 1) - 1);
    }
    const durationMs = performance.now() - started;
    // An update must follow its row's insert, and settling needs the row's sequence number.
    if (committed && !(await committed)) return record;
    const settling = this.settle(record, target, message, outcome, attempts, durationMs, meta);
    const settled = settling instanceof Promise ? await settling : settling;
    if (settled.state === 'dead' && target.config.fallback !== undefined) await this.fallbacks.afterDead(settled);
    return settled;
  }

  private retrySlotsOf(target: string): Limiter {
    let slots = this.retrySlots.get(target);
    if (!slots) this.retrySlots.set(target, (slots = new Limiter(retryCap(this.deps.runtime().config.dispatch.max_concurrency))));
    return slots;
  }

  /** Why a target is skipped now, if it is. A half-open breaker's trial is taken here. */
  private gate(target: TargetRuntime, mode: Mode, strategy: HealthStrategy): SkipReason | undefined {
    const breaker = target.breaker.state;
    if (breaker !== 'closed') return target.breaker.tryAcquire() ? undefined : 'circuit_open';
    const health = target.health.status;
    if (mode === 'retry') {
      // A retry to an unhealthy target goes one at a time: it is the trial; the rest wait without burning attempts.
      return health === 'unhealthy' && (this.attemptsInFlight.get(target.config.name) ?? 0) > 0 ? 'unhealthy' : undefined;
    }
    if (health === 'unhealthy') return 'unhealthy';
    if (health === 'degraded' && strategy === 'skip_unhealthy_and_degraded') return 'degraded';
    return undefined;
  }

  private async publish(target: TargetRuntime, message: TargetMessage, record: DeliveryRecord, attempt: number): Promise<Outcome> {
    target.meters.requests.inc();
    const started = performance.now();
    const deadline = this.deadlines.take(target.timeout);
    try {
      return await target.publisher.publish(message, { deliveryId: record.id, attempt, signal: deadline.signal, fallbackFor: record.fallbackFor });
    } catch (err) {
      // Publishers return failures as values; a throw is a bug, never retried blindly.
      return { ok: false, retryable: false, reason: 'other', message: `publisher error: ${String(err)}` };
    } finally {
      this.deadlines.release(deadline);
      target.meters.latency.observe((performance.now() - started) / 1000);
    }
  }

  /** Synchronous but for a retry that would wait (it asks the ledger first): a delivered outcome costs no await. */
  private settle(
    record: DeliveryRecord,
    target: TargetRuntime,
    message: TargetMessage,
    outcome: Outcome,
    attempts: number,
    durationMs: number,
    meta: AttemptMeta,
  ): DeliveryRecord | Promise<DeliveryRecord> {
    const { metrics, logger, now: clock } = this.deps;
    const rt = this.deps.runtime();
    const now = clock();
    const stopped = this.stopping.signal.aborted;
    const targetFailed = !outcome.ok && outcome.retryable;
    if (!stopped) {
      if (!targetFailed) this.fallbacks.reached(record.target);
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
  private apply(record: DeliveryRecord, state: DeliveryState, skipReason?: SkipReason, nextAttemptAt?: number, attempt?: AttemptMeta): DeliveryRecord {
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
    // A newer outcome of a delivery whose last one is kept unwritten replaces it.
    this.ledger.unwritten.replace(update);
    this.writer.push(update);
    return record;
  }

  private logResult(result: DispatchResult, rt: Runtime): void {
    // Targets that still need the notification: everything but skips by design.
    const wanted = result.targets.filter((t) => t.state !== 'skipped' || t.queued);
    if (wanted.length > 0 && wanted.every((t) => t.state === 'skipped')) {
      this.deps.metrics.allSkipped.inc();
      this.deps.logger.warn('every selected target was skipped for health reasons; the notification is queued for them', {
        notificationId: result.id,
        groupKey: result.groupKey,
        targets: wanted.map((t) => `${t.target}:${t.skipReason}`),
      });
    }
    // Like Alertmanager's "Notify success", a fully delivered notification is a debug line; anything else stays at info.
    const level = result.outcome === 'delivered' ? 'debug' : 'info';
    if (!this.deps.logger.isLevelEnabled(level)) return;
    this.deps.logger[level]('notification', {
      notificationId: result.id,
      receiver: result.receiver,
      groupKey: result.groupKey,
      status: result.status,
      outcome: result.outcome,
      durationMs: result.durationMs,
      targets: Object.fromEntries(
        result.targets.map((t) => [t.target, t.skipReason ? `${t.state}:${t.skipReason}` : t.reason ? `${t.state}:${t.reason}` : t.state]),
      ),
      ...(rt.config.log.level === 'debug' ? { totals: result.totals } : {}),
    });
  }
}

/** Retries of one target in flight at once: half of max_concurrency (at least one). */
function retryCap(maxConcurrency: number): number {
  return Math.max(1, Math.ceil(maxConcurrency / 2));
}

/** Resolve when `work` settles or at `deadlineAt` (performance.now() time), whichever is first: one timer per dispatch. */
async function untilDeadline(work: Promise<unknown>, deadlineAt: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, deadlineAt - performance.now()));
  });
  await Promise.race([work, late]);
  clearTimeout(timer);
}
