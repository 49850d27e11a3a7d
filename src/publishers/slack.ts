import { groupKeyHash } from '../alerts/fingerprint.js';
import { withFallbackTitle } from './fallback-mark.js';
import { classifyError, classifyResponse, header, outgoing, parseRetryAfter, send, type HttpRequest, type HttpResponse } from './http.js';
import { buildSlackMessage, type SlackMessage } from './slack-blocks.js';
import { secretString, targetSchema, type BaseTarget } from '../config/target.js';
import { checkMessageTemplates, compileMessage, templateSchema, type MessageTemplateConfig } from './templates.js';
import type { TargetDescriptor } from './descriptor.js';
import type { FailureReason, Outcome, Publisher, PublisherDeps } from './publisher.js';
import type { SecretField } from './redaction.js';

/** Web API base URL. https://docs.slack.dev/apis/web-api */
export const SLACK_API_URL = 'https://slack.com/api';
/** How long the posted message of a group is remembered for `chat.update` (it expires with the alert). */
export const MESSAGE_TTL_MS = 7 * 24 * 3600 * 1000;

/**
 * `ok:false` errors worth retrying; every other error is permanent.
 * https://docs.slack.dev/reference/methods/chat.postMessage#errors
 * `fatal_error` may have half succeeded: a retry can post twice.
 */
const RETRYABLE: Record<string, FailureReason> = {
  ratelimited: 'rateLimited',
  rate_limited: 'rateLimited',
  message_limit_exceeded: 'rateLimited',
  internal_error: 'serverError',
  service_unavailable: 'serverError',
  request_timeout: 'serverError',
  fatal_error: 'serverError',
  rollup_error: 'serverError',
};
/** Errors meaning the token or the webhook is bad or revoked (Web API and incoming-webhook strings). */
const AUTH_ERRORS = new Set([
  'not_authed', 'invalid_auth', 'account_inactive', 'token_revoked', 'token_expired', 'missing_scope', 'not_allowed_token_type',
  'no_permission', 'ekm_access_denied', 'invalid_token', 'no_service', 'no_service_id', 'no_team', 'team_disabled', 'no_active_hooks', 'action_prohibited',
]);
/** `chat.update` errors after which a new message is posted instead. */
const MESSAGE_GONE = new Set(['message_not_found', 'cant_update_message', 'edit_window_closed']);

/** A Slack channel, through an incoming webhook or the Web API with a bot token. */
export interface SlackTarget extends BaseTarget {
  type: 'slack';
  webhook_url?: string;
  token?: string;
  channel?: string;
  api_url: string;
  thread_replies: boolean;
  template?: MessageTemplateConfig;
  /** Author name and icon shown on the message (Web API: needs `chat:write.customize`; legacy webhooks only). */
  username?: string;
  icon_emoji?: string;
  icon_url?: string;
}

/** Config schema of the `slack` type: exactly one of `webhook_url` or `token` + `channel`. */
const slackSchema = {
  ...targetSchema(
    'slack',
    'Posts alert groups to Slack: an incoming webhook, or the Web API (bot token) which updates the message on resolve.',
    {
      webhook_url: { ...secretString, pattern: '^https?://', description: 'Incoming-webhook URL (a secret). Set this, or `token` and `channel`.' },
      token: { ...secretString, description: 'Bot token (`xoxb-...`) with the `chat:write` scope, for the Web API.' },
      channel: { type: 'string', minLength: 1, description: 'Channel ID (`C0123ABC`) or name the bot posts to (invite the bot first).' },
      api_url: { type: 'string', pattern: '^https?://', default: SLACK_API_URL, description: 'Web API base URL (GovSlack: https://slack-gov.com/api).' },
      thread_replies: { type: 'boolean', default: false, description: 'Web API: also post each later notification of a group (resolved, more alerts) as a thread reply.' },
      template: templateSchema,
      username: {
        type: 'string',
        minLength: 1,
        description: 'Author name shown on the message. Web API: needs the `chat:write.customize` scope (Slack ignores it without); incoming webhooks of Slack apps ignore it.',
      },
      icon_emoji: { type: 'string', pattern: '^:[^:\\s]+:$', description: 'Emoji shown as the author icon, e.g. `:rotating_light:` (over `icon_url`, as in Slack). Same conditions as `username`.' },
      icon_url: { type: 'string', pattern: '^https?://', description: 'Image URL shown as the author icon. Same conditions as `username`.' },
    },
    [],
  ),
  dependencies: { token: ['channel'], channel: ['token'] },
  oneOf: [{ required: ['webhook_url'] }, { required: ['token'] }],
  // Both set passes both branches; the loader drops oneOf errors, so this says it.
  not: {
    description: 'set webhook_url (incoming webhook) or token and channel (Web API), not both',
    properties: { webhook_url: true, token: true },
    required: ['webhook_url', 'token'],
  },
};

interface SlackRef {
  channel: string;
  ts: string;
}
type ApiResult = { outcome: Outcome; error?: string; data?: { channel?: unknown; ts?: unknown } };

/** Secret fields of the `slack` type: the incoming-webhook URL and the bot token. */
const slackSecrets: readonly SecretField[] = [
  { path: 'webhook_url', shape: 'url' },
  { path: 'token', shape: 'bearer' },
];

/** Create the publisher of a `slack` target. Throws on a template syntax error (at config load). */
export function createSlackPublisher(target: SlackTarget, deps: PublisherDeps): Publisher {
  const render = compileMessage(target.template, (part, err) =>
    deps.logger.warn(`Slack template.${part} failed; the default is sent`, { target: target.name, error: String(err) }),
  );
  type SlackGroup = Parameters<typeof render>[0];
  const build = (msg: SlackGroup, fallbackFor?: string): SlackMessage => {
    const rendered = withFallbackTitle(render, fallbackFor)(msg);
    return buildSlackMessage(msg, rendered, rendered.customText === true);
  };
  // The author overrides go with each new message; chat.update takes none (an updated message keeps its author).
  const author = {
    ...(target.username ? { username: target.username } : {}),
    ...(target.icon_emoji ? { icon_emoji: target.icon_emoji } : {}),
    ...(target.icon_url ? { icon_url: target.icon_url } : {}),
  };

  /** One Web API request. */
  const apiRequest = (method: string, body: object): HttpRequest => ({
    url: `${target.api_url.replace(/\/+$/, '')}/${method}`,
    headers: { authorization: `Bearer ${target.token}`, 'content-type': 'application/json; charset=utf-8' },
    body,
  });
  /** What every message of a group carries; a new one (not an update) adds the author. */
  const content = (msg: SlackGroup, fallbackFor?: string) => ({ ...build(msg, fallbackFor), unfurl_links: false, unfurl_media: false });
  /** The first message of a group through the Web API. */
  const firstPost = (msg: SlackGroup, fallbackFor?: string) => apiRequest('chat.postMessage', { ...content(msg, fallbackFor), ...author, channel: target.channel });
  /** The one request of an incoming webhook. */
  const webhookRequest = (msg: SlackGroup, fallbackFor?: string): HttpRequest => ({ url: target.webhook_url!, body: { ...content(msg, fallbackFor), ...author } });

  /** One Web API call: HTTP 200 with `ok:false` is a failure; 429 and `Retry-After` as any vendor. */
  async function call(method: string, body: object | HttpRequest, signal: AbortSignal): Promise<ApiResult> {
    let res: HttpResponse;
    try {
      res = await send(deps, 'url' in body ? body : apiRequest(method, body), signal);
    } catch (err) {
      return { outcome: classifyError(err) };
    }
    const json = parseJson(res.body);
    if (res.status < 200 || res.status >= 300) {
      return { outcome: classifyResponse(res, { details: () => errorOf(json) ?? res.body.trim() }) };
    }
    if (json?.ok !== true) {
      const error = errorOf(json) ?? 'invalid_response';
      return { outcome: slackFailure(`${method}: ${error}`, error, res), error };
    }
    const warnings = [json['warning'], ...(((json['response_metadata'] as { warnings?: unknown[] }) ?? {}).warnings ?? [])].filter(Boolean);
    if (warnings.length) deps.logger.warn('Slack accepted the message with warnings', { method, warnings: warnings.map(String) });
    return { outcome: { ok: true, status: res.status }, data: json };
  }

  async function viaApi(msg: Parameters<typeof render>[0], signal: AbortSignal, fallbackFor?: string): Promise<Outcome> {
    // A fallback posts its own message (and updates only that one): the group's own message, if any, stays this target's.
    const key = `slack:${fallbackFor === undefined ? '' : 'fallback:'}${groupKeyHash(msg.groupKey)}`;
    const stored = await deps.state.get<SlackRef>(key);
    if (stored) {
      const updated = await call('chat.update', { ...content(msg, fallbackFor), channel: stored.channel, ts: stored.ts }, signal);
      if (updated.outcome.ok) {
        if (target.thread_replies) {
          const reply = await call('chat.postMessage', { ...content(msg, fallbackFor), ...author, channel: stored.channel, thread_ts: stored.ts }, signal);
          if (!reply.outcome.ok) return reply.outcome;
        }
        if (msg.status === 'resolved') await deps.state.delete(key);
        else await deps.state.set(key, stored, MESSAGE_TTL_MS);
        return updated.outcome;
      }
      if (!MESSAGE_GONE.has(updated.error ?? '')) return updated.outcome;
      await deps.state.delete(key);
    }
    const posted = await call('chat.postMessage', firstPost(msg, fallbackFor), signal);
    const { channel, ts } = posted.data ?? {};
    if (posted.outcome.ok && msg.status === 'firing' && typeof ts === 'string') {
      await deps.state.set(key, { channel: typeof channel === 'string' ? channel : target.channel, ts }, MESSAGE_TTL_MS);
    }
    return posted.outcome;
  }

  /** Incoming webhook: success is HTTP 200 with the plain-text body `ok`; errors are real statuses with a bare string. */
  async function viaWebhook(msg: Parameters<typeof render>[0], signal: AbortSignal, fallbackFor?: string): Promise<Outcome> {
    let res: HttpResponse;
    try {
      res = await send(deps, webhookRequest(msg, fallbackFor), signal);
    } catch (err) {
      return classifyError(err);
    }
    const json = (header(res.headers, 'content-type') ?? '').startsWith('application/json') ? parseJson(res.body) : undefined;
    const error = json ? (json.ok === true ? undefined : (errorOf(json) ?? 'invalid_response')) : res.body.trim() === 'ok' ? undefined : res.body.trim() || 'empty body';
    if (res.status < 200 || res.status >= 300) {
      const outcome = classifyResponse(res, { details: () => error });
      return !outcome.ok && error && AUTH_ERRORS.has(error) ? { ...outcome, reason: 'authError' } : outcome;
    }
    return error === undefined ? { ok: true, status: res.status } : slackFailure(`webhook answered ${res.status}: ${error}`, error, res);
  }

  return {
    type: 'slack',
    name: target.name,
    async publish({ message }, ctx) {
      return target.webhook_url ? viaWebhook(message, ctx.signal, ctx.fallbackFor) : viaApi(message, ctx.signal, ctx.fallbackFor);
    },
    request({ message }, ctx) {
      if (target.webhook_url) return { requests: [outgoing(deps, webhookRequest(message, ctx.fallbackFor))] };
      const note = `a first send (chat.postMessage); a later notification of the same group updates the posted message (chat.update${target.thread_replies ? ', then a thread reply' : ''}) instead`;
      return { requests: [outgoing(deps, firstPost(message, ctx.fallbackFor))], note };
    },
  };
}

/** An `ok:false` (or a 200 that is not `ok`) as an Outcome: retryable only for the transient errors. */
function slackFailure(message: string, error: string, res: HttpResponse): Outcome {
  const retryAfterMs = parseRetryAfter(header(res.headers, 'retry-after'));
  const reason = RETRYABLE[error] ?? (AUTH_ERRORS.has(error) ? 'authError' : 'clientError');
  return {
    ok: false,
    retryable: error in RETRYABLE,
    reason,
    status: res.status,
    message: message.slice(0, 300),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  };
}

function parseJson(body: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(body) as unknown;
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function errorOf(json: Record<string, unknown> | undefined): string | undefined {
  return typeof json?.['error'] === 'string' ? json['error'] : undefined;
}

/** The `slack` target type. */
export const slack: TargetDescriptor<SlackTarget> = {
  type: 'slack',
  schema: slackSchema,
  secrets: slackSecrets,
  compileTemplates: checkMessageTemplates,
  create: createSlackPublisher,
};
