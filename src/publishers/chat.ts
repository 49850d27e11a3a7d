import type { WebhookMessage } from '../alerts/types.js';
import type { RenderedMessage } from './templates.js';

/**
 * The text of a group that passes `fits`: all alerts if they fit, else the
 * most leading alerts that do, followed by `…and N more`. Chat vendors cap the
 * size of a message, and a cut between alerts reads better than one inside an
 * alert. When not even the first alert fits on its own, it is cut (its start:
 * the summary, then the start of the description) rather than left out, so the
 * page always carries alert text. Returns the shortest candidate when nothing
 * fits; callers still cut it hard as the last resort (a custom template that
 * ignores alerts).
 */
export function fitText(msg: WebhookMessage, render: (msg: WebhookMessage) => RenderedMessage, fits: (text: string) => boolean): string {
  const all = render(msg).text;
  const n = msg.alerts.length;
  if (fits(all) || n === 0) return all;
  const more = (k: number) => (k < n ? `\n\n…and ${n - k} more` : '');
  const keep = (k: number) => `${render({ ...msg, alerts: msg.alerts.slice(0, k) }).text}${more(k)}`.trim();
  // Binary search of the largest k in [1, n-1] that fits: O(log n) renders, even for huge groups.
  if (n > 1 && fits(keep(1))) {
    let lo = 1;
    let hi = n - 1;
    let best = keep(1);
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
  const first = render({ ...msg, alerts: msg.alerts.slice(0, 1) }).text.trim();
  // A template that ignores the alerts has no alert to keep: the caller cuts its text.
  if (first === render({ ...msg, alerts: [] }).text.trim()) return keep(0);
  const cut = cutToFit(first, (text) => fits(`${text}${more(1)}`));
  return cut ? `${cut}${more(1)}` : keep(0);
}

/** The longest cut of `text` (ending in `…`) that `fits`, found by binary search; '' when none does. */
export function cutToFit(text: string, fits: (text: string) => boolean): string {
  let lo = 0;
  let hi = text.length - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(cutText(text, mid))) lo = mid;
    else hi = mid - 1;
  }
  return lo > 1 && fits(cutText(text, lo)) ? cutText(text, lo) : '';
}

/** Cut to at most `max` UTF-16 units, ending in `…` when cut, never inside a surrogate pair (a lone half is invalid JSON text for vendors). */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, Math.max(0, max - 1));
  return `${/[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut}…`;
}
