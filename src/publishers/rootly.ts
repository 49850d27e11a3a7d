import { classifyError, classifyResponse, header, outgoing, send, type HttpRequest, type HttpResponse, type RetryPolicy } from './http.js';
import { annotateFallback } from './fallback-mark.js';
import { rootlyAlertId, rootlyCreateBody, rootlyErrorDetails, rootlyResolveBody, type RootlyNotificationTarget } from './rootly-payload.js';
import { secretString, targetSchema, type BaseTarget } from '../config/target.js';
import type { TargetDescriptor } from './descriptor.js';
import type { Outcome, Publisher, PublisherDeps, RequestContext } from './publisher.js';
import type { Alert, TargetMessage, WebhookMessage } from '../alerts/types.js';
import type { SecretField } from './redaction.js';

/** Rootly's Alertmanager alert source: one URL for all, the bearer secret picks the source. https://docs.rootly.com/integrations/alertmanager */
export const ROOTLY_ALERTMANAGER_URL = 'https://webhooks.rootly.com/webhooks/incoming/alertmanager_webhooks';
/** Rootly REST API base. https://docs.rootly.com/api-reference/overview */
export const ROOTLY_API_URL = 'https://api.rootly.com';
/** JSON:API media type of Rootly's REST API. */
const JSON_API = 'application/vnd.api+json';
/**
 * How long a Rootly alert id is kept for its resolve. Alertmanager repeats a firing
 * group every `repeat_interval` (default 4h), and each repeat refreshes the id.
 */
export const ROOTLY_ID_TTL_MS = 7 * 24 * 3600_000;
/** Requests in flight at once for the alerts of one group (REST API: ~3000 writes per minute per key). */
const MAX_PARALLEL = 4;

/**
 * The `/notify/<type>/<id>` types Rootly's Alertmanager alert source documents
 * (https://docs.rootly.com/integrations/alertmanager); the REST API also takes `Functionality`.
 */
const ROOTLY_ALERTMANAGER_NOTIFY_TYPES: readonly string[] = ['User', 'Group', 'EscalationPolicy', 'Service'];

/** A Rootly target: the Alertmanager alert source (default) or the REST API. */
export interface RootlyTarget extends BaseTarget {
  type: 'rootly';
  /** Default: the Alertmanager alert-source URL (`mode: alertmanager`) or https://api.rootly.com (`mode: api`). */
  url?: string;
  token: string;
  mode: 'alertmanager' | 'api';
  notification_target?: RootlyNotificationTarget;
}

/** Config schema of the `rootly` type. */
const rootlySchema = targetSchema(
  'rootly',
  'Rootly: forwards the Alertmanager payload to an Alertmanager alert source (Rootly resolves by itself), or creates and resolves alerts with the REST API.',
  {
    url: {
      type: 'string',
      // The secret belongs in `token` (a header), never in the query string where logs keep it.
      pattern: '^https?://(?!.*[?&]secret=)',
      description: 'Endpoint override (proxies, test doubles). Default: the Alertmanager alert-source URL, or https://api.rootly.com with `mode: api`. Must not carry `?secret=`.',
    },
    token: { ...secretString, description: 'The alert source secret (`mode: alertmanager`) or a Rootly API key (`mode: api`); sent as `Authorization: Bearer`.' },
    mode: {
      enum: ['alertmanager', 'api'],
      default: 'alertmanager',
      description: '`alertmanager` posts the payload as received; `api` creates one Rootly alert per alert and resolves it by its stored id.',
    },
    notification_target: {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'id'],
      description: 'Whom Rootly pages: `/notify/<type>/<id>` on the alert-source URL, or `notification_target_*` attributes in `mode: api`.',
      properties: {
        type: { enum: ['User', 'Group', 'EscalationPolicy', 'Service', 'Functionality'], description: 'Kind of notification target. `Functionality` only with `mode: api`: the Alertmanager alert source does not take it.' },
        id: { type: 'string', minLength: 1, description: 'Rootly id of the notification target.' },
      },
    },
  },
  ['token'],
);

/** 429 (honouring `Retry-After` or `RateLimit-Reset`) and 5xx are retryable (`classifyResponse`); other 4xx are permanent. */
const POLICY: RetryPolicy = { details: rootlyErrorDetails };

/** Secret fields of the `rootly` type: the bearer token. */
const rootlySecrets: readonly SecretField[] = [{ path: 'token', shape: 'bearer' }];

/** Create the publisher of a `rootly` target. */
export function createRootlyPublisher(target: RootlyTarget, deps: PublisherDeps): Publisher {
  const auth = { authorization: `Bearer ${target.token}` };
  const call = async (req: HttpRequest, signal: AbortSignal): Promise<[Outcome, HttpResponse?]> => {
    try {
      const res = await send(deps, req, signal);
      return [withRateLimitReset(classifyResponse(res, POLICY), res, deps.now()), res];
    } catch (err) {
      return [classifyError(err)];
    }
  };

  if (target.mode === 'alertmanager') {
    const nt = target.notification_target;
    const base = (target.url ?? ROOTLY_ALERTMANAGER_URL).replace(/\/+$/, '');
    const url = nt ? `${base}/notify/${nt.type}/${encodeURIComponent(nt.id)}` : base;
    const build = (msg: TargetMessage, ctx: RequestContext): HttpRequest => ({ url, headers: auth, body: annotateFallback(msg.original, ctx.fallbackFor) });
    return {
      type: 'rootly',
      name: target.name,
      publish: async (msg, ctx) => (await call(build(msg, ctx), ctx.signal))[0],
      request: (msg, ctx) => ({ requests: [outgoing(deps, build(msg, ctx))] }),
    };
  }

  const api = (target.url ?? ROOTLY_API_URL).replace(/\/+$/, '');
  const headers = { ...auth, 'content-type': JSON_API, accept: JSON_API };
  const key = (alert: Alert) => `alert:${alert.fingerprint}`;
  const createRequest = (alert: Alert, group: WebhookMessage): HttpRequest => ({ url: `${api}/v1/alerts`, headers, body: rootlyCreateBody(alert, group, target.notification_target) });
  const resolveRequest = (alert: Alert, id: string): HttpRequest => ({
    url: `${api}/v1/alerts/${encodeURIComponent(id)}/resolve`,
    headers,
    body: rootlyResolveBody(alert, deps.now()),
  });

  /** Create the Rootly alert of a firing alert once per firing (a repeat of the same firing only refreshes its id). */
  async function create(alert: Alert, group: WebhookMessage, signal: AbortSignal): Promise<Outcome> {
    const known = await deps.state.get<StoredAlert>(key(alert));
    if (known && known.startsAt === alert.startsAt) {
      await deps.state.set(key(alert), known, ROOTLY_ID_TTL_MS);
      return { ok: true };
    }
    const [outcome, res] = await call(createRequest(alert, group), signal);
    if (!outcome.ok || !res) return outcome;
    const id = rootlyAlertId(res.body);
    if (!id) {
      return { ok: false, retryable: false, reason: 'other', status: res.status, message: `Rootly answered ${res.status} without an alert id: the alert cannot be resolved` };
    }
    await deps.state.set(key(alert), { id, startsAt: alert.startsAt } satisfies StoredAlert, ROOTLY_ID_TTL_MS);
    return outcome;
  }

  /** Resolve the Rootly alert stored for a resolved alert; nothing stored means nothing to resolve. */
  async function resolve(alert: Alert, signal: AbortSignal): Promise<Outcome> {
    const known = await deps.state.get<StoredAlert>(key(alert));
    if (!known) {
      deps.logger.info('no Rootly alert id stored for a resolved alert: nothing to resolve', { fingerprint: alert.fingerprint });
      return { ok: true };
    }
    const [outcome] = await call(resolveRequest(alert, known.id), signal);
    if (outcome.ok) await deps.state.delete(key(alert));
    return outcome;
  }

  return {
    type: 'rootly',
    name: target.name,
    publish(msg, ctx) {
      const group = annotateFallback(msg.message, ctx.fallbackFor);
      return eachUntilFailure(group.alerts, async (alert) => {
        const outcome = alert.status === 'firing' ? await create(alert, group, ctx.signal) : await resolve(alert, ctx.signal);
        return outcome.ok ? outcome : { ...outcome, message: `alert ${alert.fingerprint}: ${outcome.message}` };
      });
    },
    request(msg, ctx) {
      const group = annotateFallback(msg.message, ctx.fallbackFor);
      // The id of a resolve is the one Rootly gave when the alert was created: shown as a placeholder, not looked up.
      const requests = group.alerts.map((alert) => outgoing(deps, alert.status === 'firing' ? createRequest(alert, group) : resolveRequest(alert, '{rootly-alert-id}')));
      const note =
        'one request per alert as on a first send: a firing alert already created for the same firing is not sent again, a resolve goes to the id Rootly gave it (shown as {rootly-alert-id}, and only sent if one is stored); resolve times are those of this rendering';
      return { requests, note };
    },
  };
}

/** What is kept per alert fingerprint: the Rootly alert id and which firing it belongs to. */
interface StoredAlert {
  id: string;
  startsAt: string;
}

/**
 * Rootly documents `RateLimit-Reset` (UTC epoch seconds) on 429, not `Retry-After`.
 * Small values are read as delta-seconds (the IETF RateLimit header draft).
 */
function withRateLimitReset(outcome: Outcome, res: HttpResponse, now: number): Outcome {
  if (outcome.ok || outcome.status !== 429 || outcome.retryAfterMs !== undefined) return outcome;
  const reset = Number(header(res.headers, 'ratelimit-reset') ?? Number.NaN);
  if (!Number.isFinite(reset) || reset <= 0) return outcome;
  return { ...outcome, retryAfterMs: reset > 1e9 ? Math.max(0, Math.round(reset * 1000 - now)) : Math.round(reset * 1000) };
}

/**
 * One task per alert, a few at a time; no new task starts after a failure (the retry
 * redoes only what is left: done alerts are in the state). A retryable failure wins
 * over a permanent one, so the retry still happens.
 */
async function eachUntilFailure<T>(items: readonly T[], task: (item: T) => Promise<Outcome>): Promise<Outcome> {
  let next = 0;
  let last: Outcome = { ok: true };
  const failures: Array<Extract<Outcome, { ok: false }>> = [];
  const worker = async () => {
    while (failures.length === 0 && next < items.length) {
      const outcome = await task(items[next++] as T);
      if (!outcome.ok) failures.push(outcome);
      else if (outcome.status !== undefined) last = outcome;
    }
  };
  await Promise.all(Array.from({ length: Math.min(MAX_PARALLEL, items.length) }, worker));
  return failures.find((f) => f.retryable) ?? failures[0] ?? last;
}

/** The `rootly` target type. */
export const rootly: TargetDescriptor<RootlyTarget> = {
  type: 'rootly',
  schema: rootlySchema,
  secrets: rootlySecrets,
  check(target, report) {
    const type = target.notification_target?.type;
    if (target.mode === 'alertmanager' && type !== undefined && !ROOTLY_ALERTMANAGER_NOTIFY_TYPES.includes(type)) {
      report('notification_target/type', `"${type}" is not a notification target of Rootly's Alertmanager alert source (${ROOTLY_ALERTMANAGER_NOTIFY_TYPES.join(', ')}); use mode: api`);
    }
  },
  create: createRootlyPublisher,
};
