import { labelsFingerprint } from './fingerprint.js';
import { ZERO_TIME, type WebhookMessage } from './types.js';

/** What alertmux says itself (a test alert, the dead man's page): one alert, grouped by alertname. */
export interface OwnAlert {
  status: 'firing' | 'resolved';
  receiver: string;
  groupKey: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  /** When a resolved alert ended. */
  now: number;
}

/**
 * An Alertmanager v4 payload of one alert, as Alertmanager would send it for a route grouped by alertname: the
 * same labels give the same fingerprint, so a resolve closes what the firing one opened in each target.
 */
export function ownAlertMessage(a: OwnAlert): WebhookMessage {
  return {
    version: '4',
    groupKey: a.groupKey,
    truncatedAlerts: 0,
    status: a.status,
    receiver: a.receiver,
    groupLabels: { alertname: a.labels['alertname'] ?? '' },
    commonLabels: a.labels,
    commonAnnotations: a.annotations,
    externalURL: '',
    alerts: [
      {
        status: a.status,
        labels: a.labels,
        annotations: a.annotations,
        startsAt: a.startsAt,
        endsAt: a.status === 'resolved' ? new Date(a.now).toISOString() : ZERO_TIME,
        generatorURL: '',
        fingerprint: labelsFingerprint(a.labels),
      },
    ],
  };
}
