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
/**
 * `alert` is what the other Alertmanager has (its labels with the extra labels applied); `labels` are the alert's
 * own, so that a change of `extra_labels` can be applied to it. Entries stored before `labels` existed lack them.
 */
type Entries = Record<string, { alert: PostableAlert; labels?: Record<string, string>; expiresAt: number }>;

/** A firing alert posted under a label set the current `extra_labels` no longer give. */
export interface Relabeled {
  fingerprint: string;
  /** As posted: to be resolved, or it stays active on the other side until its `resolve_timeout`. */
  old: PostableAlert;
  /** The same alert under the current labels: to be posted firing from now on. */
  next: PostableAlert;
}

/**
 * The firing alerts forwarded and not resolved yet, by fingerprint, in the target's
 * state (one key): they survive a restart and each expires `ttlMs` after it was last seen.
 */
export class ActiveAlerts {
  /** Read-modify-writes of the one key, one after another (the state answers asynchronously). */
  private turn: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly state: TargetState,
    private readonly now: () => number,
    private readonly ttlMs: number,
  ) {}

  /** The alerts to re-post, in the order they were last seen. */
  async list(): Promise<PostableAlert[]> {
    const now = this.now();
    return Object.values(await this.read())
      .filter((e) => e.expiresAt > now)
      .map((e) => e.alert);
  }

  /** Remember firing alerts (again), as posted and with their own labels: each lives `ttlMs` from now. */
  add(alerts: ReadonlyArray<readonly [fingerprint: string, alert: PostableAlert, labels: Record<string, string>]>): Promise<void> {
    if (alerts.length === 0) return Promise.resolve();
    return this.change((entries) => {
      const expiresAt = this.now() + this.ttlMs;
      for (const [fingerprint, alert, labels] of alerts) {
        delete entries[fingerprint]; // re-insert: keep insertion order = last seen order
        entries[fingerprint] = { alert, labels, expiresAt };
      }
      return true;
    });
  }

  /**
   * The live alerts posted under other labels than their own with `extraLabels` give (a reload changed
   * `extra_labels`). An entry without its own labels counts the posted ones as its own: a label the old
   * `extra_labels` added and the new ones drop cannot be told apart from the alert's, so only added or
   * changed extra labels are seen there.
   */
  async relabeled(extraLabels: Record<string, string>): Promise<Relabeled[]> {
    const now = this.now();
    const changed: Relabeled[] = [];
    for (const [fingerprint, entry] of Object.entries(await this.read())) {
      if (entry.expiresAt <= now) continue;
      const labels = { ...(entry.labels ?? entry.alert.labels), ...extraLabels };
      if (!sameLabels(labels, entry.alert.labels)) changed.push({ fingerprint, old: entry.alert, next: { ...entry.alert, labels } });
    }
    return changed;
  }

  /** Record that the relabeled alerts are now posted under their new labels (each keeps its expiry). */
  relabel(changed: readonly Relabeled[]): Promise<void> {
    if (changed.length === 0) return Promise.resolve();
    return this.change((entries) => {
      for (const { fingerprint, old, next } of changed) {
        const entry = entries[fingerprint];
        // Only if nothing replaced it meanwhile (a new notification of the alert stored what it posted).
        if (entry && sameLabels(entry.alert.labels, old.labels)) entries[fingerprint] = { ...entry, alert: next, labels: entry.labels ?? old.labels };
      }
      return true;
    });
  }

  /** Forget resolved alerts. */
  remove(fingerprints: readonly string[]): Promise<void> {
    return this.change((entries) => {
      const before = Object.keys(entries).length;
      for (const fingerprint of fingerprints) delete entries[fingerprint];
      return Object.keys(entries).length !== before;
    });
  }

  /** Read the entries, change them (`edit` says whether it did), write them back: in turn with the other changes. */
  private change(edit: (entries: Entries) => boolean): Promise<void> {
    const done = this.turn.then(async () => {
      const entries = await this.read();
      if (edit(entries)) await this.write(entries);
    });
    this.turn = done.catch(() => undefined);
    return done;
  }

  private async read(): Promise<Entries> {
    return (await this.state.get<Entries>(KEY)) ?? {};
  }

  private async write(entries: Entries): Promise<void> {
    const now = this.now();
    const live = Object.entries(entries).filter(([, e]) => e.expiresAt > now);
    if (live.length === 0) return this.state.delete(KEY);
    const until = Math.max(...live.map(([, e]) => e.expiresAt));
    return this.state.set(KEY, Object.fromEntries(live), until - now);
  }
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && b[k] === a[k]);
}
