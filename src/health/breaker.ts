import { isDown } from './down.js';
import { SlidingWindow } from './window.js';
import type { Config } from '../config/types.js';

/** Circuit states, as Prometheus label values. */
export type BreakerState = 'closed' | 'open' | 'half_open';

/**
 * A circuit breaker per target, for targets that are down, not for flaky ones.
 * Closed → open when the failed deliveries in a row say the target is down
 * (`isDown`): `consecutive_failures` with no success in `window`, or a run longer
 * than bad luck explains for a target that still succeeds. A failure ratio never
 * opens it, however high: a target that answers some requests is alive, and its
 * deliveries get through with retries on their own backoff (a high ratio makes the
 * target `degraded` in its health instead). Open for a cooldown that doubles on
 * each repeated trip (capped at `max_cooldown`), then half-open: exactly one real
 * delivery goes through as the trial; its success closes (and the waiting
 * deliveries are woken at once), its failure re-opens.
 *
 * Hand-written rather than cockatiel's: the dispatcher must ask "may one go now?"
 * without running the call (to skip and queue), must know when it re-opens (to
 * schedule queued deliveries), and tests drive it with an injected clock.
 */
export class CircuitBreaker {
  private current: BreakerState = 'closed';
  private consecutive = 0;
  private trips = 0;
  private reopenAt = 0;
  private trialInFlight = false;
  /** The trial in flight was forced before the cooldown ended: given back unused, the breaker is open again. */
  private forced = false;
  /** Open because another replica found the target down (`adopt`), not by this one's own attempts. */
  private adopted = false;
  private window: SlidingWindow;

  /** `onTransition`'s `cause`: why, when it was not this breaker's own attempts (another replica opened it). */
  constructor(
    private readonly cfg: Config['breaker'],
    private readonly now: () => number,
    private readonly onTransition: (from: BreakerState, to: BreakerState, cause?: string) => void = () => undefined,
  ) {
    this.window = new SlidingWindow(cfg.window);
  }

  /** The state at this moment (an open breaker whose cooldown ran out reads half-open). */
  get state(): BreakerState {
    return this.current === 'open' && this.now() >= this.reopenAt ? 'half_open' : this.current;
  }

  /** When an open breaker lets a trial through. */
  get opensTrialAt(): number | undefined {
    return this.current === 'open' ? this.reopenAt : undefined;
  }

  /** May a delivery go now? In half-open, only the first caller gets the trial. Pair a `true` with `record` or `release`. */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.trialInFlight) return false;
    if (this.current !== 'half_open') this.transition('half_open');
    this.trialInFlight = true;
    return true;
  }

  /**
   * An operator's trial now (a replay, `POST /targets/:name/try`), without waiting for the cooldown: half-open at
   * once, and this caller has the one trial. False when the breaker is closed (no trial needed) or a trial is
   * already in flight. Pair a `true` with `record` or `release`.
   */
  forceTrial(): boolean {
    if (this.current === 'closed' || this.trialInFlight) return false;
    this.forced = this.now() < this.reopenAt;
    if (this.current !== 'half_open') this.transition('half_open');
    this.trialInFlight = true;
    return true;
  }

  /** Whether a trial is in flight now. */
  get trialRunning(): boolean {
    return this.trialInFlight;
  }

  /** Give back an acquired slot without an outcome (the attempt never happened). */
  release(): void {
    this.trialInFlight = false;
    if (this.forced && this.current === 'half_open' && this.now() < this.reopenAt) this.transition('open');
    this.forced = false;
  }

  /** The outcome of a delivery that `tryAcquire` let through. Only retryable failures count against the target. */
  record(ok: boolean): void {
    const now = this.now();
    this.trialInFlight = false;
    this.forced = false;
    this.window.add(now, ok);
    if (this.current === 'half_open') {
      if (ok) this.close();
      else this.open(now);
      return;
    }
    if (this.current !== 'closed') return;
    this.consecutive = ok ? 0 : this.consecutive + 1;
    if (ok || this.consecutive < this.cfg.consecutive_failures) return;
    const { count, failures } = this.window.summary(now);
    if (isDown(this.consecutive, this.cfg.consecutive_failures, count, failures)) this.open(now);
  }

  /**
   * Another replica found the target down and opened its breaker until `until` (a shared ledger): a closed breaker
   * opens until then too, so this replica queues the target's deliveries instead of trying a dead target itself.
   * After `until` it lets its own trial through, as after its own cooldown. False when it was not closed.
   */
  adopt(until: number, trips: number, by: string): boolean {
    if (this.current !== 'closed' || until <= this.now()) return false;
    this.reopenAt = until;
    this.trips = Math.max(this.trips, trips);
    this.adopted = true;
    this.transition('open', `opened on replica ${by}`);
    return true;
  }

  /** Whether it is open because another replica opened it (`adopt`), and still waits. */
  get openedElsewhere(): boolean {
    return this.adopted && this.current === 'open' && this.now() < this.reopenAt;
  }

  /** The replica that opened it closed it again (its trial succeeded): an adopted breaker lets a trial through now. */
  closedElsewhere(): void {
    if (this.openedElsewhere) this.reopenAt = this.now();
  }

  /** Counters for the API. */
  snapshot(): { state: BreakerState; trips: number; consecutiveFailures: number; opensTrialAt?: string } {
    const at = this.opensTrialAt;
    return {
      state: this.state,
      trips: this.trips,
      consecutiveFailures: this.consecutive,
      ...(at === undefined ? {} : { opensTrialAt: new Date(at).toISOString() }),
    };
  }

  private open(now: number): void {
    this.reopenAt = now + Math.min(this.cfg.max_cooldown, this.cfg.cooldown * 2 ** this.trips);
    this.trips++;
    this.adopted = false;
    this.transition('open');
  }

  private close(): void {
    this.trips = 0;
    this.adopted = false;
    this.consecutive = 0;
    // The failures of the outage are forgotten; the trial's success stays, so a failure or two right after it read as bad luck.
    this.window = new SlidingWindow(this.cfg.window);
    this.window.add(this.now(), true);
    this.transition('closed');
  }

  private transition(to: BreakerState, cause?: string): void {
    const from = this.current;
    this.current = to;
    if (from !== to) this.onTransition(from, to, cause);
  }
}
