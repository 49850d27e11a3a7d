import { ownAlertMessage } from '../alerts/synthetic.js';
import type { WebhookMessage } from '../alerts/types.js';
import { formatDuration } from '../config/duration.js';

/** Labels of the page: a stable set, so its fingerprint (and every vendor's dedup key) is the same each time. */
export const DEADMAN_LABELS: Readonly<Record<string, string>> = { alertname: 'AlertmuxHeartbeatMissing', severity: 'critical' };
/** Receiver and group key of the page, as Alertmanager would send them for a route grouped by alertname. */
export const DEADMAN_RECEIVER = 'alertmux-deadman';
export const DEADMAN_GROUP_KEY = '{}:{alertname="AlertmuxHeartbeatMissing"}';

/** What the page says: when it opened, the last heartbeat before it, the timeout and matchers at the time. */
export interface PageFacts {
  /** When the silence was found past the timeout (the alert's startsAt). */
  since: number;
  lastHeartbeatAt: number;
  timeout: number;
  match: readonly string[];
}

/** The heartbeat's name for humans: the alertname of an `alertname="X"` matcher, or "heartbeat". */
export function heartbeatName(match: readonly string[]): string {
  for (const entry of match) {
    const m = /^\{?\s*alertname\s*=\s*"([^"\\]+)"\s*\}?$/.exec(entry.trim());
    if (m?.[1]) return m[1];
  }
  return 'heartbeat';
}

/**
 * The page (firing) or its resolve, as an Alertmanager v4 payload of one alert. Both carry the same
 * labels, annotations and group key, so the resolve closes what the page opened in each target.
 */
export function pageMessage(status: 'firing' | 'resolved', facts: PageFacts, now: number): WebhookMessage {
  const labels = { ...DEADMAN_LABELS };
  const name = heartbeatName(facts.match);
  const annotations = {
    summary: `Alertmanager heartbeat missing: no ${name} for ${formatDuration(facts.timeout)}`,
    description:
      `alertmux has received no firing alert matching ${facts.match.join(', ')} since ${new Date(facts.lastHeartbeatAt).toISOString()} ` +
      `(deadman.timeout ${formatDuration(facts.timeout)}). Prometheus, Alertmanager, or the route that sends the ${name} to alertmux ` +
      'may be down: nothing else in the alerting pipeline can page about that.',
  };
  return ownAlertMessage({
    status,
    receiver: DEADMAN_RECEIVER,
    groupKey: DEADMAN_GROUP_KEY,
    labels,
    annotations,
    startsAt: new Date(facts.since).toISOString(),
    now,
  });
}
