import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { checkTarget, CONFIG_CHECKS } from './checks.js';
import { ConfigError, formatProblem, locate, splitPointer, type CheckResult, type LocalProblem, type Problem } from './problems.js';
import { newScan, resolveSecrets, type SecretSource } from './secrets.js';
import { checkStorage } from './storage.js';
import { keepOrSkip, readTargetsDir, secretsOf, type DirFile } from './targets-dir.js';
import { validateConfig } from './validate.js';
import { parseYamlSource, type YamlSource } from './yaml-source.js';
import { kindOf, type TargetConfig, type TargetKinds } from './target.js';
import type { Config, TargetFile, TargetSource } from './types.js';

export { ConfigError, formatProblem, type Problem } from './problems.js';
export { parseTarget, type ParsedTarget } from './target-file.js';

/** The target kinds a config may name (the publishers' registry: `targetKinds`), with where secrets come from. */
export interface KindsSource extends SecretSource {
  kinds: TargetKinds;
}

/** Where a config text came from and how to resolve what it points at. */
export interface LoadOptions extends KindsSource {
  /** Directory that relative paths (`${file:...}`, `targets_dir`, storage) are resolved against. */
  baseDir: string;
  /** The file the text came from, as problem lines name it. */
  file?: string;
  /** The config running now: a broken targets_dir file keeps the version of its target found here. */
  previous?: Config;
}

type Loaded = Omit<Config, 'secrets' | 'targetFiles' | 'warnings'>;

/** A target of the merged config and where it came from: the main file (at an index) or a targets_dir file. */
interface Entry {
  target: TargetConfig;
  index?: number;
  dir?: DirFile;
}

/**
 * Parse and validate alertmux.yml text into a frozen Config, finding every problem in one pass: secret
 * references, the schema, matchers and templates, names and the cross checks of CONFIG_CHECKS, in the main
 * config and in every targets_dir file. A problem of the main config throws ConfigError (with all problems);
 * a broken targets_dir file only loses its target, or keeps the version in `options.previous`: see `targetFiles`.
 */
export function parseConfig(text: string, options: LoadOptions): Config {
  const source = parseYamlSource(text, options.file);
  if (source.errors.length) throw new ConfigError('config is not valid YAML', source.errors);
  if (source.value === undefined || source.value === null) throw new ConfigError('config is empty');
  if (typeof source.value !== 'object' || Array.isArray(source.value)) {
    throw new ConfigError('config is invalid', [{ message: 'must be a mapping of settings (`key: value` lines), not a list or a single value', ...(options.file === undefined ? {} : { file: options.file }), line: 1, column: 1 }]);
  }

  const scan = newScan();
  const config = resolveSecrets(source.value, options, options.baseDir, scan) as Loaded;
  const known = (p: LocalProblem) => p.keep || !scan.unresolved.has(p.path);
  const local: LocalProblem[] = [...scan.problems, ...validateConfig(config, scan.secrets, options.kinds).filter(known)];
  // Entries that are not mappings stay in place (so indexes match the file); the schema reported them.
  const own: TargetConfig[] = Array.isArray(config.targets) ? config.targets : [];
  own.forEach((target, i) => {
    if (isTarget(target)) local.push(...checkTarget(target, options.kinds).map((p) => ({ ...p, path: `/targets/${i}${p.path}` })).filter(known));
  });
  const storage = checkStorage((source.value as Record<string, unknown>)['storage'], config, scan.unresolved);
  local.push(...storage.problems.filter((p) => !local.some((l) => l.path === p.path)));
  for (const s of storage.secrets) scan.secrets.add(s);
  if (config.storage?.path && config.storage.path !== ':memory:') config.storage.path = resolve(options.baseDir, config.storage.path);
  for (const t of own) if (isTarget(t)) kindOf(options.kinds, t.type)?.resolvePaths?.(t, options.baseDir);

  let files: DirFile[] = [];
  if (typeof config.targets_dir === 'string' && config.targets_dir && !scan.unresolved.has('/targets_dir')) {
    const dir = (config.targets_dir = resolve(options.baseDir, config.targets_dir));
    const read = readTargetsDir(dir, options);
    if (read.error) local.push({ path: '/targets_dir', message: read.error });
    files = read.files;
  }
  for (const f of files) if (f.problems.length) keepOrSkip(f, options.previous);

  const located = [...local.map((p) => locateMain(p, source, own)), ...crossCheck(config, own, files, source, options.previous, new Set(local.map((p) => p.path)))].sort(
    (a, b) => (a.line ?? Infinity) - (b.line ?? Infinity) || (a.column ?? 0) - (b.column ?? 0),
  );
  const problems = [...located, ...files.flatMap((f) => f.problems)];
  if (located.length) throw new ConfigError(`config is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'})`, problems);

  const secrets = scan.secrets;
  for (const f of files) {
    if (f.state === 'loaded') for (const s of f.secrets) secrets.add(s);
    if (f.state === 'kept' && options.previous) for (const s of secretsOf(f.effective, options.previous.secrets)) secrets.add(s);
  }
  const targets = [...own, ...files.flatMap((f) => (f.effective ? [f.effective] : []))];
  const targetFiles: TargetFile[] = files.map((f) => ({ file: f.file, ...(f.effective ? { target: f.effective.name } : {}), state: f.state, problems: f.problems }));
  const warnings: string[] = storage.warnings.map((w) => formatProblem(locateMain(w, source, own)));
  if (!targets.length && !config.discovery?.kubernetes) warnings.push('the config has no targets: notifications are accepted and delivered nowhere');
  // Where each target came from (GET /api/v1/targets): the main file, or its targets_dir file.
  const sources: Record<string, TargetSource> = {};
  for (const t of own) if (isTarget(t)) sources[t.name] = { kind: 'config', ...(options.file === undefined ? {} : { file: resolve(options.file) }) };
  for (const f of files) if (f.effective) sources[f.effective.name] ??= { kind: 'targets_dir', file: f.file };
  return deepFreeze({
    ...config,
    targets,
    targetFiles,
    warnings,
    secrets: [...secrets].filter((s) => typeof s === 'string' && s.length > 0),
    sources,
  });
}

/** Read and parse a config file; relative paths in it are relative to the file, problems name it as given. */
export function loadConfigFile(path: string, source: KindsSource, previous?: Config): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return parseConfig(text, { ...source, baseDir: dirname(resolve(path)), file: path, previous });
}

/** Run the name check and CONFIG_CHECKS until no targets_dir file is to blame; returns the main config's problems. */
function crossCheck(config: Loaded, own: TargetConfig[], files: DirFile[], source: YamlSource, previous: Config | undefined, reported: Set<string>): Problem[] {
  for (;;) {
    const entries: Entry[] = [...own.flatMap((target, index) => (isTarget(target) ? [{ target, index }] : [])), ...files.flatMap((dir) => (dir.effective ? [{ target: dir.effective, dir }] : []))];
    const found: Array<{ entry?: Entry; problem: LocalProblem }> = duplicateNames(entries, previous);
    const view = { ...config, targets: entries.map((e) => e.target) };
    for (const check of CONFIG_CHECKS) {
      let results: CheckResult[];
      try {
        results = [...check(view)];
      } catch {
        continue; // a shape the schema rejected (reported already)
      }
      for (const r of results) {
        const { target, path = '', message } = typeof r === 'string' ? { target: undefined, ...splitPointer(r) } : r;
        if (target !== undefined) {
          found.push({ entry: entries.find((e) => e.target.name === target), problem: { path, message } });
          continue;
        }
        // `/targets/N/...` indexes the merged list the check saw (targets_dir targets after the file's): find whose it is.
        const m = /^\/targets\/(\d+)(\/.*)?$/.exec(path);
        const entry = m ? entries[Number(m[1])] : undefined;
        found.push(entry ? { entry, problem: { path: m![2] ?? '', message } } : { problem: { path, message } });
      }
    }
    const blamed = new Set(found.flatMap((f) => (f.entry?.dir ? [f.entry.dir] : [])));
    if (!blamed.size) {
      // A field the schema (or a secret reference) already failed says nothing new here: its value is not what the check expects.
      return found
        .map(({ entry, problem }) => (entry?.index === undefined ? problem : { ...problem, path: `/targets/${entry.index}${problem.path}` }))
        .filter((p) => !p.path || !reported.has(p.path))
        .map((p) => locateMain(p, source, own));
    }
    for (const { entry, problem } of found) {
      const dir = entry?.dir;
      if (!dir) continue;
      const p = dir.state === 'loaded' && dir.source ? locate(problem, dir.source, problem.path, dir.effective!.name, problem.path) : { message: `its last good version: ${problem.message}`, target: dir.effective!.name, file: dir.file };
      dir.problems.push(p);
    }
    for (const dir of blamed) keepOrSkip(dir, dir.state === 'loaded' ? previous : undefined);
  }
}

/** The second holder of a name is the one in error: the main config's targets first, then a file that held it before. */
function duplicateNames(entries: Entry[], previous?: Config): Array<{ entry: Entry; problem: LocalProblem }> {
  const heldBefore = (e: Entry) => !!previous?.targetFiles?.some((f) => f.file === e.dir?.file && f.target === e.target.name);
  const ordered = [...entries].sort((a, b) => Number(!!a.dir) - Number(!!b.dir) || Number(heldBefore(b)) - Number(heldBefore(a)));
  const holders = new Map<string, Entry>();
  const found: Array<{ entry: Entry; problem: LocalProblem }> = [];
  for (const e of ordered) {
    if (typeof e.target.name !== 'string') continue; // the schema reported it
    const holder = holders.get(e.target.name);
    if (!holder) holders.set(e.target.name, e);
    else {
      const where = holder.dir ? `targets_dir file ${holder.dir.file}` : 'the config file';
      found.push({ entry: e, problem: { path: '/name', message: `duplicate target name "${e.target.name}" (also defined in ${where})` } });
    }
  }
  return found;
}

/** A problem of the main config: under `/targets/N` it is named after that target and its field is relative to it. */
function locateMain(p: LocalProblem, source: YamlSource, targets: TargetConfig[]): Problem {
  const m = /^\/targets\/(\d+)(\/.*)?$/.exec(p.path);
  if (!m) return locate(p, source, p.path, undefined, p.path);
  const name = nameOf(targets[Number(m[1])]?.name) ?? `#${m[1]}`;
  return locate(p, source, p.path, name, m[2] ?? '');
}

const isTarget = (t: unknown): t is TargetConfig => t !== null && typeof t === 'object' && !Array.isArray(t);
const nameOf = (name: unknown) => (typeof name === 'string' && name ? name : undefined);

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
