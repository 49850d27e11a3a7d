import type { IncomingMessage, ServerResponse } from 'node:http';
import { authChallenge, authorized } from './auth.js';
import { isJsonRequest, readJsonBody, type BodyError } from './body.js';
import { RateLimitedLog } from './rate-limited-log.js';
import { validateWebhook } from './schema.js';
import { StorageError } from '../delivery/storage-error.js';
import type { DispatchOptions } from '../dispatch/dispatcher.js';
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
  /** Rejections (4xx at warn) and internal errors (500 at error), rate-limited per status and reason. */
  logger: Logger;
}

/** The status codes of the contract, counted from 0 so alert rules see the first of each. */
export const WEBHOOK_CODES = [200, 202, 400, 401, 413, 415, 500, 503] as const;

/** Why a webhook was refused: a closed set (log lines are rate-limited per status and reason). */
export type RejectReason =
  | 'unauthorized'
  | 'unsupported_media_type'
  | 'unsupported_charset'
  | 'unsupported_encoding'
  | 'too_large'
  | 'invalid_json'
  | 'too_deep'
  | 'request_failed'
  | 'invalid_payload'
  | 'unknown_target';

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
  for (const code of WEBHOOK_CODES) deps.metrics.webhookRequests.inc({ code: String(code) }, 0);
  const log = new RateLimitedLog(deps.logger);
  /** Answer a 4xx with its reason, and log it (Alertmanager drops what we refuse: nobody else will say so). */
  const reject = (req: IncomingMessage, res: ServerResponse, status: number, reason: RejectReason, answer: Record<string, unknown>, body?: unknown) => {
    const details = Array.isArray(answer['details']) ? { details: (answer['details'] as unknown[]).slice(0, 3).map((d) => String(d).slice(0, 300)) } : {};
    log.log('warn', 'webhook rejected', { status, reason }, { error: answer['error'], ...details, remote: req.socket.remoteAddress, ...readable(body) });
    sendJson(res, status, answer);
  };
  /** 500: a bug on our side (a test shows none is reachable); logged with the error, never retried as a 503 forever. */
  const failed = (req: IncomingMessage, res: ServerResponse, err: unknown, body?: unknown) => {
    log.log('error', 'webhook failed', { status: 500 }, { error: err instanceof Error ? (err.stack ?? err.message) : String(err), remote: req.socket.remoteAddress, ...readable(body) });
    if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
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
      return reject(req, res, 401, 'unauthorized', { error: 'unauthorized' });
    }
    if (!isJsonRequest(req)) return reject(req, res, 415, 'unsupported_media_type', { error: 'unsupported media type: send Content-Type: application/json' });
    readJsonBody(req, config.limits.max_body_bytes, (err, body, notes) => {
      if (err) return bodyError(req, res, err, reject);
      if (notes?.replacedSurrogates) {
        log.log('warn', 'webhook payload has invalid UTF-16; lone surrogates replaced by U+FFFD, as Alertmanager reads them', {}, {
          replaced: notes.replacedSurrogates,
          remote: req.socket.remoteAddress,
          ...readable(body),
        });
      }
      // Anything thrown that is not the ledger's failure is a bug: 500 and logged, never an unhandled rejection.
      receive(deps, req, res, body, reject).catch((e: unknown) => failed(req, res, e, body));
    });
  };
}

type Reject = (req: IncomingMessage, res: ServerResponse, status: number, reason: RejectReason, answer: Record<string, unknown>, body?: unknown) => void;

async function receive(deps: ReceiverDeps, req: IncomingMessage, res: ServerResponse, body: unknown, reject: Reject): Promise<void> {
  if (!deps.accepting()) return sendJson(res, 503, { error: 'shutting down; retry later' });
  const checked = validateWebhook(body);
  if (!checked.ok) return reject(req, res, 400, 'invalid_payload', { error: 'invalid Alertmanager webhook payload', details: checked.errors }, body);
  const targets = parseTargets(queryTargets(req.url), deps.config());
  if (targets && 'unknown' in targets) {
    return reject(req, res, 400, 'unknown_target', { error: `unknown target(s) in ?targets=: ${targets.unknown.join(', ')}` }, body);
  }
  let result: DispatchResult;
  try {
    result = await deps.dispatch(checked.message, targets ? { targets: targets.names } : {});
  } catch (err) {
    // 503 only when alertmux could not take responsibility (the ledger failed): Alertmanager's retry is what we want.
    if (!(err instanceof StorageError)) throw err;
    const cause = (err as { cause?: { code?: unknown } }).cause;
    deps.logger.warn('webhook answered 503: Alertmanager will retry', {
      receiver: checked.message.receiver,
      groupKey: checked.message.groupKey,
      why: 'the ledger could not record the notification',
      code: typeof cause?.code === 'string' ? cause.code : undefined,
      error: String(err),
    });
    return sendJson(res, 503, { error: 'cannot record the notification; retry later' });
  }
  sendJson(res, httpStatus(result), result);
}

/** The status codes of the contract for an unreadable body: 413 too large, 400 not JSON, 415 unsupported charset or encoding. */
function bodyError(req: IncomingMessage, res: ServerResponse, err: BodyError, reject: Reject): void {
  // The connection is gone (the client left, or the server cut a stalled body and logged it): nobody to answer.
  if (err.type === 'request.failed' && req.socket.destroyed) return;
  if (err.type === 'entity.too.large') reject(req, res, 413, 'too_large', { error: `payload too large (limit ${err.limit ?? '?'} bytes)` });
  else if (err.type === 'entity.parse.failed') reject(req, res, 400, 'invalid_json', { error: 'body is not valid JSON', details: [err.message] });
  else reject(req, res, err.status, BODY_REASONS[err.type], { error: err.message });
}

const BODY_REASONS: Record<BodyError['type'], RejectReason> = {
  'entity.too.large': 'too_large',
  'entity.parse.failed': 'invalid_json',
  'entity.too.deep': 'too_deep',
  'charset.unsupported': 'unsupported_charset',
  'encoding.unsupported': 'unsupported_encoding',
  'request.failed': 'request_failed',
};

/** The receiver and group key of a body, when it has them as strings (for log lines; cut short). */
function readable(body: unknown): { receiver?: string; groupKey?: string } {
  if (typeof body !== 'object' || body === null) return {};
  const { receiver, groupKey } = body as Record<string, unknown>;
  return {
    ...(typeof receiver === 'string' && Object.hasOwn(body, 'receiver') ? { receiver: receiver.slice(0, 200) } : {}),
    ...(typeof groupKey === 'string' && Object.hasOwn(body, 'groupKey') ? { groupKey: groupKey.slice(0, 200) } : {}),
  };
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
