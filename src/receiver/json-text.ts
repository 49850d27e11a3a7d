/**
 * Nesting a body may have. Alertmanager's payload is four levels deep; Go's decoder stops at 10,000, but
 * JSON.stringify (the ledger keeps the payload as text) overflows the stack a few thousand levels down,
 * long after JSON.parse accepted the same text.
 */
export const MAX_JSON_DEPTH = 100;

/** Whether a parsed JSON value nests arrays and objects deeper than `max` levels (it never recurses deeper itself). */
export function jsonDeeperThan(value: unknown, max: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (max === 0) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (jsonDeeperThan(item, max - 1)) return true;
    return false;
  }
  for (const key in value) if (jsonDeeperThan((value as Record<string, unknown>)[key], max - 1)) return true;
  return false;
}

// `\uD800`-`\uDFFF`: the escape of a surrogate half (an escaped backslash before "ud800" also matches: harmless).
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

/**
 * Whether JSON text may hold a lone surrogate once parsed. Decoded bytes never do (invalid UTF-8 and UTF-16
 * decode to U+FFFD); only a `\uD800`-style escape can. A native regex: about 1/20 of JSON.parse's time.
 */
export function mayHaveLoneSurrogates(text: string): boolean {
  return SURROGATE_ESCAPE.test(text);
}

// In a `u` regex a valid pair is one code point, so only lone halves match.
const LONE_SURROGATE = /[\uD800-\uDFFF]/gu;

/**
 * `value` with every lone surrogate in its strings and keys replaced by U+FFFD, as Go's encoding/json decodes
 * them (Alertmanager's own view of such a payload), and how many were replaced.
 * Recursive: call it on values within MAX_JSON_DEPTH.
 */
export function wellFormedJson(value: unknown): { value: unknown; replaced: number } {
  let replaced = 0;
  const fix = (s: string): string =>
    s.replace(LONE_SURROGATE, () => {
      replaced++;
      return '\uFFFD';
    });
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return fix(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== 'object') return v;
    const out: Record<string, unknown> = {};
    // defineProperty, not assignment: a `__proto__` key stays an own property, as JSON.parse made it.
    for (const [k, inner] of Object.entries(v)) Object.defineProperty(out, fix(k), { value: walk(inner), enumerable: true, writable: true, configurable: true });
    return out;
  };
  const result = walk(value);
  return { value: result, replaced };
}
