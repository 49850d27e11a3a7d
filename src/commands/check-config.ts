import { ConfigError, loadConfigFile } from '../config/load.js';
import { formatDuration } from '../config/duration.js';
import { redactTarget } from '../publishers/registry.js';
import type { SecretSource } from '../config/secrets.js';

/** `alertmux check-config FILE...`: 0 when every file is valid, 1 otherwise. */
export function checkConfig(files: string[], source: SecretSource, out: (s: string) => void, err: (s: string) => void): number {
  let failed = 0;
  for (const file of files) {
    out(`Checking '${file}'`);
    try {
      const config = loadConfigFile(file, source);
      out(`  SUCCESS: ${config.targets.length} target(s), listening on ${config.listen}`);
      out(`  storage: ${config.storage.path}, response deadline ${formatDuration(config.dispatch.response_deadline)}, health strategy ${config.dispatch.health_strategy}`);
      if (config.deadman) out(`  deadman: pages ${config.deadman.targets.join(', ')} after ${formatDuration(config.deadman.timeout)} without ${config.deadman.match.join(', ')}`);
      for (const t of config.targets) {
        const { name: _n, type: _t, enabled: _e, match, match_route, send_resolved, fallback: _f, fallback_after: _a, ...fields } = redactTarget(t);
        const route = (match_route as string[] | undefined) ?? [];
        out(`  - ${t.name} (${t.type})${t.enabled ? '' : ' [disabled]'}`);
        out(
          `      match: ${(match as string[]).length ? (match as string[]).join(', ') : '(all alerts)'};${route.length ? ` match_route: ${route.join(', ')};` : ''} send_resolved: ${String(send_resolved)}`,
        );
        if (t.fallback !== undefined) out(`      fallback: ${t.fallback} after ${formatDuration(t.fallback_after ?? 300_000)}`);
        for (const [k, v] of Object.entries(withDurations(fields))) out(`      ${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
      }
    } catch (e) {
      failed++;
      if (e instanceof ConfigError) {
        err(`  FAILED: ${e.details.length ? e.message.split(':\n')[0] : e.message}`);
        for (const d of e.details) err(`    ${d}`);
      } else err(`  FAILED: ${(e as Error).message}`);
    }
    out('');
  }
  return failed ? 1 : 0;
}

/** Durations are milliseconds once loaded; show them as they are written (`timeout: 5s`). */
function withDurations(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(fields).map(([k, v]) => {
      if (typeof v === 'number' && /(timeout|interval|ttl)$/.test(k)) return [k, formatDuration(v)];
      if (v && typeof v === 'object' && !Array.isArray(v)) return [k, withDurations(v as Record<string, unknown>)];
      return [k, v];
    }),
  );
}
