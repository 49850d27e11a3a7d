import type { WebhookMessage } from '../alerts/types.js';
import { groupLinks, templateView, type RenderedMessage } from './templates.js';

/** Blocks per message. https://docs.slack.dev/reference/block-kit/blocks */
export const MAX_BLOCKS = 50;
/** Characters of a section block's text. https://docs.slack.dev/reference/block-kit/blocks/section-block */
export const MAX_SECTION_TEXT = 3000;
/** Characters of a header block's plain text. https://docs.slack.dev/reference/block-kit/blocks/header-block */
export const MAX_HEADER_TEXT = 150;
/** Elements of a context block. https://docs.slack.dev/reference/block-kit/blocks/context-block */
export const MAX_CONTEXT_ELEMENTS = 10;
/**
 * Top-level `text` (the notification fallback): Slack truncates above 40,000
 * characters; 4,000 keeps it readable. https://docs.slack.dev/reference/methods/chat.postMessage
 */
export const MAX_FALLBACK_TEXT = 4000;
/**
 * Total text across blocks: Slack rejects with `msg_blocks_too_long` at about 13k
 * characters, an undocumented cap (slackapi/bolt-js#2509), so stay below it.
 */
export const MAX_TOTAL_BLOCK_TEXT = 12_000;
/** Links shown under the alerts (runbook, dashboard, silence, source); more would only add noise. */
export const MAX_LINKS = 6;

/** Colour bar of the attachment by severity; resolved is always green. */
export const SEVERITY_COLORS: Record<string, string> = {
  critical: '#E01E5A',
  error: '#E01E5A',
  warning: '#ECB22E',
  warn: '#ECB22E',
  info: '#36C5F0',
  none: '#36C5F0',
};
/** Green bar of a resolved group. */
export const RESOLVED_COLOR = '#2EB67D';
/** Bar of a firing group whose severity is unknown: as red as Alertmanager's `danger`. */
export const DEFAULT_COLOR = '#E01E5A';

/** A Block Kit block (only what we build). */
export type Block =
  | { type: 'header'; text: { type: 'plain_text'; text: string; emoji: true } }
  | { type: 'section'; text: { type: 'mrkdwn'; text: string } }
  | { type: 'context'; elements: Array<{ type: 'mrkdwn'; text: string }> };

/** The content of a chat.postMessage / chat.update / incoming-webhook body. */
export interface SlackMessage {
  /** Notification and screen-reader fallback. */
  text: string;
  blocks: Block[];
  attachments: Array<{ color: string; fallback: string; blocks: Block[] }>;
}

/**
 * The message of a group: the title as a header, then a coloured attachment with
 * the text (split into sections), the links and a context line. `rendered.text`
 * is mrkdwn as is when it comes from a user template; the default text is escaped.
 */
export function buildSlackMessage(msg: WebhookMessage, rendered: RenderedMessage, textIsMrkdwn: boolean): SlackMessage {
  const view = templateView(msg);
  const title = rendered.title || `[${msg.status.toUpperCase()}] ${view.name}`;
  const body = textIsMrkdwn ? rendered.text : escapeMrkdwn(rendered.text);
  const links = groupLinks(msg)
    .slice(0, MAX_LINKS)
    .map((l) => `<${escapeUrl(l.href)}|${escapeMrkdwn(l.text)}>`)
    .join(' · ');
  const context = [`*${view.numFiring}* firing · *${view.numResolved}* resolved`];
  if (msg.truncatedAlerts) context.push(`${msg.truncatedAlerts} more not shown (truncated by Alertmanager)`);
  if (/^https?:\/\//.test(msg.externalURL)) context.push(`<${escapeUrl(msg.externalURL)}|Alertmanager>`);

  const tail: Block[] = [];
  if (links) tail.push(section(links));
  tail.push({ type: 'context', elements: context.slice(0, MAX_CONTEXT_ELEMENTS).map((text) => ({ type: 'mrkdwn', text })) });
  const budget = MAX_TOTAL_BLOCK_TEXT - title.length - links.length - context.join('').length;
  const sections = splitSections(truncate(body, Math.max(0, budget))).slice(0, MAX_BLOCKS - 1 - tail.length);
  const color = msg.status === 'resolved' ? RESOLVED_COLOR : (SEVERITY_COLORS[view.severity.toLowerCase()] ?? DEFAULT_COLOR);
  return {
    text: truncate(title, MAX_FALLBACK_TEXT),
    blocks: [{ type: 'header', text: { type: 'plain_text', text: truncate(title, MAX_HEADER_TEXT), emoji: true } }],
    attachments: [{ color, fallback: truncate(title, MAX_FALLBACK_TEXT), blocks: [...sections.map(section), ...tail] }],
  };
}

/** Pack paragraphs into section texts of at most {@link MAX_SECTION_TEXT}; a longer paragraph is cut. */
export function splitSections(text: string): string[] {
  const sections: string[] = [];
  let current = '';
  for (const paragraph of text.split(/\n{2,}/).filter((p) => p.trim() !== '')) {
    const part = truncate(paragraph, MAX_SECTION_TEXT);
    if (current && current.length + 2 + part.length <= MAX_SECTION_TEXT) current += `\n\n${part}`;
    else {
      if (current) sections.push(current);
      current = part;
    }
  }
  if (current) sections.push(current);
  return sections;
}

/** Slack mrkdwn needs only `&`, `<` and `>` escaped. https://docs.slack.dev/messaging/formatting-message-text#escaping */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A URL safe inside `<url|text>`: `|`, `<` and `>` would end it early. */
function escapeUrl(url: string): string {
  return url.replace(/&/g, '&amp;').replace(/</g, '%3C').replace(/>/g, '%3E').replace(/\|/g, '%7C');
}

function section(text: string): Block {
  return { type: 'section', text: { type: 'mrkdwn', text } };
}

/** Cut to `max` UTF-16 units (never inside a surrogate pair), ending in `…` when cut. */
function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, Math.max(0, max - 1));
  return `${/[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut}…`;
}
