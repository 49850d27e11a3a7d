import { SlidingWindow } from '../health/window.js';
import type { Ledger } from '../delivery/ledger.js';

/**
 * What an operator sees and steers of a target beyond its config: whether it is paused, and its
 * recent health, breaker and pause transitions. Kept by target name, so it survives a reload that
 * rebuilds the target; the paused flag is also kept in the ledger, so it survives a restart.
 */

/** Due time of a paused target's deliveries: never, until resumed (a real date, so every view of it stays valid). */
export const PAUSED_UNTIL = Date.UTC(9999, 11, 31);
/** Transitions kept per target. */
export const HISTORY_SIZE = 50;

/** One change of a target's health, breaker or pause state. */
export interface Transition {
  at: string;
  kind: 'health' | 'breaker' | 'pause';
  from: string;
  to: string;
  reason?: string;
}

/** The ledger's key-value state, where the paused flag is kept. */
export type PauseStore = Pick<Ledger, 'stateGet' | 'stateSet' | 'stateDelete'>;

/** The span of a target's recent attempts that the overview reports (success rate and p95). */
export const RECENT_MS = 3600_000;

/** One target's operator state. */
export class TargetStatus {
  /** Outcomes and durations of its attempts over the last hour (at most SlidingWindow's cap of samples). */
  readonly recent = new SlidingWindow(RECENT_MS);
  paused = false;
  /** When it was paused (ms), and from where. */
  pausedAt?: number;
  pausedBy?: string;
  private readonly transitions: Transition[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  /** Remember a transition; the oldest beyond HISTORY_SIZE is forgotten. */
  record(kind: Transition['kind'], from: string, to: string, reason?: string): void {
    this.transitions.push({ at: new Date(this.now()).toISOString(), kind, from, to, ...(reason === undefined ? {} : { reason }) });
    if (this.transitions.length > HISTORY_SIZE) this.transitions.shift();
  }

  /** The transitions, newest first. */
  history(): Transition[] {
    return [...this.transitions].reverse();
  }
}

/** The key of a target's paused flag in the ledger's state table (a name cannot hold NUL, so no publisher key collides). */
const pauseKey = (target: string) => `${target}\u0000alertmux.paused`;
/** The flag never expires (the state table is pruned by expiry). */
const FOREVER = Number.MAX_SAFE_INTEGER;

/** Every target's operator state, by name; the paused flags are read from and written to the ledger. */
export class TargetStatuses {
  private readonly byName = new Map<string, TargetStatus>();

  constructor(
    private readonly store: PauseStore,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Read the paused flags of these targets from the ledger, for those not known yet (the start, and a reload
   * before it builds new targets): `of` answers from memory, on the dispatch path.
   */
  async load(targets: Iterable<string>): Promise<void> {
    for (const target of targets) {
      if (this.byName.has(target)) continue;
      const stored = await this.store.stateGet(pauseKey(target), this.now());
      const status = this.of(target);
      if (stored !== undefined && !status.paused) {
        const { at, by } = JSON.parse(stored) as { at: number; by?: string };
        Object.assign(status, { paused: true, pausedAt: at, pausedBy: by });
      }
    }
  }

  /**
   * Read the paused flags of every known target again and follow what changed: another replica paused or resumed
   * it (a shared ledger). Returns the targets whose flag changed.
   */
  async refresh(): Promise<string[]> {
    const changed: string[] = [];
    for (const [target, status] of this.byName) {
      const stored = await this.store.stateGet(pauseKey(target), this.now());
      if ((stored !== undefined) === status.paused) continue;
      changed.push(target);
      if (stored === undefined) {
        Object.assign(status, { paused: false, pausedAt: undefined, pausedBy: undefined });
        status.record('pause', 'paused', 'active', 'resumed on another replica');
      } else {
        const { at, by } = JSON.parse(stored) as { at: number; by?: string };
        Object.assign(status, { paused: true, pausedAt: at, pausedBy: by });
        status.record('pause', 'active', 'paused', `paused on another replica${by ? ` from ${by}` : ''}`);
      }
    }
    return changed;
  }

  /** The state of `target` (not paused unless `load` read its flag or it was paused since). */
  of(target: string): TargetStatus {
    let status = this.byName.get(target);
    if (!status) {
      status = new TargetStatus(this.now);
      this.byName.set(target, status);
    }
    return status;
  }

  /** Pause `target` (written to the ledger first); false when it already was. */
  async pause(target: string, by?: string): Promise<boolean> {
    const status = this.of(target);
    if (status.paused) return false;
    const at = this.now();
    await this.store.stateSet(pauseKey(target), JSON.stringify({ at, by }), FOREVER);
    Object.assign(status, { paused: true, pausedAt: at, pausedBy: by });
    status.record('pause', 'active', 'paused', by && `paused from ${by}`);
    return true;
  }

  /** Resume `target`; false when it was not paused. */
  async resume(target: string, by?: string): Promise<boolean> {
    const status = this.of(target);
    if (!status.paused) return false;
    await this.store.stateDelete(pauseKey(target));
    Object.assign(status, { paused: false, pausedAt: undefined, pausedBy: undefined });
    status.record('pause', 'paused', 'active', by && `resumed from ${by}`);
    return true;
  }
}
