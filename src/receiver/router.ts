import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { requireAuth } from './auth.js';
import { validateWebhook } from './schema.js';
import { StorageError, type DispatchOptions } from '../dispatch/dispatcher.js';
import { httpStatus, type DispatchResult } from '../dispatch/result.js';
import type { WebhookMessage } from '../alerts/types.js';
import type { Config } from '../config/types.js';
import type { Metrics } from '../observability/metrics.js';

/** What the receiver needs from the app. */
export interface ReceiverDeps {
  config: () => Config;
  metrics: Metrics;
  /** False while shutting down: then 503, so Alertmanager retries elsewhere or later. */
  accepting: () => boolean;
  dispatch(msg: WebhookMessage, options: DispatchOptions): Promise<DispatchResult>;
}

/** Parse a JSON body within the current config's size limit (415 for anything but JSON). */
export function jsonBody(limit: () => number) {
  const parsers = new Map<number, ReturnType<typeof express.json>>();
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!req.is(['application/json', 'application/*+json'])) {
      res.status(415).json({ error: 'unsupported media type: send Content-Type: application/json' });
      return;
    }
    const max = limit();
    let parser = parsers.get(max);
    if (!parser) parsers.set(max, (parser = express.json({ limit: max, strict: false, type: () => true })));
    parser(req, res, next);
  };
}

/** Turns body-parser errors into the status codes of the contract: 413 too large, 400 not JSON. Never 5xx for bad input. */
export function bodyErrors(err: unknown, _req: Request, res: Response, next: NextFunction): void {
  const e = err as { type?: string; status?: number; message?: string; limit?: number };
  if (e.type === 'entity.too.large') res.status(413).json({ error: `payload too large (limit ${e.limit ?? '?'} bytes)` });
  else if (e.type === 'entity.parse.failed') res.status(400).json({ error: 'body is not valid JSON', details: [e.message ?? ''] });
  else if (e.status && e.status >= 400 && e.status < 500) res.status(e.status).json({ error: e.message ?? 'bad request' });
  else next(err);
}

/**
 * POST /webhook: Alertmanager's webhook notifier retries our 5xx and gives up on
 * our 4xx, so the status code is the contract: 200 all delivered, 202 alertmux
 * owns the rest, 4xx bad input, 503 only when we could not take responsibility.
 */
export function createReceiverRouter(deps: ReceiverDeps): Router {
  const router = express.Router();
  const count = (res: Response) => res.on('finish', () => deps.metrics.webhookRequests.inc({ code: String(res.statusCode) }));
  router.post(
    '/webhook',
    (_req: Request, res: Response, next: NextFunction) => {
      count(res);
      const end = deps.metrics.webhookDuration.startTimer();
      res.on('finish', () => end());
      next();
    },
    requireAuth(() => deps.config().auth),
    jsonBody(() => deps.config().limits.max_body_bytes),
    async (req: Request, res: Response) => {
      if (!deps.accepting()) {
        res.status(503).json({ error: 'shutting down; retry later' });
        return;
      }
      const checked = validateWebhook(req.body);
      if (!checked.ok) {
        res.status(400).json({ error: 'invalid Alertmanager webhook payload', details: checked.errors });
        return;
      }
      const targets = parseTargets(req.query['targets'], deps.config());
      if (targets && 'unknown' in targets) {
        res.status(400).json({ error: `unknown target(s) in ?targets=: ${targets.unknown.join(', ')}` });
        return;
      }
      try {
        const result = await deps.dispatch(checked.message, targets ? { targets: targets.names } : {});
        res.status(httpStatus(result)).json(result);
      } catch (err) {
        res.status(503).json({ error: err instanceof StorageError ? 'cannot record the notification; retry later' : 'internal error; retry later' });
      }
    },
  );
  router.use(bodyErrors);
  return router;
}

/** `?targets=a,b` → the names, or the unknown ones. */
export function parseTargets(query: unknown, config: Config): { names: string[] } | { unknown: string[] } | undefined {
  if (query === undefined) return undefined;
  const names = (Array.isArray(query) ? query : [query]).flatMap((q) => String(q).split(',')).map((s) => s.trim()).filter(Boolean);
  const known = new Set(config.targets.map((t) => t.name));
  const unknown = names.filter((n) => !known.has(n));
  return unknown.length ? { unknown } : { names: [...new Set(names)] };
}
