import type { TargetConfig } from '../publishers/registry.js';

/** Field names whose values are secrets wherever they appear. */
const SECRET_FIELDS = new Set(['routing_key', 'webhook_url', 'token', 'signing_secret', 'password', 'bearer_token', 'url_secret']);
/**
 * Types whose `url` carries the credential (Teams workflows, Discord, webhooks with tokens in the query).
 * Not rootly: its secret is `token` (a header), and its schema rejects a `?secret=` URL.
 */
const URL_IS_SECRET = new Set(['webhook', 'teams', 'discord']);

/** A copy of a target's config safe to print: secret fields become `<secret>`. */
export function redactTarget(target: TargetConfig): Record<string, unknown> {
  return redact(target, URL_IS_SECRET.has(target.type)) as Record<string, unknown>;
}

function redact(value: unknown, urlIsSecret: boolean, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => redact(v, urlIsSecret));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, k === 'headers' ? redactAll(v) : redact(v, urlIsSecret && k !== 'health_check', k)]),
    );
  }
  if (typeof value === 'string' && (SECRET_FIELDS.has(key) || (urlIsSecret && key === 'url'))) return '<secret>';
  return value;
}

function redactAll(headers: unknown): unknown {
  return Object.fromEntries(Object.keys((headers ?? {}) as object).map((k) => [k, '<secret>']));
}
