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

  /** Run `fn` once a slot is free. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.drain();
    }
  }

  private drain(): void {
    while (this.active < this.max && this.waiting.length) {
      this.active++;
      this.waiting.shift()?.();
    }
  }
}
