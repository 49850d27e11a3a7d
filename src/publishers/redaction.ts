/**
 * The one redaction helper. A target kind declares which of its fields are secrets and what shape each has
 * (registry.ts collects the declarations); this module knows every form in which such a secret can come back
 * in a vendor's answer, a proxy's echo or an error: the value itself, `Bearer <token>`, `user:password` and its
 * base64, the path, query and user-info parts of a URL that is the credential, each of them URL-encoded,
 * form-encoded and JSON-escaped. A redactor replaces all of them, longest first, before anything is cut.
 */

/** What a secret field holds, which decides the forms it can come back in. */
export type SecretShape =
  /** A plain value (routing key, header value). */
  | 'value'
  /** A token sent as `Authorization: Bearer <token>`. */
  | 'bearer'
  /** `{username, password}` sent as `Authorization: Basic base64(username:password)`. */
  | 'basic'
  /** A URL that is itself the credential (Slack, Teams, Discord webhooks; a webhook with a token in it). */
  | 'url'
  /** A Standard Webhooks secret (`whsec_<base64>`). */
  | 'signing';

/** One secret field of a target kind: its path (`a.b`; `*` for every key of a map) and its shape. */
export interface SecretField {
  path: string;
  shape: SecretShape;
}

/** Replaces every secret form in a text. */
export type Redactor = (text: string) => string;

export const REDACTED = '<secret>';

/** Derived parts shorter than this (a `/alerts` path, `?v=1`) carry no credential, and redacting them would garble text. */
const MIN_PART = 8;
/** Query values shorter than this (`json`, `true`) are not redacted on their own (the whole URL and query still are). */
const MIN_VALUE = 6;
/** Path segments this long are tokens (Slack `XXXX`, Discord `{token}`) even when the rest of the path is not echoed. */
const MIN_SEGMENT = 16;

/** The values of the declared secret fields of `config`, with their shapes. */
export function fieldSecrets(config: object, fields: readonly SecretField[]): Array<{ shape: SecretShape; value: unknown }> {
  return fields.flatMap((f) => valuesAt(config, f.path.split('.')).map((value) => ({ shape: f.shape, value })));
}

function valuesAt(value: unknown, path: readonly string[]): unknown[] {
  if (path.length === 0) return value === undefined || value === null ? [] : [value];
  if (!value || typeof value !== 'object') return [];
  const [head, ...rest] = path as [string, ...string[]];
  const record = value as Record<string, unknown>;
  return head === '*' ? Object.values(record).flatMap((v) => valuesAt(v, rest)) : valuesAt(record[head], rest);
}

/** Every form of one secret as it may appear in a text (before encodings). */
export function secretForms(shape: SecretShape, value: unknown): string[] {
  if (shape === 'basic') {
    const { username = '', password } = (value ?? {}) as { username?: string; password?: string };
    if (typeof password !== 'string' || password === '') return [];
    const pair = `${username}:${password}`;
    const encoded = Buffer.from(pair).toString('base64');
    return [password, pair, encoded, `Basic ${encoded}`, encoded.replace(/=+$/, '')];
  }
  if (typeof value !== 'string' || value === '') return [];
  switch (shape) {
    case 'bearer':
      return [value, `Bearer ${value}`];
    case 'signing':
      return [value, value.replace(/^whsec_/, '')];
    case 'url':
      return [value, ...urlParts(value)];
    default:
      return [value];
  }
}

/**
 * The parts of a secret URL that must not leak on their own: its path and query, each query value (raw and
 * decoded), long path segments, and user info. Parts too short to be a credential are left alone.
 */
function urlParts(url: string): string[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return [];
  }
  const { pathname, search, username, password } = parsed;
  const long: string[] = [...pathname.split('/').filter((s) => s.length >= MIN_SEGMENT)];
  const short: string[] = [];
  if (pathname.length >= MIN_PART) long.push(pathname);
  if (search) {
    long.push(`${pathname}${search}`);
    short.push(search.slice(1));
    for (const pair of search.slice(1).split('&')) {
      const raw = pair.slice(pair.indexOf('=') + 1);
      short.push(raw, decoded(raw.replace(/\+/g, ' ')));
    }
  }
  const secret = password ? [password, decoded(password), `${decoded(username)}:${decoded(password)}`] : [];
  if (secret[2]) secret.push(Buffer.from(secret[2]).toString('base64'));
  return [...long.filter((p) => p.length >= MIN_PART), ...short.filter((p) => p.length >= MIN_VALUE), ...secret];
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text; // a malformed escape: the raw form is all there is
  }
}

/** A form as it also appears URL-encoded (query, path), form-encoded, and escaped in a JSON string. */
function encodings(form: string): string[] {
  const json = JSON.stringify(form).slice(1, -1);
  return [
    form,
    encodeURIComponent(form),
    encodeURI(form),
    new URLSearchParams({ x: form }).toString().slice(2),
    json,
    json.replace(/\//g, '\\/'),
  ];
}

/** A redactor of the given secret forms (and their encodings); the empty list gives the identity. */
export function createRedactor(forms: Iterable<string>): Redactor {
  const all = new Set<string>();
  for (const form of forms) if (form) for (const encoded of encodings(form)) all.add(encoded);
  // Longest first: a whole URL goes before its path, `user:password` before the password.
  const ordered = [...all].sort((a, b) => b.length - a.length);
  if (ordered.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const s of ordered) if (out.includes(s)) out = out.split(s).join(REDACTED);
    return out;
  };
}

/** A redactor of the declared secret fields of `config` and of `extra` plain values (secret references, Secret keys). */
export function redactorOf(config: object, fields: readonly SecretField[], extra: Iterable<string> = []): Redactor {
  return createRedactor(formsOf(config, fields, extra));
}

/** All the forms of the declared secrets of `config` and of `extra` plain values. */
export function formsOf(config: object, fields: readonly SecretField[], extra: Iterable<string> = []): string[] {
  const forms = fieldSecrets(config, fields).flatMap(({ shape, value }) => secretForms(shape, value));
  for (const value of extra) forms.push(...secretForms(/^https?:\/\//.test(value) ? 'url' : 'value', value));
  return forms;
}

/**
 * A copy of `config` safe to print: each declared secret field becomes `<secret>` (a `basic` one keeps its
 * username), and every other string is redacted of the secrets' forms (a health-check URL that repeats a token).
 */
export function redactFields(config: object, fields: readonly SecretField[], redact: Redactor): Record<string, unknown> {
  const hidden = new Map(fields.map((f) => [f.path, f.shape]));
  const walk = (value: unknown, path: string[]): unknown => {
    const key = path.join('.');
    const wild = path.length ? [...path.slice(0, -1), '*'].join('.') : '';
    const shape = hidden.get(key) ?? hidden.get(wild);
    if (shape === 'basic' && value && typeof value === 'object') return { ...(value as object), password: REDACTED };
    if (shape !== undefined && typeof value === 'string') return REDACTED;
    if (typeof value === 'string') return redact(value);
    if (Array.isArray(value)) return value.map((v, i) => walk(v, [...path, String(i)]));
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, [...path, k])]));
    return value;
  };
  return walk(config, []) as Record<string, unknown>;
}
