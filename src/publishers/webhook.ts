import { deliver, outgoing, type HttpRequest } from './http.js';
import { FALLBACK_HEADER } from './fallback-mark.js';
import { signatureHeaders, signingKey } from './signing.js';
import { authHeaders, httpAuthProperties, httpAuthSecrets, type HttpAuth } from './http-auth.js';
import { secretString, targetSchema, type BaseTarget } from '../config/target.js';
import { messageJson } from '../alerts/json.js';
import type { TargetDescriptor } from './descriptor.js';
import type { Publisher, PublisherDeps, RequestContext } from './publisher.js';
import type { SecretField } from './redaction.js';
import type { TargetMessage, WebhookMessage } from '../alerts/types.js';

/** A generic HTTP endpoint that takes JSON. */
export interface WebhookTarget extends BaseTarget, HttpAuth {
  type: 'webhook';
  url: string;
  /** `alertmanager`: the payload as Alertmanager sent it; `alertmux`: the enriched group. */
  format: 'alertmanager' | 'alertmux';
  headers: Record<string, string>;
  /** Standard Webhooks symmetric secret (`whsec_...`): adds webhook-id/-timestamp/-signature. */
  signing_secret?: string;
  /** At most this many alerts per request (0: all), like Alertmanager's `max_alerts`. */
  max_alerts: number;
}

/** Config schema of the `webhook` type. */
const webhookSchema = targetSchema(
  'webhook',
  'POSTs the alert group as JSON to any HTTP endpoint, optionally signed (Standard Webhooks).',
  {
    url: { ...secretString, description: 'Endpoint to POST to (treated as a secret: it may carry a token).' },
    format: {
      enum: ['alertmanager', 'alertmux'],
      default: 'alertmanager',
      description: '`alertmanager` passes the payload through as Alertmanager sent it; `alertmux` sends the enriched group.',
    },
    headers: {
      type: 'object',
      additionalProperties: secretString,
      default: {},
      description: 'Extra request headers (values are treated as secrets).',
    },
    ...httpAuthProperties,
    signing_secret: {
      ...secretString,
      pattern: '^(whsec_)?[A-Za-z0-9+/]+={0,2}$',
      description: 'Standard Webhooks secret (`whsec_` + base64): signs each request.',
    },
    max_alerts: { type: 'integer', minimum: 0, default: 0, description: 'Most alerts per request; 0 sends all.' },
  },
  ['url'],
);

/** Secret fields of the `webhook` type: its URL may carry a token, header values are secrets. */
const webhookSecrets: readonly SecretField[] = [
  { path: 'url', shape: 'url' },
  { path: 'headers.*', shape: 'value' },
  ...httpAuthSecrets,
  { path: 'signing_secret', shape: 'signing' },
];

/** Create the publisher of a `webhook` target. */
export function createWebhookPublisher(target: WebhookTarget, deps: PublisherDeps): Publisher {
  const key = target.signing_secret ? signingKey(target.signing_secret) : undefined;
  const auth = authHeaders(target);
  /** The one request of a delivery: what `publish` sends and `request` shows. */
  const build = (msg: TargetMessage, ctx: RequestContext): HttpRequest => {
    const group = target.format === 'alertmux' ? msg.message : msg.original;
    // A fallback says so in a header; the alertmux format also carries it in the body (the Alertmanager one stays as sent).
    const payload = limitAlerts(target.format === 'alertmux' && ctx.fallbackFor !== undefined ? { ...group, fallbackFor: ctx.fallbackFor } : group, target.max_alerts);
    const body = messageJson(payload);
    const fallback: Record<string, string> = ctx.fallbackFor === undefined ? {} : { [FALLBACK_HEADER]: ctx.fallbackFor };
    const signed = key ? signatureHeaders(key, `msg_${ctx.deliveryId}`, Math.floor(deps.now() / 1000), body) : {};
    return { url: target.url, headers: { ...target.headers, ...auth, ...signed, ...fallback }, body };
  };
  return {
    type: 'webhook',
    name: target.name,
    publish: (msg, ctx) => deliver(deps, build(msg, ctx), ctx.signal),
    request: (msg, ctx) => ({
      requests: [outgoing(deps, build(msg, ctx))],
      ...(key ? { note: 'webhook-timestamp and webhook-signature are those of this rendering, not of the attempts' } : {}),
    }),
  };
}

/** Keep the first `max` alerts and count the rest in `truncatedAlerts`, as Alertmanager does. */
function limitAlerts(msg: WebhookMessage, max: number): WebhookMessage {
  if (max === 0 || msg.alerts.length <= max) return msg;
  return { ...msg, alerts: msg.alerts.slice(0, max), truncatedAlerts: (msg.truncatedAlerts ?? 0) + msg.alerts.length - max };
}

/** The `webhook` target type. */
export const webhook: TargetDescriptor<WebhookTarget> = {
  type: 'webhook',
  schema: webhookSchema,
  secrets: webhookSecrets,
  create: createWebhookPublisher,
};
