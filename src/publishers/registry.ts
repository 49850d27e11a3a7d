import { createFilePublisher, fileSchema, type FileTarget } from './file.js';
import { createLogPublisher, logSchema, type LogTarget } from './log.js';
import { createWebhookPublisher, webhookSchema, type WebhookTarget } from './webhook.js';
import { createTeamsPublisher, teamsSchema, type TeamsTarget } from './teams.js';
import { createDiscordPublisher, discordSchema, type DiscordTarget } from './discord.js';
import { createRootlyPublisher, rootlySchema, type RootlyTarget } from './rootly.js';
import { alertmanagerSchema, createAlertmanagerPublisher, type AlertmanagerTarget } from './alertmanager.js';
import { createPagerDutyPublisher, pagerdutySchema, type PagerDutyTarget } from './pagerduty.js';
import { createSlackPublisher, slackSchema, type SlackTarget } from './slack.js';
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

/** Build the publisher of one target. */
export function createPublisher(target: TargetConfig, deps: PublisherDeps): Publisher {
  const create = factories[target.type] as (t: TargetConfig, d: PublisherDeps) => Publisher;
  return create(target, deps);
}
