import { ActiveAlerts, toPostableAlert, type PostableAlert } from './alertmanager-alerts.js';
import { annotateFallback } from './fallback-mark.js';
import { deliver, outgoing, type HttpRequest, type RetryPolicy } from './http.js';
import { authHeaders, httpAuthProperties, httpAuthSecrets, type HttpAuth } from './http-auth.js';
import { duration, targetSchema, type BaseTarget } from '../config/target.js';
import type { TargetDescriptor } from './descriptor.js';
import type { Outcome, Publisher, PublisherDeps, RequestContext } from './publisher.js';
import type { TargetMessage } from '../alerts/types.js';
import type { SecretField } from './redaction.js';

/** Most alerts per request, as Prometheus' notifier batches them (`maxBatchSize`). */
export const MAX_BATCH = 256;
/** Shortest re-post interval accepted: a smaller one would only load the other Alertmanager. */
export const MIN_REPOST_INTERVAL_MS = 1000;
/** Timeout of one re-post request when the target sets none. */
const REPOST_TIMEOUT_MS = 10_000;

/** Another Alertmanager, fed through its API v2 as Prometheus feeds it. */
export interface AlertmanagerTarget extends BaseTarget, HttpAuth {
  type: 'alertmanager';
  /** Base URL, with the route prefix if it has one: `/api/v2/alerts` is appended. */
  url: string;
  extra_labels: Record<string, string>;
  /** Milliseconds between re-posts of the firing alerts. */
  repost_interval: number;
  /** Milliseconds a firing alert is re-posted after alertmux last heard of it. */
  active_ttl: number;
}

/** Config schema of the `alertmanager` type. */
const alertmanagerSchema = targetSchema(
  'alertmanager',
  "Forwards alerts to another Alertmanager's API v2 (POST /api/v2/alerts) and re-posts the firing ones until they resolve.",
  {
    url: {
      type: 'string',
      pattern: '^https?://',
      description: 'Base URL of the other Alertmanager, e.g. http://alertmanager:9093 (with its --web.route-prefix if set).',
      examples: ['http://alertmanager:9093'],
    },
    ...httpAuthProperties,
    extra_labels: {
      type: 'object',
      propertyNames: { pattern: '^[a-zA-Z_][a-zA-Z0-9_]*$' },
      additionalProperties: { type: 'string', minLength: 1 },
      default: {},
      description: 'Labels added to every forwarded alert (they win over its own), e.g. `relayed_by: alertmux` to break loops.',
    },
    repost_interval: duration('How often firing alerts are re-posted so the other Alertmanager does not resolve them (keep it below its resolve_timeout; at least 1s).', '1m'),
    active_ttl: duration('How long a firing alert is re-posted after alertmux last heard of it (keep it above Alertmanager\'s repeat_interval).', '24h'),
    send_resolved: {
      type: 'boolean',
      const: true,
      default: true,
      description: 'Must stay true: the resolved notification is what stops the re-posting.',
    },
  },
  ['url'],
);

/** Secret fields of the `alertmanager` type: its outbound auth. */
const alertmanagerSecrets: readonly SecretField[] = httpAuthSecrets;

/** API v2: 200 ok, 400/422 permanent, 5xx and network errors retryable (re-posting is idempotent). */
const POLICY: RetryPolicy = { details: (_status, body) => alertmanagerError(body) };

/**
 * Create the publisher of an `alertmanager` target. It holds one unref'd interval
 * timer that re-posts the firing alerts until they resolve; `close()` stops it.
 */
export function createAlertmanagerPublisher(target: AlertmanagerTarget, deps: PublisherDeps): Publisher {
  const url = `${target.url.replace(/\/+$/, '')}/api/v2/alerts`;
  const headers = authHeaders(target);
  const active = new ActiveAlerts(deps.state, deps.now, target.active_ttl);
  const closing = new AbortController();

  /** The requests of a post: one per batch of MAX_BATCH alerts. */
  const batches = (alerts: PostableAlert[]): HttpRequest[] => {
    const requests: HttpRequest[] = [];
    for (let i = 0; i < alerts.length; i += MAX_BATCH) requests.push({ url, headers, body: alerts.slice(i, i + MAX_BATCH) });
    return requests;
  };
  const post = async (alerts: PostableAlert[], signal: AbortSignal): Promise<Outcome> => {
    let outcome: Outcome = { ok: true };
    for (const request of batches(alerts)) {
      outcome = await deliver(deps, request, signal, POLICY);
      if (!outcome.ok) break;
    }
    return outcome;
  };
  /** The alerts of one delivery as posted: a fallback's carry an annotation naming the target they were meant for. */
  const postable = (msg: TargetMessage, ctx: RequestContext) =>
    annotateFallback(msg.message, ctx.fallbackFor).alerts.map((a) => [a.fingerprint, toPostableAlert(a, target.extra_labels, deps.now()), a.labels] as const);

  /**
   * Resolve what was posted under labels the current `extra_labels` no longer give (a reload changed them), and
   * post those alerts under the new labels: otherwise the old label set stays active on the other side until its
   * `resolve_timeout`, next to the new one. Runs before every post and re-post, so the first one after a reload
   * (or a restart with a changed config) does it; a failure leaves the state as it was, for the next try.
   */
  const relabel = async (signal: AbortSignal): Promise<Outcome> => {
    // A closed publisher is one a reload replaced: its labels are the old ones, and must not be put back.
    if (closing.signal.aborted) return { ok: true };
    const changed = await active.relabeled(target.extra_labels);
    if (changed.length === 0) return { ok: true };
    const resolved = changed.map(({ old }) => ({ ...old, endsAt: endOf(old, deps.now()) }));
    const outcome = await post([...resolved, ...changed.map(({ next }) => next)], signal);
    if (outcome.ok) {
      await active.relabel(changed);
      deps.logger.info('extra_labels changed: resolved the alerts posted under the old labels, re-posted them under the new', { alerts: changed.length });
    } else {
      deps.logger.warn('resolving alerts posted under old extra_labels failed; trying again with the next post', { alerts: changed.length, reason: outcome.reason, error: outcome.message });
    }
    return outcome;
  };

  let reposting: Promise<void> | undefined;
  const repost = async () => {
    const signal = AbortSignal.any([closing.signal, AbortSignal.timeout(target.timeout ?? REPOST_TIMEOUT_MS)]);
    await relabel(signal);
    const alerts = await active.list();
    if (alerts.length === 0) return;
    const outcome = await post(alerts, signal);
    if (!outcome.ok) deps.logger.warn('re-post of firing alerts failed', { alerts: alerts.length, reason: outcome.reason, error: outcome.message });
  };
  const timer = setInterval(() => {
    reposting ??= repost()
      .catch((err: unknown) => void deps.logger.warn('re-post of firing alerts failed', { error: String(err) }))
      .finally(() => (reposting = undefined));
  }, Math.max(target.repost_interval, MIN_REPOST_INTERVAL_MS));
  timer.unref(); // re-posting never keeps the process alive

  return {
    type: 'alertmanager',
    name: target.name,
    async publish(msg, ctx) {
      // Before anything else: a resolved alert of this group must also end what was posted under its old labels.
      const relabeled = await relabel(ctx.signal);
      if (!relabeled.ok && relabeled.retryable) return relabeled;
      const alerts = postable(msg, ctx);
      const resolved = msg.message.alerts.filter((a) => a.status === 'resolved').map((a) => a.fingerprint);
      if (resolved.length > 0) {
        // A resolved alert is never re-posted again, and an in-flight re-post must not land after its resolve.
        await active.remove(resolved);
        await reposting;
      }
      const outcome = await post(alerts.map(([, p]) => p), ctx.signal);
      // Only what the other side has is kept alive; a failed post is retried by the ledger.
      if (outcome.ok) await active.add(alerts.filter(([, p]) => p.endsAt === undefined));
      return outcome;
    },
    request: (msg, ctx) => ({
      requests: batches(postable(msg, ctx).map(([, p]) => p)).map((request) => outgoing(deps, request)),
      note: 'the post of this delivery; the firing alerts are also re-posted every repost_interval until they resolve, and a change of extra_labels first resolves what was posted under the old ones',
    }),
    async close() {
      clearInterval(timer);
      closing.abort();
      await reposting;
    },
  };
}

/** `endsAt` that resolves a posted alert now; never before its `startsAt`, which Alertmanager would reject. */
function endOf(alert: PostableAlert, now: number): string {
  return Date.parse(alert.startsAt) > now ? alert.startsAt : new Date(now).toISOString();
}

/** Alertmanager answers errors as a JSON string or `{code, message}`. */
function alertmanagerError(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as unknown;
    if (typeof parsed === 'string') return parsed;
    const message = (parsed as { message?: unknown } | null)?.message;
    if (typeof message === 'string') return message;
  } catch {
    // not JSON
  }
  return body.trim() || undefined;
}

/** The `alertmanager` target type. */
export const alertmanager: TargetDescriptor<AlertmanagerTarget> = {
  type: 'alertmanager',
  schema: alertmanagerSchema,
  secrets: alertmanagerSecrets,
  create: createAlertmanagerPublisher,
};
