import { checkTarget } from './checks.js';
import { locate, type LocalProblem, type Problem } from './problems.js';
import { newScan, resolveSecrets, type SecretSource } from './secrets.js';
import { validateTarget } from './validate.js';
import { parseYamlSource, type YamlSource } from './yaml-source.js';
import type { TargetConfig } from '../publishers/registry.js';

/** What one target definition (a targets_dir file, a discovered Secret) gave: its target if it is valid, and every problem. */
export interface ParsedTarget {
  target?: TargetConfig;
  problems: Problem[];
  /** Secret values it holds, for redaction. */
  secrets: Set<string>;
  /** The name its problems are reported under: the one it gives itself, else the default. */
  name: string;
  /** The parsed text, to place problems found later (names, cross references) at their line. */
  source: YamlSource;
}

/**
 * Parse one target definition: YAML, secret references (relative to `source.baseDir`), the target schema and
 * the per-target checks, all problems at once, each with its line in `file`.
 */
export function parseTarget(text: string, defaultName: string, source: SecretSource & { baseDir: string }, file?: string): ParsedTarget {
  const secrets = new Set<string>();
  const yaml = parseYamlSource(text, file);
  const given = (yaml.value as { name?: unknown } | null | undefined)?.name;
  const name = typeof given === 'string' && given ? given : defaultName;
  const done = (problems: Problem[], target?: TargetConfig): ParsedTarget => ({ target, problems, secrets, name, source: yaml });
  if (yaml.errors.length) return done(yaml.errors.map((p) => ({ ...p, target: name })));
  if (yaml.value === null || typeof yaml.value !== 'object' || Array.isArray(yaml.value)) {
    return done([{ message: 'must be a mapping of one target', target: name, ...(file === undefined ? {} : { file }) }]);
  }
  const scan = newScan(secrets);
  const resolved = resolveSecrets({ name: defaultName, ...yaml.value }, source, source.baseDir, scan) as TargetConfig;
  const known = (p: LocalProblem) => p.keep || !scan.unresolved.has(p.path);
  const local = [...scan.problems, ...validateTarget(resolved, secrets).filter(known)];
  local.push(...checkTarget(resolved).filter(known));
  const named = typeof given === 'string';
  const problems = local.map((p) =>
    // A name that comes from the file name is nowhere in the file: say where it comes from.
    locate(!named && p.path === '/name' ? { ...p, message: `${p.message} (the name is the file's; rename the file or set \`name:\` in it)` } : p, yaml, p.path, name, p.path),
  );
  problems.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity) || (a.column ?? 0) - (b.column ?? 0));
  return done(problems, problems.length ? undefined : resolved);
}
