import type { Alert, WebhookMessage } from './types.js';

/** The pairs every record shares, as Alertmanager computes commonLabels/commonAnnotations. */
export function commonPairs(records: readonly Record<string, string>[]): Record<string, string> {
  const [first, ...rest] = records;
  if (!first) return {};
  // fromEntries and hasOwn: a label named `__proto__` or `constructor` is a label like any other, never a prototype.
  return Object.fromEntries(Object.entries(first).filter(([name, value]) => rest.every((r) => Object.hasOwn(r, name) && r[name] === value)));
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

/** The alert name a notification is about (its group's, else the one all its alerts share), for log lines. */
export function alertnameOf(msg: WebhookMessage): string | undefined {
  // Both are optional in the payload's schema, whatever the type says.
  return msg.groupLabels?.['alertname'] ?? msg.commonLabels?.['alertname'];
}
