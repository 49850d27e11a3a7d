import express, { type Router } from 'express';
import { summarize, targetResult } from '../dispatch/result.js';
import { jsonBody } from '../receiver/body.js';
import { bodyObject, integer, oneOf, queryParams, text } from './input.js';
import { bodySince } from './bulk.js';
import { cursorOf, decodeCursor, encodeCursor, parseTime, time } from './query.js';
import type { DeliveryRecord, DeliveryState, Store } from '../delivery/types.js';
import type { Metrics } from '../observability/metrics.js';

/** A delivery list cursor: the sequence number of the last delivery of the previous page. */
const isSeq = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) > 0;

const STATES: readonly DeliveryState[] = ['pending', 'delivered', 'dead', 'skipped', 'superseded'];

/** What the operator routes need. */
export interface DeliveriesDeps {
  store: Store;
  metrics: Metrics;
  now: () => number;
  /** Deliveries replayed: the retry worker should look now. */
  onReplay(): void;
  /** Ledger updates still in memory are written before reading; resolves once committed. */
  flush(): Promise<void>;
}

/** The retry queue and dead letters: list, inspect, replay, delete. */
export function createDeliveriesRouter(deps: DeliveriesDeps): Router {
  const router = express.Router();
  const listQuery = queryParams({
    state: oneOf(STATES),
    target: text,
    notification: text,
    reason: text,
    since: time,
    until: time,
    limit: integer(1, 1000),
    cursor: cursorOf(isSeq),
  });
  router.get('/api/v1/deliveries', listQuery, async (req, res) => {
    const query = req.query as Record<string, string | undefined>;
    const now = deps.now();
    const at = (name: string) => (query[name] === undefined ? undefined : parseTime(query[name], now));
    const limit = Number(query['limit'] ?? 100);
    await deps.flush();
    // One more than the page: whether a next page exists.
    const rows = deps.store.list({
      state: query['state'] as DeliveryState | undefined,
      target: query['target'],
      notificationId: query['notification'],
      reason: query['reason'],
      since: at('since'),
      until: at('until'),
      before: query['cursor'] === undefined ? undefined : decodeCursor(query['cursor'], isSeq),
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    res.json({ deliveries: page.map(view), nextCursor: rows.length > limit && last ? encodeCursor(last.seq) : null });
  });

  router.get('/api/v1/deliveries/:id', queryParams(), async (req, res) => {
    await deps.flush();
    const d = deps.store.getDelivery(req.params['id'] ?? '');
    if (!d) res.status(404).json({ error: 'no such delivery' });
    else res.json(view(d));
  });

  router.get('/api/v1/notifications/:id', queryParams(), async (req, res) => {
    await deps.flush();
    const n = deps.store.getNotification(req.params['id'] ?? '');
    if (!n) {
      res.status(404).json({ error: 'no such notification' });
      return;
    }
    const deliveries = deps.store.deliveriesOf(n.id);
    res.json({ ...summarize(n, deliveries.map((d) => targetResult(d)), 0), receivedAt: new Date(n.createdAt).toISOString(), payload: JSON.parse(n.original) as unknown });
  });

  router.post('/api/v1/deliveries/:id/replay', queryParams(), async (req, res) => {
    await deps.flush();
    const ids = deps.store.replay({ ids: [req.params['id'] ?? ''] }, deps.now());
    if (!ids.length) {
      res.status(404).json({ error: 'no dead or pending delivery with that id' });
      return;
    }
    countReplays(deps, ids);
    res.status(202).json({ replayed: ids.length, ids });
  });

  // Parsed here only: a router-wide parser would also read (and cap at 64 KiB) every later route's body.
  router.post('/api/v1/deliveries/replay', queryParams(), jsonBody(64 * 1024), async (req, res) => {
    const read = bodyObject(req, ['target', 'state', 'ids', 'since']);
    if (!read.ok) {
      res.status(read.status).json({ error: read.error });
      return;
    }
    const body = read.body as { target?: unknown; state?: unknown; ids?: unknown };
    const since = bodySince(read.body['since'], deps.now());
    if (!since.ok) {
      res.status(400).json({ error: since.error });
      return;
    }
    if (body.state !== undefined && body.state !== 'dead' && body.state !== 'pending') {
      res.status(400).json({ error: 'state must be dead or pending' });
      return;
    }
    if (body.ids !== undefined && !(Array.isArray(body.ids) && body.ids.length > 0 && body.ids.length <= 1000 && body.ids.every((i) => typeof i === 'string' && !text(i)))) {
      res.status(400).json({ error: 'ids must be an array of 1 to 1000 delivery ids' });
      return;
    }
    if (body.target !== undefined && (typeof body.target !== 'string' || text(body.target))) {
      res.status(400).json({ error: 'target must be a target name' });
      return;
    }
    if (body.ids === undefined && body.target === undefined && body.state === undefined && since.since === undefined) {
      res.status(400).json({ error: 'give a filter: {"target": "...", "state": "dead"} or {"ids": [...]}; {"state": "dead"} replays every dead letter' });
      return;
    }
    await deps.flush();
    const ids = deps.store.replay(
      { ids: body.ids as string[] | undefined, target: body.target as string | undefined, state: body.state as 'dead' | 'pending' | undefined, since: since.since },
      deps.now(),
    );
    countReplays(deps, ids);
    res.status(202).json({ replayed: ids.length, ids });
  });

  router.delete('/api/v1/deliveries/:id', queryParams(), async (req, res) => {
    await deps.flush();
    if (deps.store.delete(req.params['id'] ?? '')) res.status(204).end();
    else res.status(404).json({ error: 'no such delivery' });
  });
  return router;
}

function countReplays(deps: DeliveriesDeps, ids: string[]): void {
  for (const id of ids) {
    const d = deps.store.getDelivery(id);
    if (d) deps.metrics.replays.inc({ target: d.target });
  }
  if (ids.length) deps.onReplay();
}

/** A delivery as the API shows it (times as ISO strings). */
function view(d: DeliveryRecord) {
  const iso = (t?: number) => (t === undefined ? undefined : new Date(t).toISOString());
  return {
    id: d.id,
    notificationId: d.notificationId,
    target: d.target,
    type: d.targetType,
    groupKey: d.groupKey,
    state: d.state,
    skipReason: d.skipReason,
    priority: d.priority,
    attempts: d.attempts,
    createdAt: iso(d.createdAt),
    updatedAt: iso(d.updatedAt),
    nextAttemptAt: d.skipReason === 'paused' ? undefined : iso(d.nextAttemptAt),
    deliveredAt: iso(d.deliveredAt),
    lastStatus: d.lastStatus,
    lastReason: d.lastReason,
    lastError: d.lastError,
    alerts: d.alerts.length,
    fallbackFor: d.fallbackFor,
    fallbackOf: d.fallbackOf,
    fallbackReason: d.fallbackReason,
    fallbackDeliveryId: d.fallbackId,
    heldSince: iso(d.heldSince),
  };
}
