import { cutToFit, fitText } from './chat.js';
import { truncate } from './http.js';
import { groupLinks, templateView, type RenderedMessage } from './templates.js';
import type { WebhookMessage } from '../alerts/types.js';

/**
 * Teams rejects messages larger than 28 KB ("The message size limit is 28 KB"):
 * https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using
 * 28 000 bytes of serialized JSON stays under both readings of "KB".
 */
export const TEAMS_MAX_MESSAGE_BYTES = 28_000;
/**
 * Teams shows at most 6 card actions (its host config's `actions.maxActions`, as the Adaptive Cards
 * designer's Teams host config pins it: microsoft/AdaptiveCards, adaptivecards-designer teams container).
 */
export const TEAMS_MAX_ACTIONS = 6;
/**
 * The Adaptive Card version the card declares, and so the newest feature it may use: 1.2 renders in every Teams
 * client (and is what Alertmanager's msteamsv2 declares); a card needing more shows only a fallback on older ones.
 */
export const ADAPTIVE_CARD_VERSION = '1.2';
/** Our own caps, so that labels and a custom title cannot crowd out the text. */
const MAX_TITLE = 500;
const MAX_FACT_VALUE = 500;
const MAX_FACTS = 20;

/** The `{"type":"message","attachments":[...]}` envelope a Workflows "post to a channel" flow expects. */
export interface TeamsMessage {
  type: 'message';
  attachments: Array<{ contentType: 'application/vnd.microsoft.card.adaptive'; contentUrl: null; content: AdaptiveCard }>;
}

/** The subset of Adaptive Card 1.2 we send (test/publishers/adaptive-card-versions.ts checks every element and property). */
export interface AdaptiveCard {
  $schema: string;
  type: 'AdaptiveCard';
  version: typeof ADAPTIVE_CARD_VERSION;
  msteams: { width: 'full' };
  body: Array<Record<string, unknown>>;
  actions?: Array<{ type: 'Action.OpenUrl'; title: string; url: string }>;
}

/**
 * The message for a group: a heading coloured Attention (firing) or Good
 * (resolved), the text, a FactSet (severity, counts, common labels) and a link
 * per runbook/dashboard/silence/source (at most TEAMS_MAX_ACTIONS). Alerts are dropped from the text
 * (`…and N more`), and a single oversize alert is cut, until the serialized message fits TEAMS_MAX_MESSAGE_BYTES.
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
  const actions = groupLinks(msg)
    .slice(0, TEAMS_MAX_ACTIONS)
    .map((l) => ({ type: 'Action.OpenUrl' as const, title: l.text, url: l.href }));
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
    // Bolder and Medium make it look like a heading; `style: heading` would need Adaptive Cards 1.5.
    { type: 'TextBlock', text: title, weight: 'Bolder', size: 'Medium', wrap: true, color },
  ];
  if (text) body.push({ type: 'TextBlock', text, wrap: true });
  body.push({ type: 'FactSet', facts });
  return {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: ADAPTIVE_CARD_VERSION,
    msteams: { width: 'full' },
    body,
    ...(actions.length ? { actions } : {}),
  };
}

function envelope(content: AdaptiveCard): TeamsMessage {
  return { type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content }] };
}

/** Size of the message on the wire (UTF-8 JSON). */
export function byteSize(message: unknown): number {
  return Buffer.byteLength(JSON.stringify(message), 'utf8');
}
