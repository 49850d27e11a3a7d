import { cutText, fitText } from './chat.js';
import { truncate } from './http.js';
import { groupLinks, templateView, type RenderedMessage } from './templates.js';
import { isZeroTime, type WebhookMessage } from '../alerts/types.js';

/**
 * Discord's message limits, in characters:
 * https://docs.discord.com/developers/resources/webhook#execute-webhook and
 * https://docs.discord.com/developers/resources/message#embed-object-embed-limits
 * (`total` counts title, description, field names and values, footer and author of all embeds together).
 */
export const DISCORD_LIMITS = {
  content: 2000,
  embeds: 10,
  title: 256,
  description: 4096,
  fields: 25,
  fieldName: 256,
  fieldValue: 1024,
  total: 6000,
} as const;

/** Alertmanager's embed colours (`notify/discord`): dark red for firing, green for resolved. */
export const DISCORD_COLORS = { firing: 0x992d22, resolved: 0x2ecc71 } as const;

/** Label values are shown whole up to this, so that common labels cannot crowd out the text. */
const MAX_LABEL_VALUE = 256;
/** Text always keeps at least this much of the total when fields are long. */
const MIN_DESCRIPTION = 1000;

/** One embed field. */
export interface DiscordField {
  name: string;
  value: string;
  inline?: boolean;
}

/** The embed we send: one per group. */
export interface DiscordEmbed {
  title: string;
  description: string;
  color: number;
  timestamp?: string;
  fields: DiscordField[];
}

/**
 * The embed of a group: the title, the text (alerts dropped with `…and N
 * more` until it fits), colour by status, and fields for severity, counts,
 * common labels and links. Every limit of DISCORD_LIMITS holds.
 */
export function discordEmbed(msg: WebhookMessage, render: (msg: WebhookMessage) => RenderedMessage): DiscordEmbed {
  const view = templateView(msg);
  const title = truncate(render(msg).title, DISCORD_LIMITS.title) || 'alert';
  const fields = fitFields(
    [
      { name: 'Severity', value: view.severity, inline: true },
      { name: 'Firing', value: String(view.numFiring), inline: true },
      { name: 'Resolved', value: String(view.numResolved), inline: true },
      ...Object.entries(msg.commonLabels)
        .filter(([k]) => k !== 'severity')
        .map(([name, value]) => ({ name, value: truncate(value, MAX_LABEL_VALUE), inline: true })),
    ],
    linksField(msg),
    DISCORD_LIMITS.total - title.length - MIN_DESCRIPTION,
  );
  const used = title.length + fields.reduce((n, f) => n + f.name.length + f.value.length, 0);
  const budget = Math.min(DISCORD_LIMITS.description, DISCORD_LIMITS.total - used);
  const description = cutText(fitText(msg, render, (t) => t.length <= budget), budget);
  const timestamp = latest(msg.status === 'resolved' ? msg.alerts.map((a) => a.endsAt) : view.firing.map((a) => a.startsAt));
  return {
    title,
    description,
    color: msg.status === 'resolved' ? DISCORD_COLORS.resolved : DISCORD_COLORS.firing,
    ...(timestamp ? { timestamp } : {}),
    fields,
  };
}

/** Links as markdown, as many whole links as fit in one field value. */
function linksField(msg: WebhookMessage): DiscordField | undefined {
  let value = '';
  for (const { text, href } of groupLinks(msg)) {
    const next = `${value ? `${value} · ` : ''}[${text}](${href})`;
    if (next.length > DISCORD_LIMITS.fieldValue) break;
    value = next;
  }
  return value ? { name: 'Links', value } : undefined;
}

/** Fields within the per-field limits, at most 25, the links last, and all of them within `budget` characters. */
function fitFields(fields: DiscordField[], links: DiscordField | undefined, budget: number): DiscordField[] {
  const kept: DiscordField[] = [];
  let size = links ? links.name.length + links.value.length : 0;
  const room = DISCORD_LIMITS.fields - (links ? 1 : 0);
  for (const f of fields) {
    // Discord rejects empty names and values.
    const field = { ...f, name: truncate(f.name, DISCORD_LIMITS.fieldName) || '-', value: truncate(f.value, DISCORD_LIMITS.fieldValue) || '-' };
    if (kept.length >= room || size + field.name.length + field.value.length > budget) break;
    kept.push(field);
    size += field.name.length + field.value.length;
  }
  return links ? [...kept, links] : kept;
}

/** The latest of some RFC 3339 times, as ISO 8601 (Alertmanager sends nanoseconds; Discord takes milliseconds). */
function latest(times: string[]): string | undefined {
  const ms = times.filter((t) => !isZeroTime(t)).map((t) => Date.parse(t)).filter((t) => !Number.isNaN(t));
  return ms.length ? new Date(ms.reduce((a, b) => Math.max(a, b))).toISOString() : undefined;
}
