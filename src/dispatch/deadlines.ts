import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';

/** One abort signal and its timer, shared by the attempts that took it. */
export interface Deadline {
  readonly signal: AbortSignal;
}

interface Shared extends Deadline {
  readonly controller: AbortController;
  readonly timeoutMs: number;
  readonly tick: number;
  timer?: NodeJS.Timeout;
  holders: number;
}

/**
 * The abort signals of attempts: each times out after its target's timeout,
 * and all abort when the dispatcher stops. Attempts that start in the same
 * millisecond with the same timeout share one controller and one timer: they
 * would all time out at the same moment anyway. (Per attempt, the controller,
 * its signal and its timer cost about 10% of starting an attempt; a
 * notification to 10 targets now makes one.)
 */
export class Deadlines {
  /** The deadline being handed out, per timeout. */
  private readonly current = new Map<number, Shared>();
  /** Deadlines with attempts still holding them. */
  private readonly live = new Set<Shared>();
  private stopReason?: unknown;

  constructor(private readonly clock: () => number = () => performance.now()) {}

  /** A signal that aborts `timeoutMs` from now (or at stop). Give it back with release() when the attempt ends. */
  take(timeoutMs: number): Deadline {
    const tick = Math.floor(this.clock());
    let shared = this.current.get(timeoutMs);
    if (!shared || shared.tick !== tick || shared.signal.aborted) {
      const controller = new AbortController();
      shared = { controller, signal: controller.signal, timeoutMs, tick, holders: 0 };
      // Each attempt's request listens to it: no leak warning for a wide fan-out.
      setMaxListeners(0, shared.signal);
      if (this.stopReason !== undefined) controller.abort(this.stopReason);
      else shared.timer = setTimeout(() => controller.abort(new DOMException('attempt timed out', 'TimeoutError')), timeoutMs);
      this.current.set(timeoutMs, shared);
      this.live.add(shared);
    }
    shared.holders++;
    return shared;
  }

  /** The attempt that took `deadline` ended; the last one out clears its timer. */
  release(deadline: Deadline): void {
    const shared = deadline as Shared;
    if (--shared.holders > 0) return;
    clearTimeout(shared.timer);
    this.live.delete(shared);
    if (this.current.get(shared.timeoutMs) === shared) this.current.delete(shared.timeoutMs);
  }

  /** Abort every attempt in flight, and every one started from now on. */
  stop(reason: unknown): void {
    this.stopReason = reason;
    for (const shared of this.live) {
      clearTimeout(shared.timer);
      shared.controller.abort(reason);
    }
  }

  /** Deadlines held right now (tests). */
  get size(): number {
    return this.live.size;
  }
}
