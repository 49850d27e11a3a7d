/**
 * Duplicates decided as Alertmanager's notification log decides them (`notify.DedupStage.needsUpdate`):
 * per receiver, group key and target, the last accepted notification's firing and resolved alert
 * fingerprints. Labels only: HA peers and Prometheus replicas disagree on timestamps by milliseconds.
 */

/** What is remembered of the last accepted notification of one lane (receiver, group key, target). */
export interface DedupState {
  /** Fingerprints of its firing alerts, sorted. */
  readonly firing: readonly string[];
  /** Fingerprints of its resolved alerts, sorted. */
  readonly resolved: readonly string[];
  /** When it was accepted. */
  readonly at: number;
}

/** One target's view of a notification: the alerts its matchers select, by status, and what it wants. */
export interface DedupEntry {
  readonly receiver: string;
  readonly groupKey: string;
  readonly target: string;
  readonly firing: readonly string[];
  readonly resolved: readonly string[];
  readonly sendResolved: boolean;
  /** The notification's `notification_reason` says the repeat interval elapsed: Alertmanager means to notify again. */
  readonly repeat: boolean;
}

/** Why a notification is not a duplicate (Alertmanager's NotifyReason, in its words). */
export type DedupReason = 'first notification' | 'new alerts added' | 'all alerts resolved' | 'some alerts resolved' | 'repeat interval elapsed';

/** The value of `notification_reason` (Alertmanager ≥ 0.32) on a repeat. */
export const REPEAT_REASON = 'repeat interval elapsed';

/**
 * Why `entry` must go to its target, or undefined when it is a duplicate of `last` (the lane's
 * state, if any). A state accepted before `since` (the start of `dedup.window`) is forgotten: only
 * within the window is anything a duplicate, so a resolve hours after its firing always goes.
 */
export function needsUpdate(last: DedupState | undefined, entry: DedupEntry, since: number): DedupReason | undefined {
  if (entry.repeat) return 'repeat interval elapsed';
  if (!last || last.at < since) return 'first notification';
  if (!isSubset(entry.firing, last.firing)) return last.firing.length === 0 ? 'first notification' : 'new alerts added';
  // Everything resolved: sent (whatever send_resolved says) only if the last one had firing alerts.
  if (entry.firing.length === 0) return last.firing.length > 0 ? 'all alerts resolved' : undefined;
  if (entry.sendResolved && !isSubset(entry.resolved, last.resolved)) return 'some alerts resolved';
  return undefined;
}

/** True when every element of `sub` is in `of`. */
function isSubset(sub: readonly string[], of: readonly string[]): boolean {
  if (sub.length > of.length) return false;
  if (sub.length === 0) return true;
  const set = new Set(of);
  return sub.every((f) => set.has(f));
}

/** The key of an entry's lane. */
export function dedupLane(entry: Pick<DedupEntry, 'receiver' | 'groupKey' | 'target'>): string {
  return JSON.stringify([entry.receiver, entry.groupKey, entry.target]);
}
