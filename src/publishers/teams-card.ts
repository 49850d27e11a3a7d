import { fitText } from './chat.js';
import { truncate } from './http.js';
import { groupLinks, templateView, type RenderedMessage } from './templates.js';
import type { WebhookMessage } from '../alerts/types.js';

/**
 * Teams rejects messages larger than 28 KB ("The message size limit is 28 KB"):
 * https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using
 * 28 000 bytes of serialized JSON stays under both readings of "KB".
 */
export const TEAMS_MAX_MESSAGE_BYTES = 28_000;
/** Our own caps, so that labels and a custom title cannot crowd out the text. */
const MAX_TITLE = 500;
const MAX_FACT_VALUE = 500;
const MAX_FACTS = 20;

/** The `{"type":"message","attachments":[...]}` envelope a Workflows "post to a channel" flow expects. */
export interface TeamsMessage {
  type: 'message';
  attachments: Array<{ contentType: 'application/vnd.microsoft.card.adaptive'; contentUrl: null; content: AdaptiveCard }>;
}

/** The subset of Adaptive Card 1.2 we send. */
export interface AdaptiveCard {
  $schema: string;
  type: 'AdaptiveCard';
  version: '1.2';
  msteams: { width: 'full' };
  body: Array<Record<string, unknown>>;
  actions?: Array<{ type: 'Action.OpenUrl'; title: string; url: string }>;
}

/**
 * The message for a group: a heading coloured Attention (firing) or Good
 * (resolved), the text, a FactSet (severity, counts, common labels) and a link
 * per runbook/dashboard/silence/source. Alerts are dropped from the text
 * (`…and N more`) until the serialized message fits TEAMS_MAX_MESSAGE_BYTES.
 */
export function teamsMessage(msg: WebhookMessage, render: (msg: WebhookMessage) => RenderedMessage): TeamsMessage {
  const view = templateView(msg);
  const title = truncate(render(msg).title, MAX_TITLE);
  const facts = [
    { title: 'Severity', value: view.severity },
    { title: 'Firing', value: String(view.numFiring) },
    { title: 'Resolved', value: String(view.numResolved) },
    ...Object.entries(msg.commonLabels)
      .filter(([k]) => k !== 'severity')
      .map(([title, value]) => ({ title, value: truncate(value, MAX_FACT_VALUE) })),
  ].slice(0, MAX_FACTS);
  const actions = groupLinks(msg).map((l) => ({ type: 'Action.OpenUrl' as const, title: l.text, url: l.href }));
  const color = msg.status === 'resolved' ? 'Good' : 'Attention';
  // Only very many very long links can crowd out the text: then drop the buttons.
  const links = byteSize(envelope(card(title, '', color, facts, actions))) <= TEAMS_MAX_MESSAGE_BYTES ? actions : [];
  const build = (text: string) => envelope(card(title, text, color, facts, links));
  const over = (text: string) => byteSize(build(text)) - TEAMS_MAX_MESSAGE_BYTES;

  let text = fitText(msg, render, (t) => over(t) <= 0);
  // Last resort (a custom template that ignores alerts): cut the text itself.
  if (over(text) > 0) text = cutToFit(text, (t) => over(t) <= 0);
  return build(text);
}

function card(
  title: string,
  text: string,
  color: 'Attention' | 'Good',
  facts: Array<{ title: string; value: string }>,
  actions: NonNullable<AdaptiveCard['actions']>,
): AdaptiveCard {
  const body: Array<Record<string, unknown>> = [
    { type: 'TextBlock', text: title, weight: 'Bolder', size: 'Medium', style: 'heading', wrap: true, color },
  ];
  if (text) body.push({ type: 'TextBlock', text, wrap: true });
  body.push({ type: 'FactSet', facts });
  return {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.2',
    msteams: { width: 'full' },
    body,
    ...(actions.length ? { actions } : {}),
  };
}

function envelope(content: AdaptiveCard): TeamsMessage {
  return { type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content }] };
}

/** The longest cut of `text` (marked `…`) that `fits`, found by binary search; '' when none does. */
function cutToFit(text: string, fits: (text: string) => boolean): string {
  let lo = 0;
  let hi = text.length - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(truncate(text, mid))) lo = mid;
    else hi = mid - 1;
  }
  return lo > 1 && fits(truncate(text, lo)) ? truncate(text, lo) : '';
}

/** Size of the message on the wire (UTF-8 JSON). */
export function byteSize(message: unknown): number {
  return Buffer.byteLength(JSON.stringify(message), 'utf8');
}
