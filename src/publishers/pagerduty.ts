import { deliver, outgoing, type HttpRequest } from './http.js';
import { encodeEvent, SEVERITIES, toEvents, type EventOptions, type PagerDutyImage, type PagerDutySeverity } from './pagerduty-event.js';
import { secretString, targetSchema, type BaseTarget } from '../config/target.js';
import { checkTemplates, compileTemplate, tolerant, type TemplateView } from './templates.js';
import type { TargetDescriptor } from './descriptor.js';
import type { Outcome, Publisher, PublisherDeps, RequestContext } from './publisher.js';
import type { WebhookMessage } from '../alerts/types.js';
import type { SecretField } from './redaction.js';

/** Events API v2 endpoint. https://developer.pagerduty.com/docs/events-api-v2/overview/ */
export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

/**
 * Every Events API v2 routing key (integration or ruleset key) has 32 characters; PagerDuty answers any other
 * with 400 "Length of 'routing_key' is incorrect (should be 32 characters)", so config load rejects it first.
 * https://developer.pagerduty.com/docs/events-api-v2/trigger-events/
 */
const PAGERDUTY_ROUTING_KEY_LENGTH = 32;

/** A PagerDuty service, fed through an Events API v2 integration. */
export interface PagerDutyTarget extends BaseTarget {
  type: 'pagerduty';
  routing_key: string;
  url: string;
  /** `per_group`: one incident per group, keyed by sha256(groupKey); `per_alert`: one per alert, keyed by its fingerprint. */
  dedup: 'per_group' | 'per_alert';
  severity_label: string;
  default_severity: PagerDutySeverity;
  source_label: string;
  component_label: string;
  group_label: string;
  class_label: string;
  client: string;
  client_url?: string;
  /** Handlebars template of `payload.summary`. */
  summary?: string;
  /** Images on the PagerDuty alert; each field a Handlebars template. */
  images: PagerDutyImageConfig[];
}

/** One configured image: templates of its `src` (HTTPS), `href` and `alt`. */
export interface PagerDutyImageConfig {
  src: string;
  href?: string;
  alt?: string;
}

/** PagerDuty shows only images served over HTTPS. */
const HTTPS = /^https:\/\//i;

/** Whether an image `src` is one PagerDuty shows (an `https://` URL). Also checked at config load, for a fixed `src`. */
const isHttpsImage = (src: string): boolean => HTTPS.test(src.trim());

const label = (dflt: string, what: string) => ({ type: 'string', minLength: 1, default: dflt, description: what });

/** Config schema of the `pagerduty` type. */
const pagerdutySchema = targetSchema(
  'pagerduty',
  'Triggers and resolves PagerDuty alerts through the Events API v2 (dedup_key per group, like Alertmanager, or per alert).',
  {
    routing_key: { ...secretString, description: 'Integration key (32 characters) of an "Events API v2" integration on a service, or a ruleset key.' },
    url: { type: 'string', pattern: '^https?://', default: PAGERDUTY_EVENTS_URL, description: 'Events API v2 enqueue URL (EU: https://events.eu.pagerduty.com/v2/enqueue).' },
    dedup: {
      enum: ['per_group', 'per_alert'],
      default: 'per_group',
      description: '`per_group`: one PagerDuty alert per group, dedup_key = sha256(groupKey) as Alertmanager; `per_alert`: one event per alert, dedup_key = its fingerprint.',
    },
    severity_label: label('severity', 'Label whose value becomes payload.severity (critical, error, warning, info; also warn, informational, none).'),
    default_severity: {
      enum: [...SEVERITIES],
      default: 'error',
      description: "Severity when the label is missing or not one PagerDuty knows (Alertmanager's default is `error`).",
    },
    source_label: label('instance', 'Label whose value becomes payload.source (falls back to `client`).'),
    component_label: label('service', 'Label whose value becomes payload.component (left out when absent).'),
    group_label: label('job', 'Label whose value becomes payload.group (left out when absent).'),
    class_label: label('alertname', 'Label whose value becomes payload.class (left out when absent).'),
    client: { type: 'string', minLength: 1, default: 'alertmux', description: 'Name of the monitoring client shown in PagerDuty.' },
    client_url: { type: 'string', pattern: '^https?://', description: "Link behind `client` (default: the group's externalURL, Alertmanager's UI)." },
    summary: {
      type: 'string',
      minLength: 1,
      description:
        'Handlebars template of payload.summary, the title of the PagerDuty alert (the view chat templates get); cut to 1024 characters. Default: `[FIRING:<n>] <name> (<severity>)` and the common summary annotation; a blank rendering falls back to it.',
    },
    images: {
      type: 'array',
      default: [],
      description:
        'Images shown on the PagerDuty alert (graphs, dashboards): a list of `{src, href, alt}`, each field a Handlebars template. `src` is required and must be an https:// URL; an image whose src renders empty is left out.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['src'],
        properties: {
          src: { type: 'string', minLength: 1, description: 'Image URL; PagerDuty shows only `https://` images (others are left out, with a warning).' },
          href: { type: 'string', description: 'Link opened when the image is clicked.' },
          alt: { type: 'string', description: 'Alternative text.' },
        },
      },
    },
  },
  ['routing_key'],
);

/** Secret fields of the `pagerduty` type: the routing key. */
const pagerdutySecrets: readonly SecretField[] = [{ path: 'routing_key', shape: 'value' }];

/** Create the publisher of a `pagerduty` target. */
export function createPagerDutyPublisher(target: PagerDutyTarget, deps: PublisherDeps): Publisher {
  const opts: EventOptions = {
    dedup: target.dedup,
    severityLabel: target.severity_label,
    defaultSeverity: target.default_severity,
    sourceLabel: target.source_label,
    componentLabel: target.component_label,
    groupLabel: target.group_label,
    classLabel: target.class_label,
    client: target.client,
    ...(target.client_url ? { clientUrl: target.client_url } : {}),
    ...(target.summary ? { summary: compileFallible(target.summary, target, deps, 'summary template') } : {}),
    ...(target.images.length ? { images: compileImages(target, deps) } : {}),
  };
  // 5xx and 429 are retried (`classifyResponse`, as Alertmanager's Events v2 `RetryCodes`); every other 4xx
  // means the event itself is wrong. https://developer.pagerduty.com/docs/events-api-v2/overview/#response-codes--retry-logic
  const policy = { details: errorDetails };
  /** The events of one delivery, each as its request (per_group: one; per_alert: one per alert). */
  const build = (message: WebhookMessage, ctx: RequestContext) =>
    toEvents(message, ctx.fallbackFor === undefined ? opts : { ...opts, fallbackFor: ctx.fallbackFor }).map((event) => {
      const { body, truncated } = encodeEvent({ routing_key: target.routing_key, ...event });
      return { request: { url: target.url, body } satisfies HttpRequest, truncated, dedupKey: event.dedup_key };
    });
  return {
    type: 'pagerduty',
    name: target.name,
    async publish({ message }, ctx) {
      let outcome: Outcome = { ok: true };
      // per_alert sends one event after the other and stops at the first failure;
      // a retry sends them all again, which PagerDuty deduplicates by dedup_key.
      for (const { request, truncated, dedupKey } of build(message, ctx)) {
        if (truncated) deps.logger.warn('PagerDuty event over 512kB: custom_details removed', { groupKey: message.groupKey, dedupKey });
        outcome = await deliver(deps, request, ctx.signal, policy);
        if (!outcome.ok) return outcome;
      }
      return outcome;
    },
    request: ({ message }, ctx) => ({ requests: build(message, ctx).map(({ request }) => outgoing(deps, request)) }),
  };
}

/**
 * The configured images rendered for one event: an empty `src` leaves its image out (a template can make it
 * conditional, as Alertmanager's `images` do), and so does one that is not HTTPS, which PagerDuty would not show.
 */
function compileImages(target: PagerDutyTarget, deps: PublisherDeps): (view: TemplateView) => PagerDutyImage[] {
  const compile = (source: string | undefined, what: string) => (source === undefined ? undefined : compileFallible(source, target, deps, what));
  const images = target.images.map((image, i) => ({
    src: compileFallible(image.src, target, deps, `images[${i}].src template`),
    href: compile(image.href, `images[${i}].href template`),
    alt: compile(image.alt, `images[${i}].alt template`),
  }));
  return (view) => {
    const rendered: PagerDutyImage[] = [];
    for (const image of images) {
      const src = image.src(view)?.trim();
      if (!src) continue;
      if (!isHttpsImage(src)) {
        deps.logger.warn('PagerDuty image left out: its src is not an https:// URL', { target: target.name, groupKey: view.groupKey });
        continue;
      }
      const href = image.href?.(view)?.trim();
      const alt = image.alt?.(view)?.trim();
      rendered.push({ src, ...(href ? { href } : {}), ...(alt ? { alt } : {}) });
    }
    return rendered;
  };
}

/**
 * A template that throws while rendering (a helper given what it cannot take) renders nothing, with a warning: the
 * summary then falls back to the default and the image is left out. The page is sent either way.
 */
function compileFallible(source: string, target: PagerDutyTarget, deps: PublisherDeps, what: string): (view: TemplateView) => string | undefined {
  return tolerant(compileTemplate(source), (err) => deps.logger.warn(`PagerDuty ${what} failed; left out`, { target: target.name, error: String(err) }));
}

/** `Event object is invalid: Length of 'routing_key' is incorrect`, from `{message, errors[]}` (parsed defensively). */
export function errorDetails(_status: number, body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { message?: unknown; errors?: unknown };
    const errors = Array.isArray(parsed.errors) ? parsed.errors.filter((e): e is string => typeof e === 'string') : [];
    const message = typeof parsed.message === 'string' ? parsed.message : '';
    const text = [message, errors.join('; ')].filter(Boolean).join(': ');
    if (text) return text;
  } catch {
    // not JSON: PagerDuty's 429 body is undocumented text
  }
  return body.trim() || undefined;
}

/** Its images, as far as the config has a list of them (the config hooks may see a target the schema rejected). */
const imagesOf = (target: PagerDutyTarget): Array<PagerDutyImageConfig | undefined> => (Array.isArray(target.images) ? target.images : []);

/** The `pagerduty` target type. */
export const pagerduty: TargetDescriptor<PagerDutyTarget> = {
  type: 'pagerduty',
  schema: pagerdutySchema,
  secrets: pagerdutySecrets,
  compileTemplates(target, report) {
    const images = imagesOf(target).flatMap((image, j) => (['src', 'href', 'alt'] as const).map((field) => [`images/${j}/${field}`, image?.[field]] as const));
    checkTemplates([['summary', target.summary], ...images], report);
  },
  check(target, report) {
    // Checked on the resolved value (secret references are resolved first); the message gives the length, never the key.
    if (typeof target.routing_key === 'string') {
      const length = [...target.routing_key].length;
      if (length !== PAGERDUTY_ROUTING_KEY_LENGTH) {
        report('routing_key', `must be ${PAGERDUTY_ROUTING_KEY_LENGTH} characters (an Events API v2 integration key), not ${length}`);
      }
    }
    imagesOf(target).forEach((image, j) => {
      // A template may render an https:// URL; a fixed src must be one (PagerDuty shows no other images).
      if (typeof image?.src === 'string' && !image.src.includes('{{') && !isHttpsImage(image.src)) report(`images/${j}/src`, 'must be an https:// URL');
    });
  },
  create: createPagerDutyPublisher,
};
