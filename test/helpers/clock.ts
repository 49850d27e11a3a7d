/** A fake clock whose timers (the dead man's switch's `DeadmanTimers`) fire only when a test advances it. */
export class FakeClock {
  private next = 0;
  readonly timers = new Map<number, { at: number; fn: () => void }>();
  constructor(public t: number) {}
  now = (): number => this.t;
  set = (fn: () => void, ms: number): number => {
    const id = ++this.next;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  };
  clear = (handle: unknown): void => void this.timers.delete(handle as number);
  /** Move time forward by `ms`, firing due timers in order and awaiting `settle` after each. */
  async advance(ms: number, settle: () => Promise<void> = async () => undefined): Promise<void> {
    const until = this.t + ms;
    for (;;) {
      const due = [...this.timers].filter(([, x]) => x.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = Math.max(this.t, due[1].at);
      due[1].fn();
      await settle();
    }
    this.t = until;
  }
}
