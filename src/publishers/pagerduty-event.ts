import { withAlerts } from '../alerts/common.js';
import { fallbackPrefix } from './fallback-mark.js';
import { groupKeyHash, labelsFingerprint } from '../alerts/fingerprint.js';
import type { Alert, WebhookMessage } from '../alerts/types.js';
import { defaultTitle, groupLinks, templateView, type TemplateView } from './templates.js';

/** `payload.summary` limit. https://developer.pagerduty.com/docs/events-api-v2/trigger-events/ */
export const MAX_SUMMARY_CHARS = 1024;
/** Whole-request limit; Alertmanager uses 512000 bytes (`notify/pagerduty.maxEventSize`). */
export const MAX_EVENT_BYTES = 512_000;
/** What replaces `custom_details` in an event over {@link MAX_EVENT_BYTES}, as Alertmanager does. */
export const DETAILS_REMOVED = 'Custom details have been removed because the original event exceeds the maximum size of 512kB';

/** The four severities the Events API accepts; anything else is a 400. */
export const SEVERITIES = ['critical', 'error', 'warning', 'info'] as const;
/** One of {@link SEVERITIES}. */
export type PagerDutySeverity = (typeof SEVERITIES)[number];
/** Common spellings mapped onto the four severities (matched lower-cased). */
const SEVERITY_ALIASES: Record<string, PagerDutySeverity> = { warn: 'warning', information: 'info', informational: 'info', none: 'info' };

/** How the event fields are taken from the alerts. */
export interface EventOptions {
  dedup: 'per_group' | 'per_alert';
  severityLabel: string;
  defaultSeverity: PagerDutySeverity;
  sourceLabel: string;
  componentLabel: string;
  groupLabel: string;
  classLabel: string;
  client: string;
  clientUrl?: string;
  /** The `summary` template, compiled; a blank rendering (or none, when it failed) falls back to the default summary. */
  summary?: (view: TemplateView) => string | undefined;
  /** Set on a fallback delivery: the target it was meant for (a summary prefix and a custom detail say so). */
  fallbackFor?: string;
  /** The `images`, rendered for one event (those left out already dropped). */
  images?: (view: TemplateView) => PagerDutyImage[];
}

/** An image shown on the PagerDuty alert. */
export interface PagerDutyImage {
  src: string;
  href?: string;
  alt?: string;
}

/** One Events API v2 event, without `routing_key` (the transport adds it). */
export interface PagerDutyEvent {
  event_action: 'trigger' | 'resolve';
  dedup_key: string;
  payload?: {
    summary: string;
    source: string;
    severity: PagerDutySeverity;
    timestamp?: string;
    component?: string;
    group?: string;
    class?: string;
    custom_details: Record<string, unknown>;
  };
  client?: string;
  client_url?: string;
  links?: Array<{ href: string; text: string }>;
  images?: PagerDutyImage[];
}

/**
 * The events for one group: one keyed by sha256(groupKey) (Alertmanager's
 * `notify.Key.Hash()`), or with `per_alert` one per alert keyed by its fingerprint.
 */
export function toEvents(msg: WebhookMessage, opts: EventOptions): PagerDutyEvent[] {
  if (opts.dedup === 'per_group') return [toEvent(msg, groupKeyHash(msg.groupKey), opts)];
  return msg.alerts.map((a) => toEvent(withAlerts(msg, [a]), a.fingerprint || labelsFingerprint(a.labels), opts));
}

/** A trigger while any alert fires, else a resolve; a resolve needs only its key (PagerDuty ignores the rest). */
function toEvent(msg: WebhookMessage, dedupKey: string, opts: EventOptions): PagerDutyEvent {
  if (msg.status === 'resolved') return { event_action: 'resolve', dedup_key: dedupKey };
  const firing = msg.alerts.filter((a) => a.status === 'firing');
  const resolved = msg.alerts.filter((a) => a.status === 'resolved');
  const view = templateView(msg);
  const common = msg.commonAnnotations['summary'];
  const own = opts.summary?.(view)?.trim() || `${defaultTitle(view)}${common ? `: ${common}` : ''}`;
  const summary = opts.fallbackFor === undefined ? own : `${fallbackPrefix(opts.fallbackFor)}${own}`;
  const images = opts.images?.(view) ?? [];
  const starts = firing.map((a) => Date.parse(a.startsAt)).filter((t) => !Number.isNaN(t));
  const links = groupLinks(msg).map(({ href, text }) => ({ href, text }));
  return {
    event_action: 'trigger',
    dedup_key: dedupKey,
    payload: {
      summary: truncateChars(summary, MAX_SUMMARY_CHARS),
      source: labelValue(firing, opts.sourceLabel) ?? opts.client,
      severity: highestSeverity(firing, opts),
      ...(starts.length ? { timestamp: new Date(Math.min(...starts)).toISOString() } : {}),
      ...optional('component', labelValue(firing, opts.componentLabel)),
      ...optional('group', labelValue(firing, opts.groupLabel)),
      ...optional('class', labelValue(firing, opts.classLabel)),
      custom_details: {
        ...(opts.fallbackFor === undefined ? {} : { fallback_for: opts.fallbackFor }),
        num_firing: firing.length,
        num_resolved: resolved.length,
        ...(msg.truncatedAlerts ? { truncated_alerts: msg.truncatedAlerts } : {}),
        firing: firing.map(alertDetails),
        resolved: resolved.map(alertDetails),
      },
    },
    client: opts.client,
    ...optional('client_url', opts.clientUrl ?? (/^https?:\/\//.test(msg.externalURL) ? msg.externalURL : undefined)),
    ...(links.length ? { links } : {}),
    ...(images.length ? { images } : {}),
  };
}

/**
 * The event as the JSON text to send. Over {@link MAX_EVENT_BYTES}, `custom_details`
 * is replaced by a note, as Alertmanager does; `truncated` says so.
 */
export function encodeEvent(event: PagerDutyEvent & { routing_key: string }): { body: string; truncated: boolean } {
  const body = JSON.stringify(event);
  if (!event.payload || Buffer.byteLength(body) <= MAX_EVENT_BYTES) return { body, truncated: false };
  return { body: JSON.stringify({ ...event, payload: { ...event.payload, custom_details: { error: DETAILS_REMOVED } } }), truncated: true };
}

/** Map a label value onto a PagerDuty severity; unknown and missing values give `fallback`. */
export function toSeverity(value: string | undefined, fallback: PagerDutySeverity): PagerDutySeverity {
  const v = (value ?? '').trim().toLowerCase();
  return (SEVERITIES as readonly string[]).includes(v) ? (v as PagerDutySeverity) : (SEVERITY_ALIASES[v] ?? fallback);
}

/** The most severe of the firing alerts: a group pages as its worst alert. */
function highestSeverity(alerts: Alert[], opts: EventOptions): PagerDutySeverity {
  const ranks = alerts.map((a) => SEVERITIES.indexOf(toSeverity(a.labels[opts.severityLabel], opts.defaultSeverity)));
  return ranks.length ? (SEVERITIES[Math.min(...ranks)] ?? opts.defaultSeverity) : opts.defaultSeverity;
}

/** The label's value when the alerts share it; several values are listed (first three, then a count). */
function labelValue(alerts: Alert[], label: string): string | undefined {
  const values = [...new Set(alerts.map((a) => a.labels[label]).filter((v): v is string => !!v))];
  if (values.length <= 3) return values.length ? values.join(', ') : undefined;
  return `${values.slice(0, 3).join(', ')} and ${values.length - 3} more`;
}

function alertDetails(a: Alert): Record<string, unknown> {
  return {
    labels: a.labels,
    annotations: a.annotations,
    startsAt: a.startsAt,
    ...(a.status === 'resolved' ? { endsAt: a.endsAt } : {}),
    ...optional('generatorURL', a.generatorURL || undefined),
    fingerprint: a.fingerprint || labelsFingerprint(a.labels),
  };
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}

/** Cut to `max` characters (code points, like Alertmanager's runes), ending in `…` when cut. */
function truncateChars(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}
