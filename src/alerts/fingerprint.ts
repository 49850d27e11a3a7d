import { hash } from 'node:crypto';
import type { Alert, WebhookMessage } from './types.js';

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK = 0xffffffffffffffffn;
const SEPARATOR = 0xff;

/**
 * Fingerprint of a label set, computed as Prometheus' `model.LabelSet.Fingerprint`
 * (FNV-1a 64 over name/value pairs sorted by name, 0xff separated), so a fingerprint
 * we fill in equals the one Alertmanager would have sent. Names sort by their UTF-8
 * bytes, as Go compares strings: JavaScript's default sort compares UTF-16 code
 * units, which orders a name beyond the BMP before one in U+E000..U+FFFF.
 */
export function labelsFingerprint(labels: Record<string, string>): string {
  let hash = FNV_OFFSET;
  const add = (bytes: Uint8Array): void => {
    for (const byte of bytes) hash = ((hash ^ BigInt(byte)) * FNV_PRIME) & MASK;
  };
  const sep = Uint8Array.of(SEPARATOR);
  const names = Object.keys(labels).map((name) => ({ name, bytes: Buffer.from(name, 'utf8') }));
  names.sort((a, b) => Buffer.compare(a.bytes, b.bytes));
  for (const { name, bytes } of names) {
    add(bytes);
    add(sep);
    add(Buffer.from(labels[name] ?? '', 'utf8'));
    add(sep);
  }
  return hash.toString(16).padStart(16, '0');
}

/** An alert's fingerprint: the one Alertmanager sent, or computed from its labels when missing. */
export function alertFingerprint(alert: Pick<Alert, 'fingerprint' | 'labels'>): string {
  return alert.fingerprint || labelsFingerprint(alert.labels);
}

/**
 * The content key of a notification: receiver, group, status and each alert's fingerprint and status.
 * Timestamps play no part (HA peers and Prometheus replicas disagree on them by milliseconds), so
 * identical notifications share it. Dedup does not use it: that is nflog's rule (delivery/dedup.ts).
 */
export function notificationKey(msg: WebhookMessage): string {
  const alerts = msg.alerts.map((a) => `${alertFingerprint(a)}|${a.status}`).sort();
  return hash('sha256', JSON.stringify([msg.receiver, msg.groupKey, msg.status, alerts]), 'hex');
}

/** sha256 of the group key, as Alertmanager's `notify.Key.Hash()` (PagerDuty dedup_key, Opsgenie alias). */
export function groupKeyHash(groupKey: string): string {
  return hash('sha256', groupKey, 'hex');
}
