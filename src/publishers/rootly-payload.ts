import { isZeroTime, type Alert, type WebhookMessage } from '../alerts/types.js';

/** Whom Rootly pages for an alert (`notification_target_type` / `notification_target_id`). */
export interface RootlyNotificationTarget {
  type: 'User' | 'Group' | 'EscalationPolicy' | 'Service' | 'Functionality';
  id: string;
}

/** JSON:API body of `POST /v1/alerts` for one Alertmanager alert (Rootly's REST API, `new_alert`). */
export function rootlyCreateBody(alert: Alert, group: WebhookMessage, notify?: RootlyNotificationTarget) {
  const alertname = alert.labels['alertname'] ?? 'alert';
  const instance = alert.labels['instance'];
  const summary = alert.annotations['summary'];
  const description = alert.annotations['description'];
  return {
    data: {
      type: 'alerts',
      attributes: {
        source: 'alertmanager',
        summary: summary ? `${alertname}: ${summary}` : `${alertname}${instance ? ` on ${instance}` : ''}`,
        ...(description ? { description } : {}),
        // Rootly treats alerts sharing a deduplication key as one: a resend never opens a second alert.
        external_id: alert.fingerprint,
        deduplication_key: alert.fingerprint,
        ...(alert.generatorURL ? { external_url: alert.generatorURL } : {}),
        started_at: alert.startsAt,
        ...(notify ? { notification_target_type: notify.type, notification_target_id: notify.id } : {}),
        labels: Object.entries(alert.labels).map(([key, value]) => ({ key, value })),
        data: {
          alertmanager: {
            fingerprint: alert.fingerprint,
            annotations: alert.annotations,
            groupKey: group.groupKey,
            receiver: group.receiver,
            externalURL: group.externalURL,
            ...(alert.generatorURL ? { generatorURL: alert.generatorURL } : {}),
          },
        },
      },
    },
  };
}

/** JSON:API body of `POST /v1/alerts/{id}/resolve` (Rootly `resolveAlert`). */
export function rootlyResolveBody(alert: Alert, now: number) {
  const at = isZeroTime(alert.endsAt) ? new Date(now).toISOString() : alert.endsAt;
  return { data: { type: 'alerts', attributes: { resolution_message: `Resolved by Alertmanager at ${at}` } } };
}

/** The Rootly alert id in a create response (`data.id`), if there is one. */
export function rootlyAlertId(body: string): string | undefined {
  try {
    const id = (JSON.parse(body) as { data?: { id?: unknown } } | null)?.data?.id;
    return typeof id === 'string' && id !== '' ? id : undefined;
  } catch {
    return undefined;
  }
}

/** The titles of a Rootly JSON:API error body (`{errors: [{title, detail?}]}`), else the body itself. */
export function rootlyErrorDetails(_status: number, body: string): string | undefined {
  try {
    const errors = (JSON.parse(body) as { errors?: Array<{ title?: unknown; detail?: unknown }> } | null)?.errors;
    if (Array.isArray(errors) && errors.length > 0) {
      return errors.map((e) => [e.title, e.detail].filter((s) => typeof s === 'string' && s !== '').join(': ')).join('; ');
    }
  } catch {
    // not JSON: fall through to the raw text
  }
  return body.trim() || undefined;
}
