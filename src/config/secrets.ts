import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** How secret references are resolved; injected so tests never touch process.env or the disk. */
export interface SecretSource {
  env: Record<string, string | undefined>;
  /** Reads a file's text; relative paths are resolved against `baseDir` first. */
  readFile?: (path: string) => string;
}

const REFERENCE = /\$\{(env|file):([^}]+)\}/g;

/**
 * Replace `${env:NAME}` and `${file:/path}` in every string of `value`, in place
 * of a copy. Problems name the field (a JSON pointer) and the reference, never a value.
 * Every resolved value is added to `secrets` so that it can be redacted later.
 */
export function resolveSecrets(
  value: unknown,
  source: SecretSource,
  baseDir: string,
  problems: string[],
  secrets: Set<string>,
  path = '',
): unknown {
  if (typeof value === 'string') return resolveString(value, source, baseDir, problems, secrets, path);
  if (Array.isArray(value)) return value.map((v, i) => resolveSecrets(v, source, baseDir, problems, secrets, `${path}/${i}`));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, resolveSecrets(v, source, baseDir, problems, secrets, `${path}/${k}`)]),
    );
  }
  return value;
}

function resolveString(
  text: string,
  source: SecretSource,
  baseDir: string,
  problems: string[],
  secrets: Set<string>,
  path: string,
): string {
  if (!text.includes('${')) return text;
  return text.replace(REFERENCE, (_all, kind: string, ref: string) => {
    let resolved: string | undefined;
    if (kind === 'env') {
      resolved = source.env[ref];
      if (resolved === undefined) problems.push(`${path || '/'}: environment variable ${ref} is not set`);
    } else {
      const file = resolve(baseDir, ref);
      try {
        // Kubernetes Secret files and `echo x > file` end with a newline that is never part of the secret.
        resolved = (source.readFile ?? ((p: string) => readFileSync(p, 'utf8')))(file).replace(/\r?\n$/, '');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
        problems.push(`${path || '/'}: cannot read secret file ${file} (${code})`);
      }
    }
    if (resolved === undefined) return '';
    if (resolved !== '') secrets.add(resolved);
    return resolved;
  });
}
