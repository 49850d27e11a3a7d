import { performance } from 'node:perf_hooks';
import { LedgerRecovery } from '../delivery/ledger-recovery.js';
import { storedDeliveries, type StoredDeliveries } from '../delivery/records.js';
import { StorageError } from '../delivery/storage-error.js';
import { LedgerWriter } from '../delivery/writer.js';
import { newDeliveries, notificationRecord } from './accept.js';
import { Attempter } from './attempt.js';
import { BusyDeliveries } from './busy.js';
import { dedupEntry, fingerprintsOf } from './dedup-entries.js';
import { Fallbacks } from './fallback.js';
import { gate, heldUntil, isTrial, type Mode } from './gate.js';
import { Lanes, startOf } from './lanes.js';
import { logResult, summarize, targetResult, type DispatchResult } from './result.js';
import { select, targetMessage } from './routing.js';
import { Settler, type AttemptMeta } from './settle.js';
import type { TargetMessage, WebhookMessage } from '../alerts/types.js';
import type { HealthStrategy } from '../config/types.js';
import type { Ledger } from '../delivery/ledger.js';
import type { DeliveryRecord } from '../delivery/types.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
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
 * Fans a notification out to every selected target at once, through the durable ledger, composing the
 * stages: routing (`routing.ts`), accept (the ledger's group-commit writer), lanes (`lanes.ts`: order per
 * target and group key), the gate (`gate.ts`: pause, breaker, health), one attempt (`attempt.ts`: slots,
 * deadline, publisher call) and settling its outcome (`settle.ts`). Never rejects for a target's failure;
 * every selected target appears exactly once.
 */
export class Dispatcher {
  private readonly writer: LedgerWriter;
  /** Whether the ledger commits (readiness), and the outcomes it could not write, kept as settled until it does. */
  readonly ledger: LedgerRecovery;
  private readonly lanes: Lanes;
  /** Deliveries being attempted or waiting for their turn in a lane: the worker must not pick them. */
  readonly busy: BusyDeliveries;
  private readonly attempter: Attempter;
  private readonly settler: Settler;
  private readonly stopping = new AbortController();
  /** Deliveries an operator sent as their target's breaker trial (attemptNow), until their attempt starts. */
  private readonly trials = new Set<string>();
  /** Fallback deliveries of dead-lettered and long-held ones; the retry worker runs its sweep. */
  readonly fallbacks: Fallbacks;

  constructor(private readonly deps: DispatcherDeps) {
    this.attempter = new Attempter(() => deps.runtime().config.dispatch.max_concurrency);
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
    this.lanes = new Lanes(async (record, err) => {
      const error = deps.runtime().redact(String(err));
      deps.logger.error('delivery crashed; it stays pending', { target: record.target, deliveryId: record.id, error });
      // No outcome will be written: its lease goes back, so a later claim (here or on another replica) takes it again.
      await deps.store.unlease([record.id]).catch(() => undefined);
    });
    this.busy = this.lanes.busy;
    this.settler = new Settler({
      metrics: deps.metrics,
      logger: deps.logger,
      now: deps.now,
      random: deps.random,
      runtime: deps.runtime,
      store: deps.store,
      write: (update) => {
        // A newer outcome of a delivery whose last one is kept unwritten replaces it.
        this.ledger.unwritten.replace(update);
        this.writer.push(update);
      },
      reached: (target) => this.fallbacks.reached(target),
      stopping: this.stopping.signal,
    });
  }

  /** Apply a new max_concurrency after a reload. */
  resize(maxConcurrency: number): void {
    this.attempter.resize(maxConcurrency);
  }

  /** Attempts in flight right now (all targets). */
  get inFlight(): number {
    return this.attempter.inFlight;
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
    const notification = notificationRecord(original, enriched, now);

    const names = options.targets ?? [...rt.targets.keys()];
    const selections = names.map((name) => select(rt.targets.get(name) as TargetRuntime, enriched, options.ignoreMatchers === true));
    const fingerprints = fingerprintsOf(original);
    const dedupEntries = selections.map(({ target, matched }) => dedupEntry(original, fingerprints, target.config, matched));
    const deliveries = newDeliveries(notification, enriched, selections, now);

    // Busy before the commit: a flush the retry worker triggers must not hand it these deliveries too.
    const pending = deliveries.filter((d) => d.state === 'pending');
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
    const accepted = this.writer.accept({ notification, deliveries, inFlight, dedup }, early);
    let records: StoredDeliveries;
    let committed: Promise<boolean> | undefined;
    if (early) {
      records = storedDeliveries(deliveries, { seqs: [], duplicates: [] });
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
      const start = startOf(record, records);
      if (start === 'skipped') {
        this.busy.delete(record.id);
        this.deps.metrics.skipped.inc({ target: record.target, reason: record.skipReason ?? 'filtered' });
        continue;
      }
      target.meters.notifications.inc();
      // Behind another replica's attempt in its lane: not leased here; the retry worker claims it once the lane clears.
      if (start === 'blocked') {
        this.busy.delete(record.id);
        continue;
      }
      const message = targetMessage(original, enriched, record.alerts);
      const attempt = this.runDelivery(record, message, target, 'first', options.strategy ?? rt.config.dispatch.health_strategy, committed);
      attempts.push(attempt.then((done) => finished.set(record, done)));
    }
    // Not committed: answered 503 now. Attempts already sent may arrive, and again with Alertmanager's retry (at least once).
    if (committed && !(await committed)) throw this.storageError(await accepted.catch((err: unknown) => err));
    if (attempts.length) await untilDeadline(Promise.all(attempts), started + deadline);
    const results = records.map((record) => {
      const start = startOf(record, records);
      if (start !== 'run') return targetResult(record, start === 'blocked');
      const done = finished.get(record);
      return done ? targetResult(done) : targetResult(record, true);
    });
    // Fallback deliveries of targets dead-lettered by now (sent by the retry worker), after the selected targets.
    for (const done of finished.values()) {
      const fallback = done.fallbackId === undefined ? undefined : this.fallbacks.of(done);
      if (fallback) results.push(targetResult(fallback));
    }
    const result = summarize(notification, results, performance.now() - started);
    logResult(result, rt, this.deps);
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
    return targetMessage(original, enriched, alerts);
  }

  /** Stop: abort attempts still running after `graceMs`; what did not finish stays pending in the ledger. */
  async close(graceMs: number): Promise<void> {
    if (this.lanes.size) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.lanes.settled(), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
    }
    this.stopping.abort();
    this.attempter.stop(new DOMException('shutting down', 'AbortError'));
    await this.lanes.settled();
    this.ledger.close();
    await this.writer.flush();
  }

  /** Resolves when no attempt is running (tests and benchmarks). */
  idle(): Promise<void> {
    return this.lanes.idle();
  }

  /** Write queued ledger updates now; resolves once they are committed. */
  flush(): Promise<void> {
    return this.writer.flush();
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
  ): Promise<DeliveryRecord> {
    return this.lanes.run(record, (waited) => this.attempt(record, message, target, mode, strategy, waited || mode !== 'first', committed));
  }

  /** Through the gate, one attempt, and its outcome settled. `checkOrder`: it may have been superseded while it waited. */
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
      return this.settler.apply(record, 'superseded', 'superseded');
    }
    const trial = operatorTrial || isTrial(target, mode, strategy);
    const skip = gate(target, mode, strategy, this.attempter.inFlightOf(name));
    if (skip) {
      metrics.skipped.inc({ target: name, reason: skip });
      // A pause is the operator's choice, not an outage: it holds without a fallback.
      if (skip !== 'paused') this.fallbacks.held(record, target.config);
      const wait = heldUntil(skip, target, this.deps.now(), this.deps.runtime().config.breaker.cooldown);
      if (committed && !(await committed)) return record;
      return this.settler.apply(record, 'pending', skip, wait);
    }

    const attempts = record.attempts + 1;
    // The first attempt after an operator's replay (its budget starts there).
    const replay = record.replayedAt !== undefined && attempts === (record.attemptsAtReplay ?? 0) + 1;
    if (attempts > 1) metrics.retries.inc({ target: name });
    const started = performance.now();
    const meta: AttemptMeta = { at: this.deps.now(), trial, replay };
    const outcome = await this.attempter.run(target, message, record, attempts, mode === 'retry');
    const durationMs = performance.now() - started;
    // An update must follow its row's insert, and settling needs the row's sequence number.
    if (committed && !(await committed)) return record;
    const settling = this.settler.settle(record, target, message, outcome, attempts, durationMs, meta);
    const settled = settling instanceof Promise ? await settling : settling;
    if (settled.state === 'dead' && target.config.fallback !== undefined) await this.fallbacks.afterDead(settled);
    return settled;
  }
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
