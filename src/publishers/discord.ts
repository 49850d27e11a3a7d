import { discordEmbed, type DiscordEmbed } from './discord-embed.js';
import { withFallbackTitle } from './fallback-mark.js';
import { classifyResponse, deliverWith, outgoing, type HttpRequest, type HttpResponse } from './http.js';
import { secretString, targetSchema, type BaseTarget } from '../config/target.js';
import { checkMessageTemplates, compileMessage, templateSchema, type MessageTemplateConfig } from './templates.js';
import type { TargetDescriptor } from './descriptor.js';
import type { Outcome, Publisher, PublisherDeps, RequestContext } from './publisher.js';
import type { TargetMessage } from '../alerts/types.js';
import type { SecretField } from './redaction.js';

/** A Discord channel webhook. */
export interface DiscordTarget extends BaseTarget {
  type: 'discord';
  /** `https://discord.com/api/webhooks/{id}/{token}`: the token in it is the credential. */
  webhook_url: string;
  /** Overrides the webhook's default name. */
  username?: string;
  /** Overrides the webhook's default avatar. */
  avatar_url?: string;
  template?: MessageTemplateConfig;
}

/** Config schema of the `discord` type. */
const discordSchema = targetSchema(
  'discord',
  'Posts an embed to a Discord channel through a channel webhook (a new message for firing and for resolved; mentions never ping).',
  {
    webhook_url: {
      ...secretString,
      pattern: '^https?://',
      description: 'Channel webhook URL (`https://discord.com/api/webhooks/<id>/<token>`); the whole URL is the credential.',
    },
    // https://docs.discord.com/developers/resources/webhook#execute-webhook: username is 1 to 80 characters.
    username: { type: 'string', minLength: 1, maxLength: 80, description: 'Name shown as the author, instead of the webhook\'s own.' },
    avatar_url: { type: 'string', pattern: '^https?://', description: 'Avatar image URL, instead of the webhook\'s own.' },
    template: templateSchema,
  },
  ['webhook_url'],
);

/** The body of Execute Webhook as we send it. */
export interface DiscordMessage {
  username?: string;
  avatar_url?: string;
  /** Always `{parse: []}`: alert text must never ping @everyone, roles or users. */
  allowed_mentions: { parse: [] };
  embeds: DiscordEmbed[];
}

/** Secret fields of the `discord` type: the webhook URL (its token is the credential). */
const discordSecrets: readonly SecretField[] = [{ path: 'webhook_url', shape: 'url' }];

/** Create the publisher of a `discord` target. */
export function createDiscordPublisher(target: DiscordTarget, deps: PublisherDeps): Publisher {
  const render = compileMessage(target.template, (part, err) =>
    deps.logger.warn(`Discord template.${part} failed; the default is sent`, { target: target.name, error: String(err) }),
  );
  const build = (msg: TargetMessage, ctx: RequestContext): HttpRequest => {
    const body: DiscordMessage = {
      ...(target.username ? { username: target.username } : {}),
      ...(target.avatar_url ? { avatar_url: target.avatar_url } : {}),
      allowed_mentions: { parse: [] },
      embeds: [discordEmbed(msg.message, withFallbackTitle(render, ctx.fallbackFor))],
    };
    return { url: target.webhook_url, body };
  };
  return {
    type: 'discord',
    name: target.name,
    publish: (msg, ctx) => deliverWith(deps, build(msg, ctx), ctx.signal, classifyDiscord),
    request: (msg, ctx) => ({ requests: [outgoing(deps, build(msg, ctx))] }),
  };
}

/**
 * 204 (200 with `?wait=true`) is success; 429 is retried after the body's
 * `retry_after` (seconds, fractional) or else the `Retry-After` header; 5xx
 * are retried; 400/401/403/404 are permanent, with Discord's message
 * (https://docs.discord.com/developers/topics/rate-limits).
 */
export function classifyDiscord(res: HttpResponse): Outcome {
  const outcome = classifyResponse(res, { details: (_status, text) => errorDetails(text) });
  if (outcome.ok || res.status !== 429) return outcome;
  const retryAfter = parseBody(res.body)?.retry_after;
  return typeof retryAfter === 'number' && Number.isFinite(retryAfter) && retryAfter >= 0
    ? { ...outcome, retryAfterMs: Math.ceil(retryAfter * 1000) }
    : outcome;
}

/**
 * Discord errors are `{"code":50035,"message":"Invalid Form Body","errors":{...}}`
 * (the first nested error is named by its path); Cloudflare's are HTML or text.
 */
function errorDetails(text: string): string {
  const body = parseBody(text);
  if (typeof body?.message !== 'string') return text.trim();
  const code = typeof body.code === 'number' && body.code !== 0 ? ` (code ${body.code})` : '';
  const first = firstError(body.errors, []);
  return `${body.message}${code}${first ? `: ${first}` : ''}`;
}

/** `embeds.0.description: Must be 4096 or fewer in length.` from Discord's nested `errors`. */
function firstError(errors: unknown, path: string[]): string | undefined {
  if (!errors || typeof errors !== 'object') return undefined;
  for (const [key, value] of Object.entries(errors)) {
    if (key === '_errors' && Array.isArray(value)) {
      const message = (value[0] as { message?: unknown } | undefined)?.message;
      if (typeof message === 'string') return `${path.join('.')}: ${message}`;
    }
    const nested = firstError(value, [...path, key]);
    if (nested) return nested;
  }
  return undefined;
}

function parseBody(text: string): { message?: unknown; code?: unknown; errors?: unknown; retry_after?: unknown } | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The `discord` target type. */
export const discord: TargetDescriptor<DiscordTarget> = {
  type: 'discord',
  schema: discordSchema,
  secrets: discordSecrets,
  compileTemplates: checkMessageTemplates,
  create: createDiscordPublisher,
};
