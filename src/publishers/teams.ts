import { classifyResponse, deliverWith, outgoing, reasonFromStatus, truncate, type HttpRequest, type HttpResponse } from './http.js';
import { withFallbackTitle } from './fallback-mark.js';
import { secretString, targetSchema, type BaseTarget } from '../config/target.js';
import { teamsMessage } from './teams-card.js';
import { checkMessageTemplates, compileMessage, templateSchema, type MessageTemplateConfig } from './templates.js';
import type { TargetDescriptor } from './descriptor.js';
import type { Outcome, Publisher, PublisherDeps, RequestContext } from './publisher.js';
import type { TargetMessage } from '../alerts/types.js';
import type { SecretField } from './redaction.js';

/** A Microsoft Teams channel, through a Workflows (Power Automate) "post to a channel when a webhook request is received" URL. */
export interface TeamsTarget extends BaseTarget {
  type: 'teams';
  /** The workflow URL. Its `sig` query parameter is the credential, so the whole URL is a secret. */
  webhook_url: string;
  template?: MessageTemplateConfig;
}

/** Config schema of the `teams` type. */
const teamsSchema = targetSchema(
  'teams',
  'Posts an Adaptive Card to a Microsoft Teams channel through a Workflows webhook (a new card for firing and for resolved).',
  {
    webhook_url: {
      ...secretString,
      pattern: '^https?://',
      description: 'Workflows webhook URL (`https://...logic.azure.com/...` or `...environment.api.powerplatform.com/...`); the whole URL is the credential.',
    },
    template: templateSchema,
  },
  ['webhook_url'],
);

/**
 * Legacy Office 365 connectors answer HTTP 200 with body `1` on success, and
 * HTTP 200 with a text such as `Webhook message delivery failed with error:
 * Microsoft Teams endpoint returned HTTP error 429 with ContextId ...` when the
 * post failed (MicrosoftDocs/msteams-docs#1810, #4145, #7425: "by design").
 */
const LEGACY_ERROR = /HTTP error (\d{3})/i;

/** Secret fields of the `teams` type: the workflow URL (its `sig` is the credential). */
const teamsSecrets: readonly SecretField[] = [{ path: 'webhook_url', shape: 'url' }];

/** Create the publisher of a `teams` target. */
export function createTeamsPublisher(target: TeamsTarget, deps: PublisherDeps): Publisher {
  const render = compileMessage(target.template, (part, err) =>
    deps.logger.warn(`Teams template.${part} failed; the default is sent`, { target: target.name, error: String(err) }),
  );
  const build = (msg: TargetMessage, ctx: RequestContext): HttpRequest => ({
    url: target.webhook_url,
    body: teamsMessage(msg.message, withFallbackTitle(render, ctx.fallbackFor)),
  });
  return {
    type: 'teams',
    name: target.name,
    publish: (msg, ctx) => deliverWith(deps, build(msg, ctx), ctx.signal, classifyTeams),
    request: (msg, ctx) => ({ requests: [outgoing(deps, build(msg, ctx))] }),
  };
}

/**
 * Workflows answer 202 (accepted: the flow runs later, its run history is the
 * only proof of the post); any 2xx is success, 429 and 5xx are retried with
 * `Retry-After`, other 4xx are permanent. On top of that, a 200 whose body is
 * neither empty nor `1` and names an HTTP error is that error: retryable for
 * 429 and 5xx, permanent otherwise (413: the card was too large).
 */
export function classifyTeams(res: HttpResponse): Outcome {
  const body = res.body.trim();
  const legacy = res.status === 200 && body !== '' && body !== '1' ? LEGACY_ERROR.exec(body) : null;
  if (legacy) {
    const code = Number(legacy[1]);
    return {
      ok: false,
      retryable: code === 429 || code >= 500,
      reason: reasonFromStatus(code),
      status: res.status,
      message: `Teams answered 200 with an error: ${truncate(body, 300)}`,
    };
  }
  return classifyResponse(res, { details: (_status, text) => errorDetails(text) });
}

/** Workflows errors are `{"error":{"code":"...","message":"..."}}`; other bodies are shown as text. */
function errorDetails(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    const { code, message } = parsed.error ?? {};
    if (typeof message === 'string') return typeof code === 'string' ? `${code}: ${message}` : message;
  } catch {
    // not JSON
  }
  return text.trim();
}

/** The `teams` target type. */
export const teams: TargetDescriptor<TeamsTarget> = {
  type: 'teams',
  schema: teamsSchema,
  secrets: teamsSecrets,
  compileTemplates: checkMessageTemplates,
  create: createTeamsPublisher,
};
