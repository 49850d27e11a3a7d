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
  const sources = { ...config.sources };
  for (const d of valid) {
    const target = d.target!;
    const owner = owners.get(target.name);
    if (owner) {
      clashes.set(`${d.namespace}/${d.name}`, `target name "${target.name}" is already used by ${owner}`);
      continue;
    }
    owners.set(target.name, `Secret ${d.namespace}/${d.name}`);
    targets.push(target);
    sources[target.name] = { kind: 'kubernetes', secret: `${d.namespace}/${d.name}` };
    for (const s of d.secrets) secrets.add(s);
  }
  return { config: Object.freeze({ ...config, targets, secrets: [...secrets], sources }), clashes };
}
