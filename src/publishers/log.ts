import { targetSchema, type BaseTarget } from './target.js';
import type { Publisher, PublisherDeps } from './publisher.js';

/** Writes a one-line summary of each group to alertmux's own log. */
export interface LogTarget extends BaseTarget {
  type: 'log';
  level: 'debug' | 'info' | 'warn' | 'error';
}

/** Config schema of the `log` type. */
export const logSchema = targetSchema(
  'log',
  "Logs a one-line summary of each group (alert names, counts, group key) to alertmux's log.",
  { level: { enum: ['debug', 'info', 'warn', 'error'], default: 'info', description: 'Log level of the line.' } },
  [],
);

/** Create the publisher of a `log` target. */
export function createLogPublisher(target: LogTarget, deps: PublisherDeps): Publisher {
  const logger = deps.logger.child({ target: target.name });
  return {
    type: 'log',
    name: target.name,
    async publish({ message }, ctx) {
      const firing = message.alerts.filter((a) => a.status === 'firing').length;
      logger[target.level]('alert group', {
        receiver: message.receiver,
        groupKey: message.groupKey,
        status: message.status,
        firing,
        resolved: message.alerts.length - firing,
        alertnames: [...new Set(message.alerts.map((a) => a.labels['alertname'] ?? ''))],
        ...(ctx.fallbackFor === undefined ? {} : { fallbackFor: ctx.fallbackFor }),
      });
      return { ok: true };
    },
  };
}
