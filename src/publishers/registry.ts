import { alertmanager } from './alertmanager.js';
import { discord } from './discord.js';
import { file } from './file.js';
import { truncate } from './http.js';
import { log } from './log.js';
import { pagerduty } from './pagerduty.js';
import { createRedactor, formsOf, REDACTED, redactFields, redactorOf, type Redactor, type SecretField } from './redaction.js';
import { rootly } from './rootly.js';
import { slack } from './slack.js';
import { teams } from './teams.js';
import { webhook } from './webhook.js';
import type { TargetConfig } from '../config/target.js';
import type { TargetDescriptor } from './descriptor.js';
import type { Publisher, PublisherDeps, RequestContext } from './publisher.js';
import type { TargetMessage } from '../alerts/types.js';

/**
 * Every target type the config may name, in the order the docs list them. Adding a type is one file
 * (`src/publishers/<kind>.ts` exporting its descriptor) and one entry here.
 */
export const targetKinds: readonly TargetDescriptor[] = [webhook, file, log, rootly, alertmanager, teams, discord, pagerduty, slack];

const byType = new Map(targetKinds.map((kind) => [kind.type, kind]));

/** The descriptor of a target's type; the config was validated against the same list, so it exists. */
function kindOf(target: TargetConfig): TargetDescriptor {
  const kind = byType.get(target.type);
  if (!kind) throw new Error(`unknown target type "${target.type}"`);
  return kind;
}

/** Config schema of each target type, by type name. */
export const targetSchemas: Readonly<Record<string, object>> = Object.fromEntries(targetKinds.map((k) => [k.type, k.schema]));

/** Secret fields of each target type, by type name: what `redactTarget`, `targetRedactor` and every publisher's errors hide. */
export const targetSecretFields: Readonly<Record<string, readonly SecretField[]>> = Object.fromEntries(targetKinds.map((k) => [k.type, k.secrets ?? []]));

/** Most characters of a failure message a publisher returns (cut after redaction, so no secret leaks its start). */
export const MAX_ERROR_MESSAGE = 1024;

/**
 * Build the publisher of one target. Its answers are redacted of the target's secrets where they are read
 * (`deps.redact`, used by `send`), and every failure message it returns is redacted again, then cut: whatever a
 * publisher puts in a message, nothing downstream (result, API, CLI, logs, ledger) can carry a secret.
 */
export function createPublisher(target: TargetConfig, deps: PublisherDeps): Publisher {
  const redact = targetRedactor(target);
  const inner = kindOf(target).create(target, { ...deps, redact });
  return {
    ...inner,
    async publish(msg, ctx) {
      const outcome = await inner.publish(msg, ctx);
      return outcome.ok ? outcome : { ...outcome, message: truncate(redact(outcome.message), MAX_ERROR_MESSAGE) };
    },
  };
}

const secretFieldsOf = (target: TargetConfig): readonly SecretField[] => byType.get(target.type)?.secrets ?? [];

/** The forms of every secret of a target, from its kind's declared secret fields. */
export function targetSecretForms(target: TargetConfig): string[] {
  return formsOf(target, secretFieldsOf(target));
}

/** A redactor of one target's secrets. */
export function targetRedactor(target: TargetConfig): Redactor {
  return redactorOf(target, secretFieldsOf(target));
}

/** Where a config keeps secrets besides its targets: every value a secret reference resolved to, and inbound auth. */
interface ConfigSecrets {
  targets: readonly TargetConfig[];
  secrets: readonly string[];
  auth?: { basic_auth?: { username: string; password: string } };
}

/** A redactor of every secret of a config: each target's, inbound basic auth, and every value a secret reference resolved to. */
export function configRedactor(config: ConfigSecrets): Redactor {
  const inbound = formsOf(config, [{ path: 'auth.basic_auth', shape: 'basic' }]);
  return createRedactor([...config.targets.flatMap((t) => targetSecretForms(t)), ...inbound, ...formsOf({}, [], config.secrets)]);
}

/** A copy of a target's config safe to print: secret fields become `<secret>`, other strings are redacted of them. */
export function redactTarget(target: TargetConfig): Record<string, unknown> {
  return redactFields(target, secretFieldsOf(target), targetRedactor(target));
}

/** One request as the API shows it: URL, headers and body redacted of the target's secrets. */
export interface RedactedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  /** The JSON body parsed (redaction keeps it JSON: `<secret>` needs no escaping), else the text. */
  body?: unknown;
}

/**
 * What a publisher would send for `msg`, built by the code `publish` uses and redacted of every form of the
 * target's secrets; undefined for a kind that sends no HTTP request (file, log).
 */
export function renderRequests(
  target: TargetConfig,
  publisher: Publisher,
  msg: TargetMessage,
  ctx: RequestContext,
): { requests: RedactedRequest[]; note?: string } | undefined {
  const plan = publisher.request?.(msg, ctx);
  if (!plan) return undefined;
  const redact = targetRedactor(target);
  const requests = plan.requests.map((req) => ({
    method: req.method,
    url: redactUrl(req.url, redact),
    headers: Object.fromEntries(Object.entries(req.headers).map(([name, value]) => [name, redact(value)])),
    ...(req.body === undefined ? {} : { body: parsed(redact(req.body)) }),
  }));
  return { requests, ...(plan.note ? { note: plan.note } : {}) };
}

/**
 * A URL with its secret parts redacted, segment by segment and query value by query value, keeping its origin
 * (never its user info): a Slack webhook shows `https://hooks.slack.com/services/T0/B0/<secret>`. What still
 * holds a secret form after that (a path that is the credential only as a whole) is redacted whole.
 */
function redactUrl(url: string, redact: Redactor): string {
  if (redact(url) === url) return url;
  try {
    const { origin, pathname, search } = new URL(url);
    const path = pathname.split('/').map(redact).join('/');
    const pairs = search.slice(1).split('&').map((pair) => {
      const eq = pair.indexOf('=');
      return eq < 0 ? redact(pair) : `${pair.slice(0, eq)}=${redact(pair.slice(eq + 1))}`;
    });
    return redact(`${origin}${path}${search ? `?${pairs.join('&')}` : ''}`);
  } catch {
    return REDACTED;
  }
}

function parsed(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
