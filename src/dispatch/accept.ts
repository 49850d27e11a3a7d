import { messageJson } from '../alerts/json.js';
import { notificationKey } from '../alerts/fingerprint.js';
import { priorityOf } from '../delivery/backoff.js';
import { uuidv7 } from '../delivery/ids.js';
import type { WebhookMessage } from '../alerts/types.js';
import type { NewDelivery, NotificationRecord } from '../delivery/types.js';
import type { Selection } from './routing.js';

/** The ledger's record of a notification received at `now`: both forms of the message, as JSON. */
export function notificationRecord(original: WebhookMessage, enriched: WebhookMessage, now: number): NotificationRecord {
  return {
    id: `n_${uuidv7()}`,
    key: notificationKey(original),
    receiver: original.receiver,
    groupKey: original.groupKey,
    status: original.status,
    createdAt: now,
    // Kept by object: webhook targets that pass the group through send this same text.
    original: messageJson(original),
    enriched: messageJson(enriched),
    alertnames: original.alerts.map((a) => a.labels['alertname']).filter((a): a is string => a !== undefined),
    alertCount: original.alerts.length,
  };
}

/** One delivery per selected target: pending and due now, or skipped for the routing's reason; prioritised by severity. */
export function newDeliveries(notification: NotificationRecord, enriched: WebhookMessage, selections: readonly Selection[], now: number): NewDelivery[] {
  return selections.map(({ target, alerts, skip }) => ({
    id: `d_${uuidv7()}`,
    notificationId: notification.id,
    target: target.config.name,
    targetType: target.config.type,
    groupKey: notification.groupKey,
    notificationKey: notification.key,
    state: skip ? 'skipped' : 'pending',
    skipReason: skip,
    priority: priorityOf(alerts.map((i) => enriched.alerts[i]?.labels['severity'])),
    alerts,
    attempts: 0,
    createdAt: now,
    nextAttemptAt: skip ? undefined : now,
  }));
}
