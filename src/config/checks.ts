import { compileLinks } from '../alerts/enrich.js';
import { parseMatchers } from '../dispatch/matchers.js';
import { isHttpsImage, PAGERDUTY_ROUTING_KEY_LENGTH } from '../publishers/pagerduty.js';
import { ROOTLY_ALERTMANAGER_NOTIFY_TYPES } from '../publishers/rootly.js';
import { compileTemplate, type MessageTemplateConfig } from '../publishers/templates.js';
import { checkDeadman } from './deadman.js';
import { fallbackProblemsOf } from './fallback.js';
import type { CheckResult, LocalProblem } from './problems.js';
import type { TargetConfig } from '../publishers/registry.js';
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

/** What the schema cannot say about one target: matchers and templates that compile, vendor rules on resolved values. */
export function checkTarget(target: TargetConfig): LocalProblem[] {
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
  for (const [path, source] of targetTemplates(target)) {
    try {
      compileTemplate(source);
    } catch (err) {
      problems.push({ path: `/${path}`, message: templateError(err) });
    }
  }
  if (target.type === 'pagerduty' && typeof target.routing_key === 'string') {
    // Checked on the resolved value (secret references are resolved first); the message gives the length, never the key.
    const length = [...target.routing_key].length;
    if (length !== PAGERDUTY_ROUTING_KEY_LENGTH) {
      problems.push({ path: '/routing_key', message: `must be ${PAGERDUTY_ROUTING_KEY_LENGTH} characters (an Events API v2 integration key), not ${length}` });
    }
    (Array.isArray(target.images) ? target.images : []).forEach((image, j) => {
      // A template may render an https:// URL; a fixed src must be one (PagerDuty shows no other images).
      if (typeof image?.src === 'string' && !image.src.includes('{{') && !isHttpsImage(image.src)) problems.push({ path: `/images/${j}/src`, message: 'must be an https:// URL' });
    });
  }
  if (target.type === 'rootly' && target.mode === 'alertmanager' && target.notification_target) {
    const type = target.notification_target.type;
    if (!ROOTLY_ALERTMANAGER_NOTIFY_TYPES.includes(type)) {
      problems.push({
        path: '/notification_target/type',
        message: `"${type}" is not a notification target of Rootly's Alertmanager alert source (${ROOTLY_ALERTMANAGER_NOTIFY_TYPES.join(', ')}); use mode: api`,
      });
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

/** A target's Handlebars templates, by their path under the target: chat `template` parts, PagerDuty's summary and images. */
function targetTemplates(target: TargetConfig): Array<[path: string, source: string]> {
  const found: Array<[string, string]> = [];
  const template = 'template' in target ? (target.template as MessageTemplateConfig | undefined) : undefined;
  for (const [part, source] of Object.entries(template ?? {})) if (typeof source === 'string') found.push([`template/${part}`, source]);
  if (target.type === 'pagerduty') {
    if (typeof target.summary === 'string') found.push(['summary', target.summary]);
    (Array.isArray(target.images) ? target.images : []).forEach((image, j) => {
      for (const field of ['src', 'href', 'alt'] as const) {
        const source = image?.[field];
        if (typeof source === 'string') found.push([`images/${j}/${field}`, source]);
      }
    });
  }
  return found;
}
