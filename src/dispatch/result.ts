import type { DeliveryRecord, NotificationRecord, SkipReason } from '../delivery/types.js';

/** What happened to one target, as the webhook answer and the API show it. */
export interface TargetResult {
  target: string;
  type: string;
  state: 'succeeded' | 'failed' | 'skipped' | 'pending';
  deliveryId?: string;
  statusCode?: number;
  attempts: number;
  durationMs?: number;
  retryable?: boolean;
  reason?: string;
  error?: string;
  nextAttemptAt?: string;
  skipReason?: SkipReason;
  /** Skipped or failed, but kept in the ledger: it will still be delivered. */
  queued?: boolean;
  deadLettered?: boolean;
}

/** The dispatch result of DESIGN.md: the body of every 2xx answer and of GET /api/v1/notifications/:id. */
export interface DispatchResult {
  id: string;
  receiver: string;
  groupKey: string;
  status: 'firing' | 'resolved';
  outcome: 'delivered' | 'partial' | 'failed' | 'accepted';
  totals: { targets: number; succeeded: number; failed: number; skipped: number; pending: number };
  durationMs: number;
  targets: TargetResult[];
}

/** Skips that are the config's intent: they need no delivery, ever. */
const BY_DESIGN: ReadonlySet<SkipReason | undefined> = new Set(['disabled', 'filtered', 'duplicate', 'superseded']);

/** The result entry of one delivery record, at whatever point of its life it is. */
export function targetResult(d: DeliveryRecord, inFlight = false): TargetResult {
  const base = { target: d.target, type: d.targetType, deliveryId: d.id, attempts: d.attempts };
  const last = {
    ...(d.lastStatus === undefined ? {} : { statusCode: d.lastStatus }),
    ...(d.durationMs === undefined ? {} : { durationMs: round(d.durationMs) }),
  };
  switch (d.state) {
    case 'delivered':
      return { ...base, state: 'succeeded', ...last };
    case 'skipped':
    case 'superseded':
      return { ...base, state: 'skipped', skipReason: d.skipReason ?? 'superseded' };
    case 'dead':
      return { ...base, state: 'failed', ...last, retryable: false, reason: d.lastReason, error: d.lastError, deadLettered: true };
    case 'pending': {
      const next = d.nextAttemptAt === undefined ? {} : { nextAttemptAt: new Date(d.nextAttemptAt).toISOString() };
      if (inFlight || (d.attempts === 0 && !d.skipReason)) return { ...base, state: 'pending', queued: true };
      if (d.skipReason && (d.lastReason === undefined || d.attempts === 0)) {
        return { ...base, state: 'skipped', skipReason: d.skipReason, queued: true, ...next };
      }
      return { ...base, state: 'failed', ...last, retryable: true, reason: d.lastReason, error: d.lastError, queued: true, ...next };
    }
  }
}

/** Totals and outcome of a set of target results. */
export function summarize(
  n: Pick<NotificationRecord, 'id' | 'receiver' | 'groupKey' | 'status'>,
  targets: TargetResult[],
  durationMs: number,
): DispatchResult {
  const count = (s: TargetResult['state']) => targets.filter((t) => t.state === s).length;
  const totals = { targets: targets.length, succeeded: count('succeeded'), failed: count('failed'), skipped: count('skipped'), pending: count('pending') };
  const open = targets.filter((t) => t.state === 'failed' || t.state === 'pending' || (t.state === 'skipped' && !BY_DESIGN.has(t.skipReason)));
  let outcome: DispatchResult['outcome'];
  if (open.length === 0) outcome = 'delivered';
  else if (totals.succeeded > 0) outcome = 'partial';
  else if (totals.failed > 0 && totals.failed === open.length && targets.every((t) => t.state !== 'failed' || t.deadLettered)) outcome = 'failed';
  else outcome = 'accepted';
  return { id: n.id, receiver: n.receiver, groupKey: n.groupKey, status: n.status, outcome, totals, durationMs: round(durationMs), targets };
}

/** HTTP status of a dispatch result: 200 when nothing is left to do, 202 when alertmux now owns the rest. */
export function httpStatus(result: DispatchResult): 200 | 202 {
  return result.outcome === 'delivered' ? 200 : 202;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
