import { createFilePublisher, fileSchema, type FileTarget } from './file.js';
import { truncate } from './http.js';
import { createLogPublisher, logSchema, type LogTarget } from './log.js';
import { createWebhookPublisher, webhookSchema, webhookSecrets, type WebhookTarget } from './webhook.js';
import { createTeamsPublisher, teamsSchema, teamsSecrets, type TeamsTarget } from './teams.js';
import { createDiscordPublisher, discordSchema, discordSecrets, type DiscordTarget } from './discord.js';
import { createRootlyPublisher, rootlySchema, rootlySecrets, type RootlyTarget } from './rootly.js';
import { alertmanagerSchema, alertmanagerSecrets, createAlertmanagerPublisher, type AlertmanagerTarget } from './alertmanager.js';
import { createPagerDutyPublisher, pagerdutySchema, pagerdutySecrets, type PagerDutyTarget } from './pagerduty.js';
import { createRedactor, formsOf, redactFields, redactorOf, type Redactor, type SecretField } from './redaction.js';
import { createSlackPublisher, slackSchema, slackSecrets, type SlackTarget } from './slack.js';
import type { Publisher, PublisherDeps } from './publisher.js';

/** Every target type the config may name. Add a type here and the maps below must follow. */
export type TargetConfig = WebhookTarget | FileTarget | LogTarget | TeamsTarget | DiscordTarget | RootlyTarget | AlertmanagerTarget | PagerDutyTarget | SlackTarget;
export type TargetType = TargetConfig['type'];

type Factories = {
  [K in TargetType]: (target: Extract<TargetConfig, { type: K }>, deps: PublisherDeps) => Publisher;
};
const factories: Factories = {
  webhook: createWebhookPublisher,
  file: createFilePublisher,
  log: createLogPublisher,
  rootly: createRootlyPublisher,
  alertmanager: createAlertmanagerPublisher,
  teams: createTeamsPublisher,
  discord: createDiscordPublisher,
  pagerduty: createPagerDutyPublisher,
  slack: createSlackPublisher,
};

/** Config schema of each target type, in the order the docs list them. */
export const targetSchemas: { [K in TargetType]: object } = {
  webhook: webhookSchema,
  file: fileSchema,
  log: logSchema,
  rootly: rootlySchema,
  alertmanager: alertmanagerSchema,
  teams: teamsSchema,
  discord: discordSchema,
  pagerduty: pagerdutySchema,
  slack: slackSchema,
};

/** Secret fields of each target type: what `redactTarget`, `targetRedactor` and every publisher's errors hide. */
export const targetSecretFields: { [K in TargetType]: readonly SecretField[] } = {
  webhook: webhookSecrets,
  file: [],
  log: [],
  rootly: rootlySecrets,
  alertmanager: alertmanagerSecrets,
  teams: teamsSecrets,
  discord: discordSecrets,
  pagerduty: pagerdutySecrets,
  slack: slackSecrets,
};

/** Most characters of a failure message a publisher returns (cut after redaction, so no secret leaks its start). */
export const MAX_ERROR_MESSAGE = 1024;

/**
 * Build the publisher of one target. Its answers are redacted of the target's secrets where they are read
 * (`deps.redact`, used by `send`), and every failure message it returns is redacted again, then cut: whatever a
 * publisher puts in a message, nothing downstream (result, API, CLI, logs, ledger) can carry a secret.
 */
export function createPublisher(target: TargetConfig, deps: PublisherDeps): Publisher {
  const create = factories[target.type] as (t: TargetConfig, d: PublisherDeps) => Publisher;
  const redact = targetRedactor(target);
  const inner = create(target, { ...deps, redact });
  return {
    ...inner,
    async publish(msg, ctx) {
      const outcome = await inner.publish(msg, ctx);
      return outcome.ok ? outcome : { ...outcome, message: truncate(redact(outcome.message), MAX_ERROR_MESSAGE) };
    },
  };
}

/** The forms of every secret of a target, from its kind's declared secret fields. */
export function targetSecretForms(target: TargetConfig): string[] {
  return formsOf(target, targetSecretFields[target.type] ?? []);
}

/** A redactor of one target's secrets. */
export function targetRedactor(target: TargetConfig): Redactor {
  return redactorOf(target, targetSecretFields[target.type] ?? []);
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
  return redactFields(target, targetSecretFields[target.type] ?? [], targetRedactor(target));
}
