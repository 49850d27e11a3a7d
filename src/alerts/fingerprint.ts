import { hash } from 'node:crypto';
import type { WebhookMessage } from './types.js';

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK = 0xffffffffffffffffn;
const SEPARATOR = 0xff;

/**
 * Fingerprint of a label set, computed as Prometheus' `model.LabelSet.Fingerprint`
 * (FNV-1a 64 over sorted name/value pairs, 0xff separated), so a fingerprint we
 * fill in equals the one Alertmanager would have sent.
 */
export function labelsFingerprint(labels: Record<string, string>): string {
  let hash = FNV_OFFSET;
  const add = (bytes: Uint8Array): void => {
    for (const byte of bytes) hash = ((hash ^ BigInt(byte)) * FNV_PRIME) & MASK;
  };
  const sep = Uint8Array.of(SEPARATOR);
  for (const name of Object.keys(labels).sort()) {
    add(Buffer.from(name, 'utf8'));
    add(sep);
    add(Buffer.from(labels[name] ?? '', 'utf8'));
    add(sep);
  }
  return hash.toString(16).padStart(16, '0');
}

/**
 * The idempotency key of a notification: the same receiver, group, status and
 * alert states give the same key, so Alertmanager retries and HA peers collapse.
 */
export function notificationKey(msg: WebhookMessage): string {
  const alerts = msg.alerts
    .map((a) => `${a.fingerprint || labelsFingerprint(a.labels)}|${a.status}|${a.startsAt}|${a.endsAt}`)
    .sort();
  return hash('sha256', JSON.stringify([msg.receiver, msg.groupKey, msg.status, alerts]), 'hex');
}

/** sha256 of the group key, as Alertmanager's `notify.Key.Hash()` (PagerDuty dedup_key, Opsgenie alias). */
export function groupKeyHash(groupKey: string): string {
  return hash('sha256', groupKey, 'hex');
}
