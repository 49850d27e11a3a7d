import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { parseTarget } from './target-file.js';
import type { Problem } from './problems.js';
import type { SecretSource } from './secrets.js';
import type { YamlSource } from './yaml-source.js';
import type { TargetConfig } from '../publishers/registry.js';
import type { Config, TargetFile } from './types.js';

/** One target file of targets_dir while loading: what it holds now and which version of its target takes effect. */
export interface DirFile {
  file: string;
  source?: YamlSource;
  /** The version in effect: this file's (`loaded`), the running config's (`kept`), or none (`skipped`). */
  effective?: TargetConfig;
  state: TargetFile['state'];
  problems: Problem[];
  secrets: Set<string>;
}

/**
 * Each `*.yml|*.yaml|*.json` file, or each sub-directory holding a `config` file (a Kubernetes Secret mounted
 * as a volume), is one target named after the file unless it names itself. `${file:...}` in it is relative to
 * its own directory. Each file is parsed and checked on its own: a broken one is returned with its problems.
 */
export function readTargetsDir(dir: string, source: SecretSource & { baseDir: string }): { error?: string; files: DirFile[] } {
  let entries: string[];
  try {
    entries = readdirSync(dir).filter((e) => !e.startsWith('.')).sort();
  } catch (err) {
    return { error: `cannot read ${dir} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, files: [] };
  }
  const files: DirFile[] = [];
  for (const entry of entries) {
    const path = join(dir, entry);
    let file: string;
    let name: string;
    // A dangling link (a Secret key removed mid-update) is not a directory; reading it below reports it.
    if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) {
      file = join(path, 'config');
      name = entry;
      if (!statSync(file, { throwIfNoEntry: false })) continue; // not a target directory
    } else if (['.yml', '.yaml', '.json'].includes(extname(entry))) {
      file = path;
      name = basename(entry, extname(entry));
    } else continue;
    files.push(readTargetFile(file, name, source));
  }
  return { files };
}

function readTargetFile(file: string, name: string, source: SecretSource & { baseDir: string }): DirFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { file, state: 'skipped', problems: [{ message: `cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, target: name, file }], secrets: new Set() };
  }
  const parsed = parseTarget(text, name, { ...source, baseDir: dirname(file) }, file);
  const target = parsed.target;
  // A file target writes where the main config says, whichever file defines it.
  if (target?.type === 'file') target.path = resolve(source.baseDir, target.path);
  return { file, source: parsed.source, effective: target, state: target ? 'loaded' : 'skipped', problems: parsed.problems, secrets: parsed.secrets };
}

/** A broken file keeps the version of its target that `previous` has (it was good then), else it has none. */
export function keepOrSkip(file: DirFile, previous: Config | undefined): void {
  const before = previous?.targetFiles?.find((f) => f.file === file.file && f.state !== 'skipped');
  const kept = before && previous?.targets.find((t) => t.name === before.target);
  file.effective = kept;
  file.state = kept ? 'kept' : 'skipped';
}

/** The secrets of the running config that a kept target holds (whole values or parts of them), still redacted after the reload. */
export function secretsOf(target: TargetConfig | undefined, secrets: readonly string[]): string[] {
  const values: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') values.push(v);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(target);
  return secrets.filter((s) => values.some((v) => v.includes(s)));
}
