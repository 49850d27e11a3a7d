import { alert, webhookMessage } from '../helpers/fixtures.js';
import type { WebhookMessage } from '../../src/alerts/types.js';

/** An alert group as Alertmanager sends it, named `alertname` (unique per test, so filters find exactly it). */
export function group(alertname: string, instance = 'db-1'): WebhookMessage {
  const labels = { alertname, severity: 'critical', instance, team: 'storage' };
  return webhookMessage({
    receiver: 'fanout',
    groupKey: `{}:{alertname="${alertname}"}`,
    groupLabels: { alertname },
    commonLabels: labels,
    commonAnnotations: {},
    alerts: [
      alert(labels, {
        annotations: { summary: `Disk almost full on ${instance}`, runbook_url: 'https://runbooks.example.com/DiskFull' },
        startsAt: new Date(Date.now() - 120_000).toISOString(),
      }),
    ],
  });
}
