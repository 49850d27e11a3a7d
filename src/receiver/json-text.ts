/**
 * Nesting a body may have. Alertmanager's payload is four levels deep; Go's decoder stops at 10,000, but
 * JSON.stringify (the ledger keeps the payload as text) overflows the stack a few thousand levels down,
 * long after JSON.parse accepted the same text.
 */
export const MAX_JSON_DEPTH = 100;

/** What a scan of JSON text found before it is parsed. */
export interface JsonTextScan {
  /** Deepest nesting of arrays and objects. */
  depth: number;
  /** Some string has a `\uD800`-`\uDFFF` escape: after parsing it may hold a lone surrogate. */
  surrogateEscapes: boolean;
}

/** One pass over JSON text (valid or not; JSON.parse judges that): nesting depth and surrogate escapes. */
export function scanJsonText(text: string): JsonTextScan {
  let depth = 0;
  let deepest = 0;
  let surrogateEscapes = false;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x22) inString = false;
      else if (c === 0x5c) {
        // `\uD8..`-`\uDF..`: the escape of a surrogate half.
        if (text.charCodeAt(i + 1) === 0x75 && (text.charCodeAt(i + 2) | 0x20) === 0x64 && /[89a-f]/i.test(text.charAt(i + 3))) surrogateEscapes = true;
        i++;
      }
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return { depth: deepest, surrogateEscapes };
}

// In a `u` regex a valid pair is one code point, so only lone halves match.
const LONE_SURROGATE = /[\uD800-\uDFFF]/gu;

/**
 * `value` with every lone surrogate in its strings and keys replaced by U+FFFD, as Go's encoding/json decodes
 * them (Alertmanager's own view of such a payload), and how many were replaced.
 * Recursive: call it on bodies within MAX_JSON_DEPTH.
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
