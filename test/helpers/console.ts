import { alert, webhookMessage } from './fixtures.js';
import type { WebhookMessage } from '../../src/alerts/types.js';

/** A notification of group `group` with one alert per label set (alertname first). */
export function group(group: string, labels: Array<Record<string, string>>, overrides: Partial<WebhookMessage> = {}): WebhookMessage {
  return webhookMessage({
    groupKey: `{}:{group="${group}"}`,
    receiver: 'fanout',
    groupLabels: { group },
    alerts: labels.map((l) => alert(l)),
    ...overrides,
  });
}

/**
 * Two targets: `logs` (always succeeds) takes alerts without route=hook-only; `hook`, a loopback webhook, takes team=db
 * alerts and answers by the alert's `mode` label: 400 (permanent: dead letter), 503 (retried in an hour), else 200.
 */
export function config(hookUrl: string, extra = ''): string {
  return `admin: {bearer_token: adm-7f3e}
storage: {path: ':memory:'}
retry: {initial_backoff: 1h, max_backoff: 1h}
health: {unhealthy_after: 1000}
breaker: {consecutive_failures: 1000}
${extra}
targets:
  - {name: logs, type: log, match: ['route!="hook-only"']}
  - {name: hook, type: webhook, url: '${hookUrl}/hook', match: ['team="db"']}
`;
}

/** The loopback answer for a posted group: by the first alert's `mode` label. */
export function byMode(req: { body: unknown }): { status: number } {
  const mode = (req.body as { alerts?: Array<{ labels: Record<string, string> }> }).alerts?.[0]?.labels['mode'];
  return { status: mode === '400' ? 400 : mode === '503' ? 503 : 200 };
}
