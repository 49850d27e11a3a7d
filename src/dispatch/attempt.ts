import { performance } from 'node:perf_hooks';
import { Deadlines } from './deadlines.js';
import { Limiter } from './limiter.js';
import type { TargetMessage } from '../alerts/types.js';
import type { DeliveryRecord } from '../delivery/types.js';
import type { Outcome, Publisher } from '../publishers/publisher.js';
import type { TargetRuntime } from './runtime.js';

/** What one attempt uses of a target: its name, publisher, timeout and per-attempt meters. */
export interface AttemptTarget {
  readonly config: { readonly name: string };
  readonly publisher: Pick<Publisher, 'publish'>;
  readonly timeout: TargetRuntime['timeout'];
  readonly meters: Pick<TargetRuntime['meters'], 'requests' | 'latency'>;
}

/**
 * Makes one publisher call at a time per attempt: under a slot of max_concurrency (and, for a retry, one of its
 * target's retry slots), with the target's timeout as its abort signal, counted in the target's meters.
 */
export class Attempter {
  private readonly limiter: Limiter;
  /** Per target, the slots its retries may hold at once: a recovered target's backlog leaves room for the others. */
  private readonly retrySlots = new Map<string, Limiter>();
  /** Per target, its attempts started and not finished (waiting for a slot or calling). */
  private readonly running = new Map<string, number>();
  /** The attempts' timeouts, aborted together on stop. */
  private readonly deadlines = new Deadlines();

  /** `maxConcurrency`: the config's dispatch.max_concurrency now. */
  constructor(private readonly maxConcurrency: () => number) {
    this.limiter = new Limiter(maxConcurrency());
  }

  /** Apply a new max_concurrency after a reload. */
  resize(maxConcurrency: number): void {
    this.limiter.resize(maxConcurrency);
    for (const slots of this.retrySlots.values()) slots.resize(retryCap(maxConcurrency));
  }

  /** Publisher calls in flight right now (all targets). */
  get inFlight(): number {
    return this.limiter.inFlight;
  }

  /** Attempts of `target` started and not finished. */
  inFlightOf(target: string): number {
    return this.running.get(target) ?? 0;
  }

  /**
   * Attempt number `attempt` of `record`: take the slots, call the publisher, give them back. A publisher
   * returns failures as values; one that throws gets a non-retryable `other` failure (a bug, never retried blindly).
   */
  async run(target: AttemptTarget, message: TargetMessage, record: DeliveryRecord, attempt: number, retry: boolean): Promise<Outcome> {
    const name = target.config.name;
    this.running.set(name, (this.running.get(name) ?? 0) + 1);
    // Retries first take one of their target's slots, so that a drained backlog never holds every global one.
    const own = retry ? this.retrySlotsOf(name) : undefined;
    const ownSlot = own?.acquire();
    if (ownSlot) await ownSlot;
    // A slot under max_concurrency; free ones are taken without a promise.
    const slot = this.limiter.acquire();
    if (slot) await slot;
    target.meters.requests.inc();
    const started = performance.now();
    const deadline = this.deadlines.take(target.timeout);
    try {
      return await target.publisher.publish(message, { deliveryId: record.id, attempt, signal: deadline.signal, fallbackFor: record.fallbackFor });
    } catch (err) {
      return { ok: false, retryable: false, reason: 'other', message: `publisher error: ${String(err)}` };
    } finally {
      this.deadlines.release(deadline);
      target.meters.latency.observe((performance.now() - started) / 1000);
      this.limiter.release();
      own?.release();
      this.running.set(name, (this.running.get(name) ?? 1) - 1);
    }
  }

  /** Abort every call in flight, and every one started from now on. */
  stop(reason: unknown): void {
    this.deadlines.stop(reason);
  }

  private retrySlotsOf(target: string): Limiter {
    let slots = this.retrySlots.get(target);
    if (!slots) this.retrySlots.set(target, (slots = new Limiter(retryCap(this.maxConcurrency()))));
    return slots;
  }
}

/** Retries of one target in flight at once: half of max_concurrency (at least one). */
export function retryCap(maxConcurrency: number): number {
  return Math.max(1, Math.ceil(maxConcurrency / 2));
}
