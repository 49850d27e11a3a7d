import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { LocalProblem } from './problems.js';

/** How secret references are resolved; injected so tests never touch process.env or the disk. */
export interface SecretSource {
  env: Record<string, string | undefined>;
  /** Reads a file's text; relative paths are resolved against `baseDir` first. */
  readFile?: (path: string) => string;
  /** Check the references' syntax only and resolve none (`check-config --no-secrets`, in CI without the secrets). */
  syntaxOnly?: boolean;
}

/** What resolving found: problems by field, and the fields whose value is not known (a reference unresolved or not resolved). */
export interface SecretScan {
  problems: LocalProblem[];
  /** JSON pointers of strings holding a reference that was not resolved; checks of their value say nothing. */
  unresolved: Set<string>;
  /** Every resolved value, for redaction. */
  secrets: Set<string>;
}

const REFERENCE = /\$\{(env|file):([^}]+)\}/g;
// `${` that does not start a reference; `${{` is left alone (a `$` before a Handlebars expression).
const STRAY = /\$\{(?!\{)/g;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Replace `${env:NAME}` and `${file:/path}` in every string of `value`, in a copy. Problems name the field
 * (a JSON pointer) and the reference, never a value. Every resolved value is added to `scan.secrets`.
 */
export function resolveSecrets(value: unknown, source: SecretSource, baseDir: string, scan: SecretScan, path = ''): unknown {
  if (typeof value === 'string') return resolveString(value, source, baseDir, scan, path);
  if (Array.isArray(value)) return value.map((v, i) => resolveSecrets(v, source, baseDir, scan, `${path}/${i}`));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, resolveSecrets(v, source, baseDir, scan, `${path}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`)]),
    );
  }
  return value;
}

/** A fresh, empty scan. */
export function newScan(secrets = new Set<string>()): SecretScan {
  return { problems: [], unresolved: new Set(), secrets };
}

function resolveString(text: string, source: SecretSource, baseDir: string, scan: SecretScan, path: string): string {
  if (!text.includes('${')) return text;
  const problem = (message: string) => {
    scan.problems.push({ path, message });
    scan.unresolved.add(path);
  };
  const stray = [...text.replace(REFERENCE, '').matchAll(STRAY)].length;
  if (stray) problem('has `${` that is not a secret reference: write ${env:NAME} or ${file:/path}');
  return text.replace(REFERENCE, (_all, kind: string, ref: string) => {
    if (kind === 'env' && !ENV_NAME.test(ref)) {
      problem(`\${env:${ref}}: not an environment variable name`);
      return '';
    }
    if (source.syntaxOnly) {
      scan.unresolved.add(path);
      return '';
    }
    let resolved: string | undefined;
    if (kind === 'env') {
      resolved = source.env[ref];
      if (resolved === undefined) problem(`environment variable ${ref} is not set`);
    } else {
      const file = resolve(baseDir, ref);
      try {
        // Kubernetes Secret files and `echo x > file` end with a newline that is never part of the secret.
        resolved = (source.readFile ?? ((p: string) => readFileSync(p, 'utf8')))(file).replace(/\r?\n$/, '');
      } catch (err) {
        problem(`cannot read secret file ${file} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
      }
    }
    if (resolved === undefined) return '';
    if (resolved !== '') scan.secrets.add(resolved);
    return resolved;
  });
}
