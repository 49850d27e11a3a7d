import { formatDuration } from '../config/duration.js';
import { compileMatchers, matchesAll, type Matcher } from '../matchers/matchers.js';
import { pageMessage, type PageFacts } from './page.js';
import type { DeadmanState, DeadmanStateStore } from './state.js';
import type { WebhookMessage } from '../alerts/types.js';
import type { DeadmanConfig } from '../config/types.js';
import type { Logger } from '../observability/logger.js';

/** Timers the switch runs on; tests pass a fake clock's. */
export interface DeadmanTimers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

/** What one dispatch of the page (or its resolve) reports back. */
export interface PageSent {
  notificationId: string;
  outcome: string;
}

/** Everything the switch needs from outside. */
export interface DeadmanDeps {
  now: () => number;
  timers: DeadmanTimers;
  /**
   * Dispatch the page or its resolve to `targets` through the durable path (ledger, retries, dead letters).
   * Rejects when it was not accepted (the ledger failed: tried again later); resolves undefined when none of
   * `targets` is configured any more.
   */
  send(msg: WebhookMessage, targets: readonly string[]): Promise<PageSent | undefined>;
  state: DeadmanStateStore;
  /**
   * Whether this replica runs the switch now (on a shared ledger one replica at a time, so N replicas never page
   * N times). Every replica still records the heartbeats it sees in the ledger. Default: always.
   */
  exclusive?: () => Promise<boolean>;
  metrics: { lastHeartbeat: { set(v: number): void }; firing: { set(v: number): void } };
  logger: Logger;
  /** Delay before a page or resolve that was not accepted is tried again (default 10 s). */
  retryMs?: number;
}

/** A compiled `deadman` block. */
export interface DeadmanSettings {
  readonly match: readonly string[];
  readonly matchers: readonly Matcher[];
  readonly timeout: number;
  readonly targets: readonly string[];
}

/** Compile a `deadman` block (throws on a bad matcher: the config check reports those first). */
export function deadmanSettings(config: DeadmanConfig | undefined): DeadmanSettings | undefined {
  if (!config) return undefined;
  return { match: [...config.match], matchers: compileMatchers(config.match), timeout: config.timeout, targets: [...new Set(config.targets)] };
}

/** `disabled`: no deadman block; `waiting`: no heartbeat seen yet; `ok`: heartbeats arrive; `firing`: the page is open. */
export type DeadmanPhase = 'disabled' | 'waiting' | 'ok' | 'firing';

/** GET /api/v1/deadman. Times are ISO 8601, or null. */
export interface DeadmanStatus {
  enabled: boolean;
  state: DeadmanPhase;
  match: readonly string[];
  timeout: string | null;
  timeoutSeconds: number | null;
  targets: readonly string[];
  lastHeartbeatAt: string | null;
  /** When the page goes out if no heartbeat arrives first (null when firing, waiting or disabled). */
  deadlineAt: string | null;
  pageOpenSince: string | null;
  /** The targets the open page went to (its resolve goes to them). */
  pageTargets: readonly string[];
  /** Why the last page or resolve was not accepted (it is tried again), if it was not. */
  lastError: string | null;
}

/** Heartbeats closer together than this are persisted once: the ledger write stays off the hot path. */
const PERSIST_EVERY_MS = 1000;
/** setTimeout's largest delay; a later deadline is re-checked when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The dead man's switch. A firing alert matching `match` on the webhook is a heartbeat. Once one was
 * seen, a silence of `timeout` sends ONE page (a critical alert) to `targets`; the next heartbeat
 * resolves it. The last heartbeat and the open page are persisted, so a restart neither pages twice
 * nor forgets a silence. After a start (or enabling), the silence that pages is counted from the last
 * heartbeat but never ends before `timeout` after the start: alertmux's own downtime is not held
 * against Alertmanager, whose next Watchdog comes within its repeat_interval.
 */
export class DeadmanSwitch {
  private settings: DeadmanSettings | undefined;
  private state: DeadmanState = {};
  private loading?: Promise<void>;
  /** When counting started: the start, or the reload that turned the switch on. */
  private armedAt = 0;
  private heartbeatPersistedAt = -Infinity;
  /** Whether this replica ran the switch at its last turn (then its own record of the page is the newest). */
  private holding = false;
  private timer: unknown;
  private chain: Promise<void> = Promise.resolve();
  private queued = false;
  private stopped = false;
  private warnedWaiting = false;
  private lastError: string | undefined;
  private readonly retryMs: number;

  constructor(private readonly deps: DeadmanDeps) {
    this.retryMs = deps.retryMs ?? 10_000;
  }

  /**
   * Apply a config's `deadman` (start and every reload; undefined turns it off, which resolves an open
   * page, even one left by a previous run, and forgets the state). Resolves once the change is acted on.
   */
  async configure(next: DeadmanSettings | undefined): Promise<void> {
    await (this.loading ??= this.load());
    const previous = this.settings;
    const now = this.deps.now();
    this.settings = next;
    if (next && !previous) {
      this.armedAt = now;
      this.warnedWaiting = false;
      this.deps.logger.info("dead man's switch on", {
        ...describe(next),
        lastHeartbeatAt: iso(this.state.lastHeartbeatAt),
        pageOpenSince: iso(this.state.page?.since),
      });
    } else if (next && previous && !sameSettings(next, previous)) {
      this.deps.logger.info("dead man's switch changed", describe(next));
    } else if (!next && previous) {
      this.deps.logger.info("dead man's switch off", { pageOpen: this.state.page !== undefined });
    }
    this.publishMetrics();
    return this.kick();
  }

  /** Look at a notification received on the webhook: any firing alert matching `match` is a heartbeat. */
  observe(msg: WebhookMessage): void {
    const settings = this.settings;
    if (!settings || this.stopped || msg.status !== 'firing') return;
    if (!msg.alerts.some((a) => a.status === 'firing' && matchesAll(settings.matchers, a.labels))) return;
    const now = this.deps.now();
    const first = this.state.lastHeartbeatAt === undefined;
    this.state.lastHeartbeatAt = now;
    this.deps.metrics.lastHeartbeat.set(now / 1000);
    if (first) {
      this.deps.logger.info("dead man's switch: first heartbeat seen; it pages after a silence of its timeout", {
        timeout: formatDuration(settings.timeout),
        deadlineAt: iso(this.deadline()),
      });
    }
    // Only the heartbeat: the page is the business of the replica that runs the switch (its view here may be stale).
    if (first || now - this.heartbeatPersistedAt >= PERSIST_EVERY_MS) {
      this.heartbeatPersistedAt = now;
      this.tryStore(() => this.deps.state.saveHeartbeat(now));
    }
    // With a timer armed, it finds the later deadline when it fires; an open page is resolved now.
    if (this.state.page || this.timer === undefined) void this.kick();
  }

  /** Where the switch stands (the admin API). */
  status(): DeadmanStatus {
    const s = this.settings;
    const page = this.state.page;
    const state: DeadmanPhase = !s ? 'disabled' : page ? 'firing' : this.state.lastHeartbeatAt === undefined ? 'waiting' : 'ok';
    return {
      enabled: s !== undefined,
      state,
      match: s?.match ?? [],
      timeout: s ? formatDuration(s.timeout) : null,
      timeoutSeconds: s ? s.timeout / 1000 : null,
      targets: s?.targets ?? [],
      lastHeartbeatAt: iso(this.state.lastHeartbeatAt),
      deadlineAt: state === 'ok' ? iso(this.deadline()) : null,
      pageOpenSince: iso(page?.since),
      pageTargets: page?.targets ?? [],
      lastError: this.lastError ?? null,
    };
  }

  /** Stop timers and wait for a page being sent; the persisted state is kept for the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimer();
    await this.chain;
  }

  /** Resolves when every queued check has run (tests). */
  idle(): Promise<void> {
    return this.chain;
  }

  private async load(): Promise<void> {
    try {
      const stored = await this.deps.state.load();
      // A heartbeat seen while the state was read is newer than the stored one.
      const seen = this.state.lastHeartbeatAt;
      this.state = stored;
      if (seen !== undefined && seen > (stored.lastHeartbeatAt ?? -Infinity)) this.state.lastHeartbeatAt = seen;
    } catch (err) {
      // Unreadable: start as if new (no page can be resolved that we cannot read); said loudly.
      this.deps.logger.error("dead man's switch: its stored state cannot be read; starting without it", { error: String(err) });
    }
  }

  /**
   * Whether this replica evaluates now. The heartbeats other replicas recorded are taken from the ledger first, and
   * the page as the replica that ran the switch recorded it, unless that was this one all along: a replica that
   * takes over resolves the page another one opened, and never one already resolved. A replica that does not run
   * the switch keeps that view (the API, the metrics) and looks again after `retryMs`.
   */
  private async takeTurn(): Promise<boolean> {
    if (!this.deps.exclusive) return true;
    let mine = false;
    try {
      mine = await this.deps.exclusive();
      const stored = await this.deps.state.load();
      if (stored.lastHeartbeatAt !== undefined && stored.lastHeartbeatAt > (this.state.lastHeartbeatAt ?? -Infinity)) {
        this.state.lastHeartbeatAt = stored.lastHeartbeatAt;
      }
      if (!(mine && this.holding)) this.state.page = stored.page;
      if (!mine) this.publishMetrics();
    } catch (err) {
      this.deps.logger.error("dead man's switch: cannot tell whether this replica runs it; trying again", { error: String(err), retryInMs: this.retryMs });
      mine = false;
    }
    this.holding = mine;
    if (!mine) this.arm(this.deps.now() + this.retryMs);
    return mine;
  }

  /** Queue one check (checks never overlap; queued ones coalesce). */
  private kick(): Promise<void> {
    if (this.queued) return this.chain;
    this.queued = true;
    this.chain = this.chain.then(async () => {
      this.queued = false;
      await this.check();
    });
    return this.chain;
  }

  /** The silence that pages ends here (while no page is open). */
  private deadline(): number | undefined {
    const s = this.settings;
    const last = this.state.lastHeartbeatAt;
    if (!s || last === undefined) return undefined;
    return Math.max(last, this.armedAt) + s.timeout;
  }

  /** Whether a page should be open now. An open page stays open until a heartbeat is fresh again. */
  private wantPage(now: number): boolean {
    const s = this.settings;
    const last = this.state.lastHeartbeatAt;
    if (!s || last === undefined) return false;
    return this.state.page ? now >= last + s.timeout : now >= (this.deadline() ?? Infinity);
  }

  /** Bring the page in line with the heartbeat, then arm the timer for the next deadline. */
  private async check(): Promise<void> {
    if (this.stopped) return;
    this.clearTimer();
    // Off with nothing left to resolve or forget: nothing to evaluate, no turn to take.
    if (!this.settings && !this.state.page && this.state.lastHeartbeatAt === undefined) return;
    if (!(await this.takeTurn()) || this.stopped) return;
    try {
      // A heartbeat may arrive while a page is sent: loop until what is wanted is what is open.
      for (;;) {
        const now = this.deps.now();
        const want = this.wantPage(now);
        if (want && !this.state.page) await this.openPage(now);
        else if (!want && this.state.page) await this.resolvePage(now);
        else break;
        if (this.stopped) return;
      }
      this.lastError = undefined;
    } catch (err) {
      this.lastError = String(err instanceof Error ? err.message : err);
      this.deps.logger.error("dead man's switch: the page (or its resolve) was not accepted; trying again", {
        error: this.lastError,
        retryInMs: this.retryMs,
      });
      this.arm(this.deps.now() + this.retryMs);
      return;
    }
    if (!this.settings) {
      // Turned off, and nothing left open: forget the heartbeat, so turning it on again starts afresh.
      if (this.state.lastHeartbeatAt !== undefined) {
        this.state = {};
        this.tryStore(() => this.deps.state.clear());
        this.publishMetrics();
      }
      return;
    }
    this.scheduleNext();
  }

  private scheduleNext(): void {
    const s = this.settings;
    const now = this.deps.now();
    if (!s) return;
    // An open page waits for a heartbeat, not a deadline; on a shared ledger another replica may be the one that sees
    // it, so the ledger is looked at every retryMs.
    if (this.state.page) return this.deps.exclusive ? this.arm(now + this.retryMs) : undefined;
    if (this.state.lastHeartbeatAt === undefined) {
      const warnAt = this.armedAt + s.timeout;
      if (this.warnedWaiting) return;
      if (now < warnAt) return this.arm(warnAt);
      this.warnedWaiting = true;
      this.deps.logger.warn("dead man's switch: no heartbeat since start; it is not armed until the first one (check the Watchdog route to alertmux)", {
        match: s.match,
        since: iso(this.armedAt),
      });
      return;
    }
    this.arm(this.deadline() ?? now);
  }

  private async openPage(now: number): Promise<void> {
    const s = this.settings as DeadmanSettings;
    const facts: PageFacts = { since: now, lastHeartbeatAt: this.state.lastHeartbeatAt ?? now, timeout: s.timeout, match: s.match };
    const targets = [...s.targets];
    const sent = await this.deps.send(pageMessage('firing', facts, now), targets);
    if (!sent) throw new Error(`none of its targets is configured (${targets.join(', ')})`);
    // Recorded after the accept: a crash in between pages again at the next start, and that page is a
    // duplicate within dedup.window (same group, same alert), so the targets still see one.
    this.state.page = { ...facts, targets };
    this.persist();
    this.deps.metrics.firing.set(1);
    this.deps.logger.warn("dead man's switch: heartbeat missing; paged", {
      lastHeartbeatAt: iso(facts.lastHeartbeatAt),
      timeout: formatDuration(s.timeout),
      targets,
      notificationId: sent.notificationId,
      outcome: sent.outcome,
    });
  }

  private async resolvePage(now: number): Promise<void> {
    const page = this.state.page as NonNullable<DeadmanState['page']>;
    const sent = await this.deps.send(pageMessage('resolved', page, now), page.targets);
    this.state.page = undefined;
    this.persist();
    this.deps.metrics.firing.set(0);
    const why = this.settings ? 'heartbeat back' : 'switch turned off';
    this.deps.logger.info(`dead man's switch: ${why}; page resolved`, {
      pageOpenSince: iso(page.since),
      lastHeartbeatAt: iso(this.state.lastHeartbeatAt),
      targets: page.targets,
      ...(sent ? { notificationId: sent.notificationId, outcome: sent.outcome } : { note: 'none of its targets is configured any more' }),
    });
  }

  private persist(): void {
    this.tryStore(() => this.deps.state.save(this.state));
  }

  /** A ledger that cannot write costs the restart-safety, never the switch itself: logged, and on it goes. */
  private tryStore(write: () => void | Promise<void>): void {
    const failed = (err: unknown) => this.deps.logger.error("dead man's switch: cannot record its state in the ledger", { error: String(err) });
    try {
      void Promise.resolve(write()).catch(failed);
    } catch (err) {
      failed(err);
    }
  }

  private publishMetrics(): void {
    this.deps.metrics.lastHeartbeat.set(this.settings && this.state.lastHeartbeatAt !== undefined ? this.state.lastHeartbeatAt / 1000 : 0);
    this.deps.metrics.firing.set(this.state.page ? 1 : 0);
  }

  private arm(at: number): void {
    this.clearTimer();
    if (this.stopped) return;
    const delay = Math.min(Math.max(0, at - this.deps.now()), MAX_TIMER_MS);
    this.timer = this.deps.timers.set(() => {
      this.timer = undefined;
      void this.kick();
    }, delay);
  }

  private clearTimer(): void {
    if (this.timer === undefined) return;
    this.deps.timers.clear(this.timer);
    this.timer = undefined;
  }
}

function describe(s: DeadmanSettings): { match: readonly string[]; timeout: string; targets: readonly string[] } {
  return { match: s.match, timeout: formatDuration(s.timeout), targets: s.targets };
}

function sameSettings(a: DeadmanSettings, b: DeadmanSettings): boolean {
  return JSON.stringify([a.match, a.timeout, a.targets]) === JSON.stringify([b.match, b.timeout, b.targets]);
}

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}
