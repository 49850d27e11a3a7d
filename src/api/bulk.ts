import express, { type Router } from 'express';
import { jsonBody } from '../receiver/body.js';
import { bodyObject, queryParams, text } from './input.js';
import { parseTime, remoteOf } from './query.js';
import type { Ledger } from '../delivery/ledger.js';
import type { BulkFilter } from '../delivery/types.js';
import type { Logger } from '../observability/logger.js';

/** The `since` of a bulk body: undefined when absent, the time in ms, or why it is not one. */
function bodySince(value: unknown, now: number): { ok: true; since?: number } | { ok: false; error: string } {
  if (value === undefined) return { ok: true };
  const since = typeof value === 'string' ? parseTime(value, now) : undefined;
  return since === undefined ? { ok: false, error: 'since must be an RFC 3339 time (2026-11-22T23:00:00Z) or a duration before now (1h)' } : { ok: true, since };
}

/** Read `{ids}` or `{target, state, since}` (at least one field) into a bulk filter, or why not; `verb` says what the route does. */
export function bulkFilterOf(body: Record<string, unknown>, now: number, verb = 'selects'): { ok: true; filter: BulkFilter } | { ok: false; error: string } {
  const { ids, target, state } = body;
  if (state !== undefined && state !== 'dead' && state !== 'pending') return { ok: false, error: 'state must be dead or pending' };
  if (ids !== undefined && !(Array.isArray(ids) && ids.length > 0 && ids.length <= 1000 && ids.every((i) => typeof i === 'string' && !text(i)))) {
    return { ok: false, error: 'ids must be an array of 1 to 1000 delivery ids' };
  }
  if (target !== undefined && (typeof target !== 'string' || text(target))) return { ok: false, error: 'target must be a target name' };
  const since = bodySince(body['since'], now);
  if (!since.ok) return since;
  if (ids === undefined && target === undefined && state === undefined && since.since === undefined) {
    return { ok: false, error: `give a filter: {"target": "...", "state": "dead", "since": "1h"} or {"ids": [...]}; {"state": "dead"} ${verb} every dead letter` };
  }
  return { ok: true, filter: { ids: ids as string[] | undefined, target: target as string | undefined, state: state as BulkFilter['state'], since: since.since } };
}

/** What bulk delete needs. */
export interface BulkDeps {
  store: Ledger;
  logger: Logger;
  now: () => number;
  flush(): Promise<void>;
}

/** POST /api/v1/deliveries/delete: drop many deliveries (dead letters by default), logged with who asked. */
export function createBulkRouter(deps: BulkDeps): Router {
  const router = express.Router();
  router.post('/api/v1/deliveries/delete', queryParams(), jsonBody(64 * 1024), async (req, res) => {
    const read = bodyObject(req, ['ids', 'target', 'state', 'since']);
    if (!read.ok) {
      res.status(read.status).json({ error: read.error });
      return;
    }
    const parsed = bulkFilterOf(read.body, deps.now());
    if (!parsed.ok) {
      res.status(400).json({ error: parsed.error });
      return;
    }
    await deps.flush();
    const deleted = await deps.store.deleteMany(parsed.filter);
    const { ids, ...filter } = parsed.filter;
    deps.logger.warn('deliveries deleted by an operator', {
      remote: remoteOf(req),
      deleted,
      ...(ids ? { ids: ids.length } : {}),
      ...filter,
      ...(filter.since === undefined ? {} : { since: new Date(filter.since).toISOString() }),
    });
    res.json({ deleted });
  });
  return router;
}
