import { fallbackProblemsOf } from '../config/fallback.js';
import type { DiscoveredSecret } from './secret.js';
import type { Config } from '../config/types.js';

/** The config with discovered targets added, and the Secrets left out because their target name was taken. */
export interface Merged {
  config: Config;
  /** `namespace/name` of a Secret → why its target was left out. */
  clashes: Map<string, string>;
}

/**
 * Add the valid discovered targets after the file's. A name already used by a file
 * target stays the file's; between Secrets the older one (then the first by
 * namespace/name) keeps it, so a new Secret can never take over a working target.
 */
export function mergeTargets(config: Config, discovered: Iterable<DiscoveredSecret>): Merged {
  const owners = new Map<string, string>(config.targets.map((t) => [t.name, 'a target of the config file']));
  const clashes = new Map<string, string>();
  const valid = [...discovered]
    .filter((d) => d.target)
    .sort((a, b) => a.createdAt - b.createdAt || `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
  const targets = [...config.targets];
  const secrets = new Set(config.secrets);
  const fromSecret = new Map<string, DiscoveredSecret>();
  for (const d of valid) {
    const target = d.target!;
    const owner = owners.get(target.name);
    if (owner) {
      clashes.set(`${d.namespace}/${d.name}`, `target name "${target.name}" is already used by ${owner}`);
      continue;
    }
    owners.set(target.name, `Secret ${d.namespace}/${d.name}`);
    targets.push(target);
    fromSecret.set(target.name, d);
  }
  // A discovered target whose fallback is unknown or closes a cycle is left out (again, until none is left: it may be another's fallback).
  for (let bad = badFallbacks(targets, fromSecret); bad.length; bad = badFallbacks(targets, fromSecret)) {
    for (const [d, message] of bad) {
      clashes.set(`${d.namespace}/${d.name}`, message);
      targets.splice(targets.indexOf(d.target!), 1);
    }
  }
  for (const t of targets) for (const s of fromSecret.get(t.name)?.secrets ?? []) secrets.add(s);
  const sources = { ...config.sources };
  for (const t of targets) {
    const d = fromSecret.get(t.name);
    if (d) sources[t.name] = { kind: 'kubernetes', secret: `${d.namespace}/${d.name}` };
  }
  return { config: Object.freeze({ ...config, targets, secrets: [...secrets], sources }), clashes };
}

/** Discovered targets (in `targets`) with a fallback problem; a file target's fallback was checked with its file. */
function badFallbacks(targets: Config['targets'], fromSecret: Map<string, DiscoveredSecret>): Array<[DiscoveredSecret, string]> {
  const bad = new Map<DiscoveredSecret, string>();
  for (const p of fallbackProblemsOf(targets)) {
    for (const name of p.targets) {
      const d = fromSecret.get(name);
      if (d && targets.includes(d.target!) && !bad.has(d)) bad.set(d, p.message);
    }
  }
  return [...bad];
}
