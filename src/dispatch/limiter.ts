/** A counting semaphore: at most `max` holders at once, waiters served in order. */
export class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private max: number) {}

  /** Requests in flight now. */
  get inFlight(): number {
    return this.active;
  }

  /** Change the cap (on reload); waiters are let in as room appears. */
  resize(max: number): void {
    this.max = max;
    this.drain();
  }

  /**
   * Take a slot: undefined when one was free (the common case, with no promise made), else a promise
   * that resolves once a slot is the caller's. Every slot taken is given back with release().
   */
  acquire(): Promise<void> | undefined {
    if (this.active < this.max) {
      this.active++;
      return undefined;
    }
    return new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  /** Give back a slot taken with acquire(); the longest waiter gets it. */
  release(): void {
    this.active--;
    this.drain();
  }

  private drain(): void {
    while (this.active < this.max && this.waiting.length) {
      this.active++;
      this.waiting.shift()?.();
    }
  }
}
