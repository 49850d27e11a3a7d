import { renderRequests, type RedactedRequest } from '../publishers/registry.js';
import type { TargetMessage, WebhookMessage } from '../alerts/types.js';
import type { DeliveryRecord, NotificationRecord } from '../delivery/types.js';
import type { Runtime } from '../dispatch/runtime.js';

/**
 * What a delivery sends, rendered on demand rather than stored with every delivery (a copy per delivery would
 * multiply the ledger's writes): the stored notification and the target's current config determine the request.
 */
export interface SentView extends RedactedRequest {
  /** Always `current config`: a target whose config changed since the delivery renders what it would send now. */
  renderedWith: 'current config';
  /** When a delivery makes several requests (PagerDuty per_alert, Rootly's API, batches): all of them; the fields above are the first. */
  requests?: RedactedRequest[];
  /** What the rendering cannot show (requests that depend on stored correlation state, timestamps of the rendering). */
  note?: string;
}

/** What the notification detail says of one delivery's request: `sent`, or why there is none. */
export type SentEntry = { sent: SentView } | { sentUnavailable: string };

/** Rebuilds the message a target received from the stored notification (`Dispatcher.targetMessage`). */
export type TargetMessageOf = (original: WebhookMessage, enriched: WebhookMessage, alerts: readonly number[]) => TargetMessage;

/** The request of one delivery, rendered with its target's current config and redacted of its secrets. */
export function sentOf(runtime: Runtime, n: NotificationRecord, d: DeliveryRecord, targetMessage: TargetMessageOf): SentEntry {
  const target = runtime.targets.get(d.target);
  if (!target) return { sentUnavailable: `target "${d.target}" is no longer configured` };
  if (target.config.type !== d.targetType) return { sentUnavailable: `target "${d.target}" is now of type ${target.config.type}, not ${d.targetType}` };
  let message: TargetMessage;
  try {
    message = targetMessage(JSON.parse(n.original) as WebhookMessage, JSON.parse(n.enriched) as WebhookMessage, d.alerts);
  } catch {
    return { sentUnavailable: 'the stored notification does not read' };
  }
  let rendered: ReturnType<typeof renderRequests>;
  try {
    rendered = renderRequests(target.config, target.publisher, message, { deliveryId: d.id, ...(d.fallbackFor === undefined ? {} : { fallbackFor: d.fallbackFor }) });
  } catch (err) {
    // A builder that throws would have failed the attempt the same way ("publisher error"); its message may hold no secret: not shown.
    return { sentUnavailable: `the request could not be rendered (${err instanceof Error ? err.name : 'error'})` };
  }
  if (!rendered) return { sentUnavailable: `a ${d.targetType} target sends no HTTP request` };
  const [first, ...rest] = rendered.requests;
  if (!first) return { sentUnavailable: 'no request: nothing of this delivery is sent (e.g. resolved alerts without stored ids)' };
  return {
    sent: {
      renderedWith: 'current config',
      ...first,
      ...(rest.length ? { requests: rendered.requests } : {}),
      ...(rendered.note ? { note: rendered.note } : {}),
    },
  };
}
