import type { WebhookMessage } from '../alerts/types.js';
import type { RenderedMessage } from './templates.js';

/**
 * The text of a group that passes `fits`: all alerts if they fit, else the
 * most leading alerts that do, followed by `…and N more`. Chat vendors cap the
 * size of a message, and a cut between alerts reads better than one inside an
 * alert. Returns the shortest candidate when nothing fits; callers still cut
 * it hard as the last resort (a custom template that ignores alerts).
 */
export function fitText(msg: WebhookMessage, render: (msg: WebhookMessage) => RenderedMessage, fits: (text: string) => boolean): string {
  const all = render(msg).text;
  const n = msg.alerts.length;
  if (fits(all) || n === 0) return all;
  const keep = (k: number) => `${render({ ...msg, alerts: msg.alerts.slice(0, k) }).text}\n\n…and ${n - k} more`.trim();
  // Binary search of the largest k in [0, n-1] that fits: O(log n) renders, even for huge groups.
  let lo = 0;
  let hi = n - 1;
  let best = keep(0);
  if (!fits(best)) return best;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    const text = keep(mid);
    if (fits(text)) {
      lo = mid;
      best = text;
    } else hi = mid - 1;
  }
  return best;
}
