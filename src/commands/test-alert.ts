import { ownAlertMessage } from '../alerts/synthetic.js';
import type { WebhookMessage } from '../alerts/types.js';

/** Labels of the test alert. The same every run, so that `--resolve` resolves the group (and PagerDuty incident) a firing test opened. */
export const TEST_LABELS: Readonly<Record<string, string>> = { alertname: 'AlertmuxTest', severity: 'warning', source: 'alertmux-send-test' };
/** Receiver and group key of the test group, as Alertmanager would send them for a route grouped by alertname. */
export const TEST_RECEIVER = 'alertmux-send-test';
export const TEST_GROUP_KEY = '{}:{alertname="AlertmuxTest"}';

/** A realistic Alertmanager v4 payload of one test alert, firing or resolved at `now`, that started at `startsAt`. */
export function testMessage(status: 'firing' | 'resolved', now: number, startsAt?: string): WebhookMessage {
  const labels = { ...TEST_LABELS };
  const annotations = {
    summary: 'Test alert from alertmux: this target is reachable',
    description:
      'This is a test notification sent by `alertmux send-test` to check a target\'s configuration. It is not a real incident. ' +
      'Run `alertmux send-test --resolve` to resolve it.',
  };
  const resolved = status === 'resolved';
  return ownAlertMessage({
    status,
    receiver: TEST_RECEIVER,
    groupKey: TEST_GROUP_KEY,
    labels,
    annotations,
    // Without a remembered firing test, a resolved one says it fired a minute earlier.
    startsAt: startsAt ?? new Date(resolved ? now - 60_000 : now).toISOString(),
    now,
  });
}
