import express, { type Router } from 'express';
import { matchesAll, parseMatchers, type Matcher } from '../matchers/matchers.js';
import { summarize, targetResult } from '../dispatch/result.js';
import { integer, oneOf, queryParams, text } from './input.js';
import { cursorOf, decodeCursor, encodeCursor, matcherSet, parseTime, time } from './query.js';
import type { WebhookMessage } from '../alerts/types.js';
import type { Ledger } from '../delivery/ledger.js';
import type { DeliveryRecord, NotificationFilter, NotificationOutcome, NotificationSummary } from '../delivery/types.js';

export const OUTCOMES: readonly NotificationOutcome[] = ['delivered', 'partial', 'failed', 'accepted', 'pending'];
/** Notifications a label matcher may read (their payloads) for one page; the page ends there with a cursor to go on. */
export const MATCH_SCAN_LIMIT = 5000;

type Cursor = [createdAt: number, id: string];
const isCursor = (v: unknown): v is Cursor => Array.isArray(v) && v.length === 2 && Number.isSafeInteger(v[0]) && typeof v[1] === 'string';

/** What the notification list needs. */
export interface NotificationsDeps {
  store: Ledger;
  now: () => number;
  /** Ledger updates still in memory are written before reading. */
  flush(): Promise<void>;
}

/** GET /api/v1/notifications: newest first, filtered, with a cursor that holds under concurrent inserts. */
export function createNotificationsRouter(deps: NotificationsDeps): Router {
  const router = express.Router();
  const spec = {
    alertname: text,
    receiver: text,
    groupKey: text,
    status: oneOf(['firing', 'resolved']),
    outcome: oneOf(OUTCOMES),
    target: text,
    since: time,
    until: time,
    match: matcherSet,
    limit: integer(1, 1000),
    cursor: cursorOf(isCursor),
  };
  router.get('/api/v1/notifications', queryParams(spec), async (req, res) => {
    const q = req.query as Record<string, string | undefined>;
    const now = deps.now();
    const cursor = q['cursor'] === undefined ? undefined : decodeCursor(q['cursor'], isCursor);
    const filter: NotificationFilter = {
      alertname: q['alertname'],
      receiver: q['receiver'],
      groupKey: q['groupKey'],
      status: q['status'] as NotificationFilter['status'],
      outcome: q['outcome'] as NotificationOutcome | undefined,
      target: q['target'],
      since: q['since'] === undefined ? undefined : parseTime(q['since'], now),
      until: q['until'] === undefined ? undefined : parseTime(q['until'], now),
      before: cursor && { createdAt: cursor[0], id: cursor[1] },
    };
    const limit = Number(q['limit'] ?? 50);
    const matchers = q['match'] === undefined ? undefined : parseMatchers(q['match']);
    await deps.flush();
    const { page, next } = await readPage(deps.store, filter, limit, matchers);
    const deliveries = groupBy(await deps.store.deliveriesOfMany(page.map((n) => n.id)));
    res.json({
      notifications: page.map((n) => listView(n, deliveries.get(n.id) ?? [])),
      nextCursor: next ? encodeCursor([next.createdAt, next.id] satisfies Cursor) : null,
    });
  });
  return router;
}

/**
 * One page, and the last notification read when more may follow (the next page starts after it). With a label
 * matcher, at most MATCH_SCAN_LIMIT payloads are read: the page may then be short, with a cursor to go on.
 */
async function readPage(store: Ledger, filter: NotificationFilter, limit: number, matchers?: readonly Matcher[]) {
  const page: NotificationSummary[] = [];
  let last: NotificationSummary | undefined;
  let scanned = 0;
  let more = false;
  let before = filter.before;
  // The ledger answers a page at a time, one row more than needed (it tells whether more follow); a label matcher
  // filters here, so while it leaves the page short the next rows are asked for after the last one read.
  for (;;) {
    const ask = (matchers ? Math.min(limit, MATCH_SCAN_LIMIT - scanned) : limit) + 1;
    const rows = await store.notifications({ ...filter, before }, ask);
    for (const n of rows) {
      if (page.length === limit || scanned === MATCH_SCAN_LIMIT) {
        more = true;
        break;
      }
      last = n;
      if (matchers) scanned++;
      if (!matchers || (await anyAlertMatches(store, n.id, matchers))) page.push(n);
    }
    const end = rows[rows.length - 1];
    if (more || rows.length < ask || !end) break;
    before = { createdAt: end.createdAt, id: end.id };
  }
  return { page, next: more ? last : undefined };
}

/** Whether any alert of the notification (as enriched, the labels targets route on) matches every matcher. */
async function anyAlertMatches(store: Ledger, id: string, matchers: readonly Matcher[]): Promise<boolean> {
  const n = await store.getNotification(id);
  if (!n) return false;
  try {
    const msg = JSON.parse(n.enriched) as WebhookMessage;
    return msg.alerts.some((a) => matchesAll(matchers, a.labels));
  } catch {
    return false; // a payload that does not read (never written so) matches nothing rather than failing the page
  }
}

function groupBy(deliveries: readonly DeliveryRecord[]): Map<string, DeliveryRecord[]> {
  const by = new Map<string, DeliveryRecord[]>();
  for (const d of deliveries) {
    const list = by.get(d.notificationId);
    if (list) list.push(d);
    else by.set(d.notificationId, [d]);
  }
  return by;
}

/** A notification as the list shows it: its current outcome and one entry per delivery. */
export function listView(n: NotificationSummary, deliveries: readonly DeliveryRecord[]) {
  return {
    id: n.id,
    receivedAt: new Date(n.createdAt).toISOString(),
    receiver: n.receiver,
    groupKey: n.groupKey,
    status: n.status,
    alertnames: n.alertnames,
    alerts: n.alerts,
    outcome: summarize(n, deliveries.map((d) => targetResult(d)), 0).outcome,
    targets: deliveries.map((d) => ({
      target: d.target,
      type: d.targetType,
      deliveryId: d.id,
      state: d.state,
      skipReason: d.skipReason,
      attempts: d.attempts,
      lastStatus: d.lastStatus,
      lastReason: d.lastReason,
      lastError: d.lastError,
      fallbackFor: d.fallbackFor,
      nextAttemptAt: d.state === 'pending' && d.nextAttemptAt !== undefined && d.skipReason !== 'paused' ? new Date(d.nextAttemptAt).toISOString() : undefined,
    })),
  };
}
