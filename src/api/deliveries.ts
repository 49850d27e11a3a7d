import express, { type Request, type Router } from 'express';
import { alertnameOf } from '../alerts/common.js';
import { summarize, targetResult } from '../dispatch/result.js';
import { jsonBody } from '../receiver/body.js';
import { bodyObject, integer, oneOf, queryParams, text } from './input.js';
import { sentOf, type TargetMessageOf } from './sent.js';
import { startReplayTrials, type TrialDeps } from './trial.js';
import type { WebhookMessage } from '../alerts/types.js';
import type { Ledger } from '../delivery/ledger.js';
import type { AttemptRecord, DeliveryRecord, DeliveryState, ReplayFilter } from '../delivery/types.js';
import type { Logger } from '../observability/logger.js';
import { bulkFilterOf } from './bulk.js';
import { cursorOf, decodeCursor, encodeCursor, parseTime, time } from './query.js';
import type { Metrics } from '../observability/metrics.js';

/** A delivery list cursor: the sequence number of the last delivery of the previous page. */
const isSeq = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) > 0;

const STATES: readonly DeliveryState[] = ['pending', 'delivered', 'dead', 'skipped', 'superseded'];

/** What the operator routes need. */
export interface DeliveriesDeps {
  store: Ledger;
  metrics: Metrics;
  now: () => number;
  /** Deliveries replayed: the retry worker should look now. */
  onReplay(): void;
  /** Ledger updates still in memory are written before reading; resolves once committed. */
  flush(): Promise<void>;
  logger: Logger;
  /** A replay of a target whose breaker is not closed goes through as its trial now. */
  trial: TrialDeps;
  /** Rebuilds what a target received from the stored notification, to render what was sent. */
  targetMessage: TargetMessageOf;
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
    const rows = await deps.store.list({
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
    const d = await deps.store.getDelivery(req.params['id'] ?? '');
    if (!d) res.status(404).json({ error: 'no such delivery' });
    else res.json({ ...view(d), attemptHistory: (await deps.store.attemptsOf(d.id)).map(attemptView) });
  });

  router.get('/api/v1/deliveries/:id/attempts', queryParams(), async (req, res) => {
    await deps.flush();
    const d = await deps.store.getDelivery(req.params['id'] ?? '');
    if (!d) res.status(404).json({ error: 'no such delivery' });
    else res.json({ deliveryId: d.id, target: d.target, attempts: d.attempts, attemptHistory: (await deps.store.attemptsOf(d.id)).map(attemptView) });
  });

  router.get('/api/v1/notifications/:id', queryParams(), async (req, res) => {
    await deps.flush();
    const n = await deps.store.getNotification(req.params['id'] ?? '');
    if (!n) {
      res.status(404).json({ error: 'no such notification' });
      return;
    }
    const deliveries = await deps.store.deliveriesOf(n.id);
    const history = new Map<string, AttemptRecord[]>();
    for (const a of await deps.store.attemptsOfNotification(n.id)) {
      const list = history.get(a.deliveryId);
      if (list) list.push(a);
      else history.set(a.deliveryId, [a]);
    }
    const result = summarize(n, deliveries.map((d) => targetResult(d)), 0);
    const runtime = deps.trial.runtime();
    const byId = new Map(deliveries.map((d) => [d.id, d]));
    const targets = result.targets.map((t) => {
      const d = byId.get(t.deliveryId ?? '');
      return { ...t, attemptHistory: (history.get(t.deliveryId ?? '') ?? []).map(attemptView), ...(d ? sentOf(runtime, n, d, deps.targetMessage) : {}) };
    });
    res.json({ ...result, targets, receivedAt: new Date(n.createdAt).toISOString(), payload: JSON.parse(n.original) as unknown });
  });

  router.post('/api/v1/deliveries/:id/replay', queryParams(), async (req, res) => {
    await deps.flush();
    const id = req.params['id'] ?? '';
    const d = await deps.store.getDelivery(id);
    if (!d || (d.state !== 'dead' && d.state !== 'pending')) {
      res.status(404).json({ error: 'no dead or pending delivery with that id' });
      return;
    }
    if (!deps.trial.runtime().targets.has(d.target)) {
      deps.logger.warn('replay refused: the target is no longer configured', { ...who(req), ...(await about(deps.store, d)) });
      res.status(409).json({ error: `target "${d.target}" is no longer configured: add it back to replay this delivery, or delete it`, target: d.target, deliveryId: d.id });
      return;
    }
    await replay(req, res, { ids: [id] });
  });

  // Parsed here only: a router-wide parser would also read (and cap at 64 KiB) every later route's body.
  router.post('/api/v1/deliveries/replay', queryParams(), jsonBody(64 * 1024), async (req, res) => {
    const read = bodyObject(req, ['target', 'state', 'ids', 'since']);
    if (!read.ok) {
      res.status(read.status).json({ error: read.error });
      return;
    }
    const parsed = bulkFilterOf(read.body, deps.now(), 'replays');
    if (!parsed.ok) {
      res.status(400).json({ error: parsed.error });
      return;
    }
    await deps.flush();
    await replay(req, res, parsed.filter);
  });

  router.delete('/api/v1/deliveries/:id', queryParams(), async (req, res) => {
    await deps.flush();
    const d = await deps.store.getDelivery(req.params['id'] ?? '');
    if (d && (await deps.store.delete(d.id))) {
      deps.logger.info('delivery deleted', { ...who(req), ...(await about(deps.store, d)), state: d.state, attempts: d.attempts });
      res.status(204).end();
    } else res.status(404).json({ error: 'no such delivery' });
  });

  /**
   * Replay what `filter` matches among configured targets (the others are reported, not replayed); a target whose
   * breaker is not closed gets its oldest replayed delivery now as the trial, and the answer waits for it.
   */
  async function replay(req: Request, res: express.Response, filter: ReplayFilter): Promise<void> {
    const configured = [...deps.trial.runtime().targets.keys()];
    const result = await deps.store.replay({ ...filter, configured }, deps.now());
    const records = (await Promise.all(result.ids.map((id) => deps.store.getDelivery(id)))).filter((d): d is DeliveryRecord => d !== undefined);
    for (const d of records) deps.metrics.replays.inc({ target: d.target });
    const notReplayed = result.unconfiguredCount
      ? { count: result.unconfiguredCount, why: 'their target is no longer configured', deliveries: result.unconfigured }
      : undefined;
    const only = records.length === 1 ? records[0] : undefined;
    deps.logger.info('deliveries replayed', {
      ...who(req),
      ...(only ? await about(deps.store, only) : { targets: [...new Set(records.map((d) => d.target))], ids: result.ids.slice(0, 20) }),
      replayed: records.length,
      ...(notReplayed ? { notReplayed: notReplayed.count } : {}),
    });
    // The trials take their breaker's one trial before the worker wakes and looks for due deliveries.
    const { runs, held } = startReplayTrials(deps.trial, records);
    if (records.length) deps.onReplay();
    const trials = await Promise.all(runs);
    res.status(202).json({
      replayed: result.ids.length,
      ids: result.ids,
      ...(trials.length ? { trials } : {}),
      ...(held.length ? { held } : {}),
      ...(notReplayed ? { notReplayed } : {}),
    });
  }
  return router;
}

/** Who asked (for the log line of an operator's action). */
function who(req: Request): { by: string } {
  return { by: req.socket.remoteAddress ?? 'unknown' };
}

/** A delivery as a log line names it: target, alert name, notification and delivery ids. */
async function about(store: Ledger, d: DeliveryRecord): Promise<Record<string, unknown>> {
  let alertname: string | undefined;
  try {
    const n = await store.getNotification(d.notificationId);
    alertname = n && alertnameOf(JSON.parse(n.original) as WebhookMessage);
  } catch {
    // A notification that cannot be read leaves the alert name out of the line, not the line out of the log.
  }
  return { target: d.target, alertname, notificationId: d.notificationId, deliveryId: d.id };
}

/** One attempt as the API shows it (the console's timeline). */
function attemptView(a: AttemptRecord) {
  return {
    attempt: a.attempt,
    at: new Date(a.at).toISOString(),
    replica: a.replica,
    durationMs: a.durationMs === undefined ? undefined : Math.round(a.durationMs * 10) / 10,
    statusCode: a.statusCode,
    reason: a.reason,
    error: a.error,
    outcome: a.outcome,
    nextAttemptAt: a.nextAttemptAt === undefined ? undefined : new Date(a.nextAttemptAt).toISOString(),
    trial: a.trial,
    replay: a.replay,
  };
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
    replayedAt: iso(d.replayedAt),
    attemptsSinceReplay: d.replayedAt === undefined ? undefined : d.attempts - (d.attemptsAtReplay ?? 0),
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
