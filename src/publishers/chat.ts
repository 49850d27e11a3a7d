import type { WebhookMessage } from '../alerts/types.js';
import type { Outcome } from './publisher.js';
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

/**
 * The outcome with every secret replaced by `<secret>`. For targets whose URL
 * is the credential (Teams workflows, Discord webhooks): a vendor error body
 * could echo it, and it must never reach an error message or a log.
 */
export function withoutSecrets(outcome: Outcome, secrets: readonly string[]): Outcome {
  if (outcome.ok) return outcome;
  const ordered = secrets.filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
  const message = ordered.reduce((text, s) => text.split(s).join('<secret>'), outcome.message);
  return { ...outcome, message };
}

/** The parts of a secret URL that must not leak: the URL itself, its path and every query value. */
export function urlSecrets(url: string): string[] {
  try {
    const parsed = new URL(url);
    const parts = [url, parsed.pathname, ...parsed.searchParams.values(), ...parsed.pathname.split('/').filter((p) => p.length >= 16)];
    return parts.filter((p) => p.length > 1);
  } catch {
    return [url];
  }
}
