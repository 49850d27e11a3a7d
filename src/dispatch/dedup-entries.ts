import { alertFingerprint } from '../alerts/fingerprint.js';
import { REPEAT_REASON, type DedupEntry } from '../delivery/dedup.js';
import type { WebhookMessage } from '../alerts/types.js';

/** The fingerprints of a notification's alerts (Alertmanager's, by labels only), by index. */
export function fingerprintsOf(msg: WebhookMessage): string[] {
  return msg.alerts.map(alertFingerprint);
}

/**
 * One target's view of a notification for dedup: the fingerprints of the alerts its matchers select,
 * firing and resolved (send_resolved or not, as Alertmanager's nflog records both). Undefined when
 * it selects none: there is nothing to remember for it.
 */
export function dedupEntry(
  msg: WebhookMessage,
  fingerprints: readonly string[],
  target: { name: string; send_resolved: boolean },
  matched: readonly number[],
): DedupEntry | undefined {
  if (!matched.length) return undefined;
  const firing = new Set<string>();
  const resolved = new Set<string>();
  for (const i of matched) (msg.alerts[i]?.status === 'resolved' ? resolved : firing).add(fingerprints[i] ?? '');
  return {
    receiver: msg.receiver,
    groupKey: msg.groupKey,
    target: target.name,
    firing: [...firing].sort(),
    resolved: [...resolved].sort(),
    sendResolved: target.send_resolved,
    repeat: msg['notification_reason'] === REPEAT_REASON,
  };
}
