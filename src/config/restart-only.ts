import { isDeepStrictEqual } from 'node:util';
import type { Config } from './types.js';

/**
 * Settings read once at start (src/main.ts): the listening socket and its limits, the ledger
 * (every `storage` field but `retention`, which pruning reads each time), the replica's name, the logger's level and Kubernetes discovery. A reload that changes them keeps the running values.
 */
export const RESTART_ONLY = [
  'listen',
  'replica',
  'storage.driver',
  'storage.path',
  'storage.url',
  'storage.pool_size',
  'storage.statement_timeout',
  'storage.lease',
  'limits.header_timeout',
  'limits.request_timeout',
  'limits.idle_timeout',
  'limits.max_connections',
  'log.level',
  'discovery',
] as const;

/** The restart-only settings (dotted keys) that differ between the running config and a reloaded one. */
export function restartOnlyChanges(running: Config, next: Config): string[] {
  const get = (config: Config, key: string) => key.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], config);
  return RESTART_ONLY.filter((key) => !isDeepStrictEqual(get(running, key), get(next, key)));
}
