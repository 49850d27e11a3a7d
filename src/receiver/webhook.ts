import type { IncomingMessage, ServerResponse } from 'node:http';
import { authChallenge, authorized } from './auth.js';
import { isJsonRequest, readJsonBody, type BodyError } from './body.js';
import { validateWebhook } from './schema.js';
import { StorageError, type DispatchOptions } from '../dispatch/dispatcher.js';
import { httpStatus, type DispatchResult } from '../dispatch/result.js';
import type { WebhookMessage } from '../alerts/types.js';
import type { Config } from '../config/types.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';

/** A plain node:http request handler. */
export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** The receiver's route: what the bare fast path serves, the Express fallback registers and docs/api.md lists. */
export const WEBHOOK_ROUTE = { method: 'POST', path: '/webhook' } as const;

/** What the receiver needs from the app. */
export interface ReceiverDeps {
  config: () => Config;
  metrics: Metrics;
  /** False while shutting down: then 503, so Alertmanager retries elsewhere or later. */
  accepting: () => boolean;
  dispatch(msg: WebhookMessage, options: DispatchOptions): Promise<DispatchResult>;
  /** Where a 503 says why (the dispatcher's errors are logged where they happen; this line ties them to the answer). */
  logger?: Logger;
}

/**
 * POST /webhook on bare node:http (the hot path; Express cost ~5x the CPU per request).
 * Alertmanager's webhook notifier retries our 5xx and gives up on our 4xx, so the status
 * code is the contract: 200 all delivered, 202 alertmux owns the rest, 4xx bad input,
 * 503 only when we could not take responsibility.
 */
export function createWebhookHandler(deps: ReceiverDeps): Handler {
  // The counter's series per status code, resolved once (prom-client hashes the label set on every labelled call).
  const byCode = new Map<number, { inc(): void }>();
  const counted = (code: number) => {
    let series = byCode.get(code);
    if (!series) byCode.set(code, (series = deps.metrics.webhookRequests.labels({ code: String(code) })));
    return series;
  };
  return (req, res) => {
    const end = deps.metrics.webhookDuration.startTimer();
    res.once('finish', () => {
      counted(res.statusCode).inc();
      end();
    });
    const config = deps.config();
    if (!authorized(config.auth, req.headers.authorization)) {
      res.setHeader('WWW-Authenticate', authChallenge(config.auth));
      return sendJson(res, 401, { error: 'unauthorized' });
    }
    if (!isJsonRequest(req)) return sendJson(res, 415, { error: 'unsupported media type: send Content-Type: application/json' });
    readJsonBody(req, config.limits.max_body_bytes, (err, body) => {
      if (err) bodyError(res, err);
      // As Express did for a failed handler: 500, never an unhandled rejection.
      else receive(deps, req, res, body).catch(() => res.headersSent || sendJson(res, 500, { error: 'internal error' }));
    });
  };
}

async function receive(deps: ReceiverDeps, req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
  if (!deps.accepting()) return sendJson(res, 503, { error: 'shutting down; retry later' });
  const checked = validateWebhook(body);
  if (!checked.ok) return sendJson(res, 400, { error: 'invalid Alertmanager webhook payload', details: checked.errors });
  const targets = parseTargets(queryTargets(req.url), deps.config());
  if (targets && 'unknown' in targets) return sendJson(res, 400, { error: `unknown target(s) in ?targets=: ${targets.unknown.join(', ')}` });
  try {
    const result = await deps.dispatch(checked.message, targets ? { targets: targets.names } : {});
    sendJson(res, httpStatus(result), result);
  } catch (err) {
    const storage = err instanceof StorageError;
    const cause = (err as { cause?: { code?: unknown } }).cause;
    deps.logger?.[storage ? 'warn' : 'error']('webhook answered 503: Alertmanager will retry', {
      receiver: checked.message.receiver,
      groupKey: checked.message.groupKey,
      why: storage ? 'the ledger could not record the notification' : 'internal error',
      code: typeof cause?.code === 'string' ? cause.code : undefined,
      error: String(err),
    });
    sendJson(res, 503, { error: storage ? 'cannot record the notification; retry later' : 'internal error; retry later' });
  }
}

/** The status codes of the contract for an unreadable body: 413 too large, 400 not JSON, 415 unsupported charset or encoding. */
function bodyError(res: ServerResponse, err: BodyError): void {
  if (err.type === 'entity.too.large') sendJson(res, 413, { error: `payload too large (limit ${err.limit ?? '?'} bytes)` });
  else if (err.type === 'entity.parse.failed') sendJson(res, 400, { error: 'body is not valid JSON', details: [err.message] });
  else sendJson(res, err.status, { error: err.message });
}

/** Answer JSON as Express's res.json did (charset and length included). */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) }).end(text);
}

/** Every `targets` query parameter (`?targets=a,b&targets=c`), or undefined when there is none. */
function queryTargets(url = ''): string[] | undefined {
  const start = url.indexOf('?');
  if (start === -1) return undefined;
  const hash = url.indexOf('#', start);
  const values = new URLSearchParams(url.slice(start + 1, hash === -1 ? undefined : hash)).getAll('targets');
  return values.length ? values : undefined;
}

/** `?targets=a,b` → the names, or the unknown ones. */
export function parseTargets(query: unknown, config: Config): { names: string[] } | { unknown: string[] } | undefined {
  if (query === undefined) return undefined;
  const names = (Array.isArray(query) ? query : [query]).flatMap((q) => String(q).split(',')).map((s) => s.trim()).filter(Boolean);
  const known = new Set(config.targets.map((t) => t.name));
  const unknown = names.filter((n) => !known.has(n));
  return unknown.length ? { unknown } : { names: [...new Set(names)] };
}

/**
 * Serve `POST /webhook` (exactly that path; a query is allowed) with `webhook` and everything else with
 * `rest` (the Express app, which also routes the variants it matches, like `/webhook/`, to `webhook`).
 */
export function webhookFirst(webhook: Handler, rest: Handler): Handler {
  const { method, path } = WEBHOOK_ROUTE;
  return (req, res) => {
    const url = req.url ?? '';
    if (req.method === method && url.startsWith(path) && (url.length === path.length || url[path.length] === '?')) webhook(req, res);
    else rest(req, res);
  };
}
