import { withAlerts } from '../alerts/common.js';
import { matchesAll, routeLabels } from '../matchers/matchers.js';
import type { Alert, TargetMessage, WebhookMessage } from '../alerts/types.js';
import type { SkipReason } from '../delivery/types.js';
import type { TargetRuntime } from './runtime.js';

/** What routing reads of a target: its config and compiled matchers. */
export type RoutedTarget = Pick<TargetRuntime, 'config' | 'matchers' | 'routeMatchers'>;

/** What one target takes of a notification: the alerts it gets, those its matchers select (for dedup), or why none. */
export interface Selection<T extends RoutedTarget = TargetRuntime> {
  target: T;
  /** Indexes of the alerts it is sent. */
  alerts: number[];
  /** Indexes of the alerts its matchers select whatever their status (resolved ones too without send_resolved). */
  matched: number[];
  skip?: SkipReason;
}

/**
 * The alerts a target gets of `enriched`: none when it is disabled (`disabled`) or its `match_route` rejects the
 * notification's routeLabels (`filtered`); else those its `match` selects, resolved ones only with `send_resolved`
 * (`filtered` when that leaves none). `everything`: ignore the matchers (the dead man's switch's page).
 */
export function select<T extends RoutedTarget>(target: T, enriched: WebhookMessage, everything: boolean): Selection<T> {
  if (!target.config.enabled) return { target, alerts: [], matched: [], skip: 'disabled' };
  if (!everything && !matchesAll(target.routeMatchers, routeLabels(enriched))) return { target, alerts: [], matched: [], skip: 'filtered' };
  const alerts: number[] = [];
  const matched: number[] = [];
  enriched.alerts.forEach((alert, i) => {
    if (!everything && !matchesAll(target.matchers, alert.labels)) return;
    matched.push(i);
    if (target.config.send_resolved || alert.status === 'firing') alerts.push(i);
  });
  return alerts.length ? { target, alerts, matched } : { target, alerts, matched, skip: 'filtered' };
}

/** What a target receives: the notification cut to its `alerts` (the same objects when it gets them all). */
export function targetMessage(original: WebhookMessage, enriched: WebhookMessage, alerts: readonly number[]): TargetMessage {
  if (alerts.length === original.alerts.length) return { message: enriched, original };
  const pick = (msg: WebhookMessage) => withAlerts(msg, alerts.map((i) => msg.alerts[i]).filter((a): a is Alert => a !== undefined));
  return { message: pick(enriched), original: pick(original) };
}
