import { isZeroTime, type Alert } from '../alerts/types.js';
import type { TargetState } from './publisher.js';

/** An alert as Alertmanager's API v2 takes it (`postableAlert` in api/v2/openapi.yaml). */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  /** Only on resolved alerts: a firing alert without `endsAt` lives for the receiver's `resolve_timeout`. */
  endsAt?: string;
  generatorURL?: string;
}

/**
 * The postable form of an alert. `extraLabels` win over the alert's own (a `relayed_by`
 * label lets the other side route or inhibit relayed alerts and so break loops).
 * The zero `endsAt` of a firing alert is never forwarded.
 */
export function toPostableAlert(alert: Alert, extraLabels: Record<string, string>, now: number): PostableAlert {
  const resolved = alert.status === 'resolved';
  return {
    labels: { ...alert.labels, ...extraLabels },
    annotations: { ...alert.annotations },
    startsAt: alert.startsAt,
    ...(resolved ? { endsAt: isZeroTime(alert.endsAt) ? new Date(now).toISOString() : alert.endsAt } : {}),
    ...(alert.generatorURL ? { generatorURL: alert.generatorURL } : {}),
  };
}

const KEY = 'active';
type Entries = Record<string, { alert: PostableAlert; expiresAt: number }>;

/**
 * The firing alerts forwarded and not resolved yet, by fingerprint, in the target's
 * state (one key): they survive a restart and each expires `ttlMs` after it was last seen.
 */
export class ActiveAlerts {
  constructor(
    private readonly state: TargetState,
    private readonly now: () => number,
    private readonly ttlMs: number,
  ) {}

  /** The alerts to re-post, in the order they were last seen. */
  list(): PostableAlert[] {
    const now = this.now();
    return Object.values(this.read())
      .filter((e) => e.expiresAt > now)
      .map((e) => e.alert);
  }

  /** Remember firing alerts (again): each lives `ttlMs` from now. */
  add(alerts: ReadonlyArray<readonly [fingerprint: string, alert: PostableAlert]>): void {
    if (alerts.length === 0) return;
    const entries = this.read();
    const expiresAt = this.now() + this.ttlMs;
    for (const [fingerprint, alert] of alerts) {
      delete entries[fingerprint]; // re-insert: keep insertion order = last seen order
      entries[fingerprint] = { alert, expiresAt };
    }
    this.write(entries);
  }

  /** Forget resolved alerts. */
  remove(fingerprints: readonly string[]): void {
    const entries = this.read();
    const before = Object.keys(entries).length;
    for (const fingerprint of fingerprints) delete entries[fingerprint];
    if (Object.keys(entries).length !== before) this.write(entries);
  }

  private read(): Entries {
    return this.state.get<Entries>(KEY) ?? {};
  }

  private write(entries: Entries): void {
    const now = this.now();
    const live = Object.entries(entries).filter(([, e]) => e.expiresAt > now);
    if (live.length === 0) return this.state.delete(KEY);
    const until = Math.max(...live.map(([, e]) => e.expiresAt));
    this.state.set(KEY, Object.fromEntries(live), until - now);
  }
}
