import { compileLinks } from '../alerts/enrich.js';
import { parseMatchers } from '../matchers/matchers.js';
import { checkDeadman } from './deadman.js';
import { fallbackProblemsOf } from './fallback.js';
import type { CheckResult, LocalProblem } from './problems.js';
import { kindOf, type TargetConfig, type TargetKinds } from './target.js';
import type { Config } from './types.js';

/**
 * A check across the whole loaded config: defaults applied, durations in ms, secrets resolved, every target of
 * `targets` and `targets_dir` present. It returns its problems; each one that names a target (`{target, message,
 * path?}` with `path` a JSON pointer under that target, e.g. `/fallback`) is reported with that target's file and
 * line, and a problem of a targets_dir target breaks only that file (its last good version is kept). A problem
 * without a target is the main config's (a string may start with its JSON pointer: `/deadman/targets/0: ...`);
 * a string starting `/targets/N/...` is read as the problem of `config.targets[N]`, the list the check was given.
 * The config may hold parts the schema rejected (those are reported already): a check that throws is skipped, and
 * a problem at a field the schema already failed is left out.
 *
 * To add a check (e.g. `fallback:` references and their cycles), add it to CONFIG_CHECKS below; a module that
 * returns problem strings plugs in as it is: `[checkLinks, checkDeadman, checkFallbacks]`.
 */
export type ConfigCheck = (config: Readonly<Omit<Config, 'secrets' | 'targetFiles'>>) => Iterable<CheckResult>;

/** The checks run on every load and reload, after the per-target checks below. */
export const CONFIG_CHECKS: ConfigCheck[] = [checkLinks, checkFallbackRefs, checkDeadman];

/**
 * What the schema cannot say about one target: matchers that compile, then its kind's hooks (templates that
 * compile, vendor rules on resolved values), given by the kind's descriptor. A hook that throws (on a shape the
 * schema rejected, reported already) is skipped.
 */
export function checkTarget(target: TargetConfig, kinds: TargetKinds): LocalProblem[] {
  const problems: LocalProblem[] = [];
  for (const key of ['match', 'match_route'] as const) {
    const list = target[key];
    if (!Array.isArray(list)) continue;
    list.forEach((m, j) => {
      if (typeof m !== 'string') return;
      try {
        parseMatchers(m);
      } catch (err) {
        problems.push({ path: `/${key}/${j}`, message: (err as Error).message });
      }
    });
  }
  const kind = kindOf(kinds, target.type);
  const report = (path: string, message: string) => problems.push({ path: `/${path}`, message });
  for (const hook of [kind?.compileTemplates, kind?.check]) {
    try {
      hook?.call(kind, target, report);
    } catch {
      // a shape the schema rejected
    }
  }
  return problems;
}

/** `enrich.links` templates compile. */
function checkLinks(config: Readonly<Omit<Config, 'secrets' | 'targetFiles'>>): CheckResult[] {
  const problems: CheckResult[] = [];
  for (const [name, source] of Object.entries(config.enrich?.links ?? {})) {
    try {
      compileLinks({ [name]: source });
    } catch (err) {
      problems.push({ path: `/enrich/links/${name}`, message: templateError(err) });
    }
  }
  return problems;
}

/**
 * `fallback` names a target, not itself, and makes no cycle. A problem is the target's whose `fallback` is wrong; a
 * cycle is blamed on its member that comes last (targets_dir targets come after the file's), so a targets_dir file
 * that closes a cycle is the one left out and the main config still loads.
 */
function checkFallbackRefs(config: Readonly<Omit<Config, 'secrets' | 'targetFiles'>>): CheckResult[] {
  const order = new Map(config.targets.map((t, i) => [t.name, i]));
  return fallbackProblemsOf(config.targets).map((p) => {
    const target = [...p.targets].sort((a, b) => (order.get(b) ?? 0) - (order.get(a) ?? 0))[0];
    return { target, path: '/fallback', message: p.message.replace(/^target "[^"]*": (fallback )?/, '') };
  });
}

/** Handlebars says "Parse error on line 1:", the source, a caret, "Expecting ..."; the first and last lines say it all. */
function templateError(err: unknown): string {
  const lines = (err as Error).message.split('\n');
  return [...new Set([lines[0], lines.at(-1)])].join(' ');
}
