/** One alert of an Alertmanager webhook payload (version "4"). */
export interface Alert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  /** `0001-01-01T00:00:00Z` means "no end" (Alertmanager zeroes it for firing alerts). */
  endsAt: string;
  generatorURL?: string;
  fingerprint: string;
  [extra: string]: unknown;
}

/** The body Alertmanager's webhook notifier posts (`notify/webhook.Message`). */
export interface WebhookMessage {
  version: string;
  groupKey: string;
  truncatedAlerts?: number;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: Alert[];
  /** The matched route's labels (Alertmanager >= 0.34; absent before). */
  routeLabels?: Record<string, string> | null;
  [extra: string]: unknown;
}

/** Alertmanager's zero time: what a firing alert carries as `endsAt`. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

/** True when `endsAt` means "no end" (the zero time, or empty). */
export function isZeroTime(time: string | undefined): boolean {
  return !time || time.startsWith('0001-01-01');
}

/** What one target receives: its share of the group, enriched, and the same share as Alertmanager sent it. */
export interface TargetMessage {
  /** The enriched alerts this target selected (alertmux's own view). */
  message: WebhookMessage;
  /** The same alerts as Alertmanager sent them, for `format: alertmanager` pass-through. */
  original: WebhookMessage;
}
