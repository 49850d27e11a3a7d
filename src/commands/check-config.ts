import { ConfigError, formatProblem, loadConfigFile } from '../config/load.js';
import { formatDuration } from '../config/duration.js';
import { redactUrl } from '../config/storage.js';
import { redactTarget, targetKinds } from '../publishers/registry.js';
import type { SecretSource } from '../config/secrets.js';
import type { Config } from '../config/types.js';

/**
 * `alertmux check-config [--no-secrets] FILE...`: every problem of each file and of its targets_dir files, one per
 * line with file, line, column and target name; 0 when every file is valid (warnings allowed), 1 otherwise.
 */
export function checkConfig(files: string[], source: SecretSource, out: (s: string) => void, err: (s: string) => void): number {
  let failed = 0;
  for (const file of files) {
    out(`Checking '${file}'${source.syntaxOnly ? ' (--no-secrets: secret references checked for syntax only)' : ''}`);
    try {
      const config = loadConfigFile(file, { ...source, kinds: targetKinds });
      const broken = (config.targetFiles ?? []).filter((f) => f.state !== 'loaded');
      if (broken.length) {
        failed++;
        const of = config.targetFiles!.length;
        err(`  FAILED: ${broken.length} of ${of} targets_dir file${of === 1 ? ' is' : 's are'} broken; a running alertmux leaves their targets out (or keeps their last good version)`);
        for (const p of broken.flatMap((f) => f.problems)) err(`    ${formatProblem(p)}`);
        out(`  the rest: ${config.targets.length} target(s), listening on ${config.listen}`);
      } else out(`  SUCCESS: ${config.targets.length} target(s), listening on ${config.listen}`);
      for (const w of config.warnings ?? []) err(`  WARNING: ${w}`);
      summarise(config, out);
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

function summarise(config: Config, out: (s: string) => void): void {
  const s = config.storage;
  const ledger = s.driver === 'postgres' && s.url ? `postgres ${redactUrl(s.url)} (pool ${s.pool_size}, lease ${formatDuration(s.lease)})` : s.path;
  out(`  storage: ${ledger}, response deadline ${formatDuration(config.dispatch.response_deadline)}, health strategy ${config.dispatch.health_strategy}`);
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
