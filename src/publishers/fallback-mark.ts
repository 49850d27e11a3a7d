import type { WebhookMessage } from '../alerts/types.js';
import type { RenderedMessage } from './templates.js';

/** The annotation each alert of a fallback delivery carries where the payload is Alertmanager's alerts (alertmanager, Rootly). */
export const FALLBACK_ANNOTATION = 'alertmux_fallback_for';
/** The request header of a webhook target's fallback delivery. */
export const FALLBACK_HEADER = 'alertmux-fallback-for';

/** What a chat title of a fallback delivery starts with: `[fallback for pagerduty-main] `. */
export function fallbackPrefix(fallbackFor: string): string {
  return `[fallback for ${fallbackFor}] `;
}

/** A rendering whose title says it is a fallback, when it is one (chat targets: Slack, Teams, Discord). */
export function withFallbackTitle(render: (msg: WebhookMessage) => RenderedMessage, fallbackFor?: string): (msg: WebhookMessage) => RenderedMessage {
  if (fallbackFor === undefined) return render;
  return (msg) => {
    const rendered = render(msg);
    return { ...rendered, title: `${fallbackPrefix(fallbackFor)}${rendered.title}` };
  };
}

/** The group with {@link FALLBACK_ANNOTATION} on each alert (and in the common annotations), when it is a fallback. */
export function annotateFallback(msg: WebhookMessage, fallbackFor?: string): WebhookMessage {
  if (fallbackFor === undefined) return msg;
  return {
    ...msg,
    commonAnnotations: { ...msg.commonAnnotations, [FALLBACK_ANNOTATION]: fallbackFor },
    alerts: msg.alerts.map((a) => ({ ...a, annotations: { ...a.annotations, [FALLBACK_ANNOTATION]: fallbackFor } })),
  };
}
