import type { DeliveryRecord, FallbackReason, NotificationRecord, SkipReason } from '../delivery/types.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { Runtime } from './runtime.js';

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
  /** A fallback delivery: the target the notification was meant for, */
  fallbackFor?: string;
  /** the id of that target's delivery, */
  fallbackOf?: string;
  /** and why it was sent (`dead`: dead-lettered; `held`: held for `fallback_after`). */
  fallbackReason?: FallbackReason;
  /** The id of the fallback delivery sent for this one. */
  fallbackDeliveryId?: string;
}

/** The dispatch result (docs/api.md): the body of every 2xx answer and of GET /api/v1/notifications/:id. */
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

/** The result entry of one delivery record, at whatever point of its life it is, with its fallback marks. */
export function targetResult(d: DeliveryRecord, inFlight = false): TargetResult {
  const r = stateResult(d, inFlight);
  if (d.fallbackOf !== undefined) {
    r.fallbackFor = d.fallbackFor;
    r.fallbackOf = d.fallbackOf;
    r.fallbackReason = d.fallbackReason;
  }
  if (d.fallbackId !== undefined) r.fallbackDeliveryId = d.fallbackId;
  return r;
}

function stateResult(d: DeliveryRecord, inFlight: boolean): TargetResult {
  // Built by assignment, not spreads: this runs per target per notification, and spread-built objects are slow in V8.
  const r: TargetResult = { target: d.target, type: d.targetType, deliveryId: d.id, attempts: d.attempts, state: 'pending' };
  switch (d.state) {
    case 'delivered':
      r.state = 'succeeded';
      return withLast(r, d);
    case 'skipped':
    case 'superseded':
      r.state = 'skipped';
      r.skipReason = d.skipReason ?? 'superseded';
      return r;
    case 'dead':
      failed(r, d, false).deadLettered = true;
      return r;
    case 'pending': {
      if (inFlight || (d.attempts === 0 && !d.skipReason)) {
        r.queued = true;
        return r;
      }
      // A paused target's delivery reads as paused whatever its earlier attempts did: it waits for the resume, not a due time.
      if (d.skipReason === 'paused' || (d.skipReason && (d.lastReason === undefined || d.attempts === 0))) {
        r.state = 'skipped';
        r.skipReason = d.skipReason;
      } else failed(r, d, true);
      r.queued = true;
      if (d.nextAttemptAt !== undefined && d.skipReason !== 'paused') r.nextAttemptAt = new Date(d.nextAttemptAt).toISOString();
      return r;
    }
  }
}

/** A failed delivery: its last attempt's status, duration, reason and error. */
function failed(r: TargetResult, d: DeliveryRecord, retryable: boolean): TargetResult {
  r.state = 'failed';
  withLast(r, d);
  r.retryable = retryable;
  r.reason = d.lastReason;
  r.error = d.lastError;
  return r;
}

/** The last attempt's status code and duration, when there was one. */
function withLast(r: TargetResult, d: DeliveryRecord): TargetResult {
  if (d.lastStatus !== undefined) r.statusCode = d.lastStatus;
  if (d.durationMs !== undefined) r.durationMs = round(d.durationMs);
  return r;
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

/** Log a dispatch's result: a warning when every target that wants it was skipped for health, then its summary line. */
export function logResult(result: DispatchResult, rt: Pick<Runtime, 'config'>, deps: { metrics: Metrics; logger: Logger }): void {
  // Targets that still need the notification: everything but skips by design.
  const wanted = result.targets.filter((t) => t.state !== 'skipped' || t.queued);
  if (wanted.length > 0 && wanted.every((t) => t.state === 'skipped')) {
    deps.metrics.allSkipped.inc();
    deps.logger.warn('every selected target was skipped for health reasons; the notification is queued for them', {
      notificationId: result.id,
      groupKey: result.groupKey,
      targets: wanted.map((t) => `${t.target}:${t.skipReason}`),
    });
  }
  // Like Alertmanager's "Notify success", a fully delivered notification is a debug line; anything else stays at info.
  const level = result.outcome === 'delivered' ? 'debug' : 'info';
  if (!deps.logger.isLevelEnabled(level)) return;
  deps.logger[level]('notification', {
    notificationId: result.id,
    receiver: result.receiver,
    groupKey: result.groupKey,
    status: result.status,
    outcome: result.outcome,
    durationMs: result.durationMs,
    targets: Object.fromEntries(
      result.targets.map((t) => [t.target, t.skipReason ? `${t.state}:${t.skipReason}` : t.reason ? `${t.state}:${t.reason}` : t.state]),
    ),
    ...(rt.config.log.level === 'debug' ? { totals: result.totals } : {}),
  });
}
