import express, { type Router } from 'express';
import { jsonBody } from '../receiver/body.js';
import { bodyObject, queryParams } from './input.js';
import { validateWebhook } from '../receiver/schema.js';
import { StorageError } from '../delivery/storage-error.js';
import type { DispatchOptions } from '../dispatch/dispatcher.js';
import { httpStatus, type DispatchResult } from '../dispatch/result.js';
import type { DispatchStats } from './stats.js';
import type { WebhookMessage } from '../alerts/types.js';
import type { Config, HealthStrategy } from '../config/types.js';

const STRATEGIES: readonly HealthStrategy[] = ['skip_unhealthy', 'skip_unhealthy_and_degraded', 'publish_to_all'];
/** docs/api.md: "The body may be up to 4 MiB". */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** What the publish API needs. */
export interface PublishDeps {
  config: () => Config;
  accepting: () => boolean;
  stats: DispatchStats;
  dispatch(msg: WebhookMessage, options: DispatchOptions): Promise<DispatchResult>;
}

/**
 * The publish API: the same dispatcher as /webhook, with the target set and
 * the health strategy chosen by the caller. Body: `{"message": <Alertmanager
 * v4 payload>, "targets": [...], "strategy": "publish_to_all"}`.
 */
export function createPublishRouter(deps: PublishDeps): Router {
  const router = express.Router();
  const parse = jsonBody(MAX_BODY_BYTES);

  const publish = (pick: 'named' | 'all' | 'healthy') =>
    async (req: express.Request, res: express.Response): Promise<void> => {
      if (!deps.accepting()) {
        res.status(503).json({ error: 'shutting down; retry later' });
        return;
      }
      // The named route takes targets; /healthy has its strategy built in.
      const fields = pick === 'named' ? ['message', 'targets', 'strategy'] : pick === 'all' ? ['message', 'strategy'] : ['message'];
      const read = bodyObject(req, fields);
      if (!read.ok) {
        res.status(read.status).json({ error: read.error });
        return;
      }
      const body = read.body as { message?: unknown; targets?: unknown; strategy?: unknown };
      const checked = validateWebhook(body.message);
      if (!checked.ok) {
        res.status(400).json({ error: 'body.message must be an Alertmanager webhook payload', details: checked.errors });
        return;
      }
      if (body.strategy !== undefined && !STRATEGIES.includes(body.strategy as HealthStrategy)) {
        res.status(400).json({ error: `strategy must be one of ${STRATEGIES.join(', ')}` });
        return;
      }
      const config = deps.config();
      const enabled = config.targets.filter((t) => t.enabled).map((t) => t.name);
      let targets: string[];
      if (pick === 'named') {
        if (!Array.isArray(body.targets) || body.targets.length === 0 || !body.targets.every((t) => typeof t === 'string')) {
          res.status(400).json({ error: 'targets must be a non-empty array of target names' });
          return;
        }
        const known = new Set(config.targets.map((t) => t.name));
        const unknown = (body.targets as string[]).filter((t) => !known.has(t));
        if (unknown.length) {
          res.status(400).json({ error: `unknown target(s): ${unknown.join(', ')}` });
          return;
        }
        targets = [...new Set(body.targets as string[])];
      } else targets = enabled;
      // "healthy" sends now only to targets without evidence against them; the rest is queued, never dropped.
      const strategy = pick === 'healthy' ? 'skip_unhealthy_and_degraded' : (body.strategy as HealthStrategy | undefined);
      try {
        const result = await deps.dispatch(checked.message, { targets, ...(strategy ? { strategy } : {}) });
        res.status(httpStatus(result)).json(result);
      } catch (err) {
        res.status(503).json({ error: err instanceof StorageError ? 'cannot record the notification; retry later' : 'internal error' });
      }
    };

  router.post('/api/v1/publish/parallel', queryParams(), parse, publish('named'));
  router.post('/api/v1/publish/parallel/all', queryParams(), parse, publish('all'));
  router.post('/api/v1/publish/parallel/healthy', queryParams(), parse, publish('healthy'));
  router.get('/api/v1/publish/parallel/status', queryParams(), (_req, res) => {
    res.json(deps.stats.snapshot());
  });
  return router;
}
