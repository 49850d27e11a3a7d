import type { SecretField } from './redaction.js';

/** Fields every target has, whatever its type. Durations are milliseconds once loaded. */
export interface BaseTarget {
  name: string;
  type: string;
  enabled: boolean;
  /** Alertmanager matchers on alert labels; an alert must match all of them. */
  match: string[];
  /** Alertmanager matchers on the notification's `routeLabels` (Alertmanager >= 0.34); all must match. */
  match_route?: string[];
  send_resolved: boolean;
  /** Per-attempt timeout; falls back to `dispatch.timeout`. */
  timeout?: number;
  health_check?: HealthCheckConfig;
  /** Target that also gets a delivery of this one that is dead-lettered or held for `fallback_after` (src/config/fallback.ts checks it). */
  fallback?: string;
  /** How long a delivery may be held (breaker open, target unhealthy or degraded) before it goes to `fallback` too; ms (the schema's default: 5m). */
  fallback_after?: number;
}

/** An optional active probe of a target. */
export interface HealthCheckConfig {
  url: string;
  method: 'GET' | 'HEAD' | 'OPTIONS';
  interval: number;
  timeout: number;
  expect_status: number[];
}

/** JSON Schema of a secret-bearing string (the loader redacts it everywhere). */
export const secretString = { type: 'string', minLength: 1, 'x-secret': true } as const;
/** JSON Schema of a Prometheus-style duration (converted to milliseconds while validating). */
export const duration = (description: string, dflt?: string) =>
  ({ type: 'string', 'x-duration': true, description, ...(dflt === undefined ? {} : { default: dflt }) }) as const;

/** Schema properties shared by every target type. */
export const baseTargetProperties = {
  name: {
    type: 'string',
    maxLength: 63,
    pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
    description: 'Unique name of the target (a DNS-1123 label: lower case letters, digits and "-").',
  },
  enabled: { type: 'boolean', default: true, description: 'A disabled target is reported as skipped (`disabled`).' },
  match: {
    type: 'array',
    items: { type: 'string' },
    default: [],
    description:
      'Alertmanager matchers on the labels of each alert, in Alertmanager\'s syntax: `name="value"` with `=`, `!=`, `=~`, `!~`; ' +
      'several per entry separated by commas, optionally in `{...}`; label names may be quoted (`"service.name"="checkout"`); ' +
      'regexes are Go RE2, anchored at both ends (`(?i)` flags work, lookaround and backreferences are config errors). ' +
      'An alert must match all of them; the others of its group go to other targets. A missing label matches as `""`.',
  },
  match_route: {
    type: 'array',
    items: { type: 'string' },
    default: [],
    description:
      'Matchers (same syntax) on the `routeLabels` of the notification, which Alertmanager 0.34 and later sends: the labels of the ' +
      'route that matched. A notification must match all of them to reach this target, so one Alertmanager receiver can feed ' +
      'targets per team. Without `routeLabels` (older Alertmanager) every route label is missing, i.e. `""`.',
  },
  send_resolved: { type: 'boolean', default: true, description: 'Deliver resolved alerts too.' },
  timeout: duration('Timeout of one attempt to this target (default: dispatch.timeout).'),
  fallback: {
    type: 'string',
    maxLength: 63,
    pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
    description:
      'Name of another target that also gets a notification this target could not take: once per delivery, when the delivery is ' +
      'dead-lettered or has been held by an open breaker or an unhealthy (or skipped degraded) state for `fallback_after`. ' +
      "The fallback target's `match` and dedup do not apply; its breaker and health do. No cycles (see docs/targets.md#fallback-targets).",
  },
  fallback_after: duration('How long a delivery may be held by an open breaker or the health gate before it also goes to `fallback`.', '5m'),
  health_check: {
    type: 'object',
    additionalProperties: false,
    required: ['url'],
    description: 'Optional active probe; never sent to the delivery endpoint unless you name it here.',
    properties: {
      url: { type: 'string', minLength: 1, description: 'URL to probe.' },
      method: { enum: ['GET', 'HEAD', 'OPTIONS'], default: 'GET', description: 'HTTP method of the probe.' },
      interval: duration('Time between probes.', '30s'),
      timeout: duration('Timeout of one probe.', '5s'),
      expect_status: {
        type: 'array',
        items: { type: 'integer', minimum: 100, maximum: 599 },
        default: [200, 204],
        description: 'Status codes that count as healthy.',
      },
    },
  },
} as const;

/** Schema of one target type: its own fields plus the shared ones. */
export function targetSchema(type: string, description: string, properties: Record<string, unknown>, required: string[]) {
  return {
    type: 'object',
    description,
    additionalProperties: false,
    required: ['name', 'type', ...required],
    properties: { type: { const: type }, ...baseTargetProperties, ...properties },
  };
}

/** Outbound HTTP auth a target may send: a bearer token, or basic auth. */
export interface HttpAuth {
  bearer_token?: string;
  basic_auth?: { username: string; password: string };
}

/** Schema properties of HttpAuth; `bearer_token` wins when both are set. */
export const httpAuthProperties = {
  bearer_token: { ...secretString, description: 'Sent as `Authorization: Bearer <token>` (wins over basic_auth).' },
  basic_auth: {
    type: 'object',
    additionalProperties: false,
    required: ['username', 'password'],
    description: 'HTTP basic auth.',
    properties: { username: { type: 'string' }, password: secretString },
  },
} as const;

/** Secret fields of HttpAuth. */
export const httpAuthSecrets: readonly SecretField[] = [
  { path: 'bearer_token', shape: 'bearer' },
  { path: 'basic_auth', shape: 'basic' },
];

/** The Authorization header of `auth`, if any. */
export function authHeaders(auth: HttpAuth): Record<string, string> {
  if (auth.bearer_token) return { authorization: `Bearer ${auth.bearer_token}` };
  if (!auth.basic_auth) return {};
  const { username, password } = auth.basic_auth;
  return { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` };
}
