import type { Alert, WebhookMessage } from './types.js';

/** The pairs every record shares, as Alertmanager computes commonLabels/commonAnnotations. */
export function commonPairs(records: readonly Record<string, string>[]): Record<string, string> {
  const [first, ...rest] = records;
  if (!first) return {};
  const common: Record<string, string> = {};
  for (const [name, value] of Object.entries(first)) {
    if (rest.every((r) => r[name] === value)) common[name] = value;
  }
  return common;
}

/**
 * A copy of `msg` holding only `alerts`, with status and common labels and
 * annotations recomputed for them (group status is `resolved` only when every
 * alert is resolved, as in Alertmanager).
 */
export function withAlerts(msg: WebhookMessage, alerts: Alert[]): WebhookMessage {
  return {
    ...msg,
    status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    alerts,
    commonLabels: commonPairs(alerts.map((a) => a.labels)),
    commonAnnotations: commonPairs(alerts.map((a) => a.annotations)),
  };
}
