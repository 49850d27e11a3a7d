import { parseMatchers } from '../dispatch/matchers.js';
import type { Config } from './types.js';

/** Shortest accepted `deadman.timeout`: below it, ordinary webhook latency would page. */
export const DEADMAN_MIN_TIMEOUT_MS = 1000;

/**
 * What the schema cannot say about `deadman`: its matchers compile and its targets are
 * configured (of `targets` or `targets_dir`). One problem string per finding, with its path.
 */
export function checkDeadman(config: Pick<Config, 'deadman' | 'targets'>): string[] {
  const deadman = config.deadman;
  if (!deadman) return [];
  const problems: string[] = [];
  deadman.match.forEach((entry, i) => {
    try {
      parseMatchers(entry);
    } catch (err) {
      problems.push(`/deadman/match/${i}: ${(err as Error).message}`);
    }
  });
  if (deadman.timeout < DEADMAN_MIN_TIMEOUT_MS) problems.push(`/deadman/timeout: must be at least 1s (the silence that pages), not ${deadman.timeout}ms`);
  const known = new Set(config.targets.map((t) => t.name));
  deadman.targets.forEach((name, i) => {
    if (known.has(name)) return;
    const names = [...known];
    problems.push(`/deadman/targets/${i}: unknown target "${name}" (${names.length ? `configured: ${names.join(', ')}` : 'no targets are configured'})`);
  });
  return problems;
}
