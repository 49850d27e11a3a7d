import type { BreakerState } from '../health/breaker.js';
import type { DeliveryRecord, DeliveryState, IdFilter } from '../delivery/types.js';
import type { Runtime, TargetRuntime } from '../dispatch/runtime.js';

/** What an operator's attempt now needs. */
export interface TrialDeps {
  runtime: () => Runtime;
  /** Deliveries in flight or waiting in their lane: never attempted a second time at once. */
  busy: IdFilter;
  /** Attempt a delivery now, past the gate (`trial`: the caller took the breaker trial); undefined if its notification is gone. */
  attemptNow(record: DeliveryRecord, target: TargetRuntime, trial: boolean): Promise<DeliveryRecord | undefined>;
}

/** The outcome of an operator's attempt now, as the API shows it. */
export interface TrialReport {
  target: string;
  deliveryId: string;
  notificationId: string;
  /** It was the breaker's half-open trial (the breaker was not closed). */
  trial: boolean;
  /** The delivery's state after the attempt (`pending` after a retryable failure, `superseded` if a newer notification won). */
  state: DeliveryState;
  ok: boolean;
  attempts: number;
  statusCode?: number;
  reason?: string;
  error?: string;
  /** The breaker after the attempt: closed after a trial that succeeded, open after one that failed. */
  breaker: BreakerState;
  nextTrialAt?: string;
  nextAttemptAt?: string;
}

/** A delivery that waits instead of going now, and why. */
export interface Held {
  target: string;
  deliveryId: string;
  why: string;
  until?: string;
}

const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString());

/**
 * Attempt `record` now, as its target's breaker trial when the breaker is not closed (the operator asked for it
 * now, so the cooldown is not waited for). The trial is taken synchronously, before this returns, so the retry
 * worker (woken after) finds the delivery reserved and the breaker's one trial taken. Held when a trial is already
 * in flight or the delivery is busy; a notification gone from the ledger is reported by the run (not attempted).
 */
export function startAttempt(deps: TrialDeps, record: DeliveryRecord, target: TargetRuntime): { run: Promise<TrialReport> } | { held: Held } {
  const held = (why: string, until?: number): { held: Held } => ({ held: { target: record.target, deliveryId: record.id, why, until: iso(until) } });
  if (deps.busy.has(record.id)) return held('it is being attempted now');
  const { breaker } = target;
  const trial = breaker.state !== 'closed';
  if (trial && !breaker.forceTrial()) return held('a trial of this target is in flight; the breaker decides after it', breaker.opensTrialAt);
  const gone = (): TrialReport => {
    if (trial) breaker.release();
    return { ...report(record), error: 'its notification is gone from the ledger' };
  };
  const report = (done: DeliveryRecord): TrialReport => ({
    target: done.target,
    deliveryId: done.id,
    notificationId: done.notificationId,
    trial,
    state: done.state,
    ok: done.state === 'delivered',
    attempts: done.attempts,
    statusCode: done.lastStatus,
    reason: done.lastReason,
    error: done.lastError,
    breaker: breaker.state,
    nextTrialAt: iso(breaker.opensTrialAt),
    nextAttemptAt: done.state === 'pending' ? iso(done.nextAttemptAt) : undefined,
  });
  const run = deps.attemptNow(record, target, trial).then(
    (done) => (done ? report(done) : gone()),
    (err: unknown) => {
      if (trial) breaker.release();
      throw err;
    },
  );
  return { run };
}

/**
 * After a replay: for each target of `records` whose breaker is not closed, its oldest replayed delivery goes
 * now as the half-open trial (success closes the breaker and wakes the rest; failure keeps it open). Targets
 * with a closed breaker are left to the retry worker. Call before waking the worker.
 */
export function startReplayTrials(deps: TrialDeps, records: readonly DeliveryRecord[]): { runs: Array<Promise<TrialReport>>; held: Held[] } {
  const rt = deps.runtime();
  const runs: Array<Promise<TrialReport>> = [];
  const held: Held[] = [];
  const tried = new Set<string>();
  for (const record of records) {
    const target = rt.targets.get(record.target);
    if (!target || tried.has(record.target) || target.breaker.state === 'closed') continue;
    tried.add(record.target);
    const started = startAttempt(deps, record, target);
    if ('run' in started) runs.push(started.run);
    else held.push(started.held);
  }
  return { runs, held };
}
