/** Character sets of Go's RE2 syntax as code point ranges, and their JS RegExp (`u` flag) spelling. */

export type Ranges = Array<[lo: number, hi: number]>;

const MAX = 0x10ffff;

/** Perl classes: ASCII only in RE2 (JS's `\s` would add Unicode spaces and `\v`). */
export const PERL_CLASSES: Record<string, Ranges> = {
  d: [[0x30, 0x39]],
  s: [[0x09, 0x0a], [0x0c, 0x0d], [0x20, 0x20]],
  w: [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]],
};

/** POSIX classes (`[[:alpha:]]`), ASCII as in RE2. */
export const POSIX_CLASSES: Record<string, Ranges> = {
  alnum: [[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]],
  alpha: [[0x41, 0x5a], [0x61, 0x7a]],
  ascii: [[0x00, 0x7f]],
  blank: [[0x09, 0x09], [0x20, 0x20]],
  cntrl: [[0x00, 0x1f], [0x7f, 0x7f]],
  digit: [[0x30, 0x39]],
  graph: [[0x21, 0x7e]],
  lower: [[0x61, 0x7a]],
  print: [[0x20, 0x7e]],
  punct: [[0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]],
  space: [[0x09, 0x0d], [0x20, 0x20]],
  upper: [[0x41, 0x5a]],
  word: [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]],
  xdigit: [[0x30, 0x39], [0x41, 0x46], [0x61, 0x66]],
};

/** Sorted, merged copy. */
export function normalize(ranges: Ranges): Ranges {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: Ranges = [];
  for (const [lo, hi] of sorted) {
    const last = out.at(-1);
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

export function complement(ranges: Ranges): Ranges {
  const out: Ranges = [];
  let next = 0;
  for (const [lo, hi] of normalize(ranges)) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX) out.push([next, MAX]);
  return out;
}

let orbits: Map<number, number[]> | undefined;

/**
 * Case-folding orbits (`k`, `K`, KELVIN SIGN), built once from the engine's own case mappings:
 * code points that upper- then lower-case to the same single code point fold together, which is
 * Unicode simple case folding as Go's `unicode.SimpleFold` walks it.
 */
function caseOrbits(): Map<number, number[]> {
  if (orbits) return orbits;
  const groups = new Map<string, number[]>();
  // Only code points that some case mapping changes can have variants; the engine lists them.
  // Built lazily: only a regex with case-insensitive parts next to case-sensitive ones needs it.
  const chunks: string[] = [];
  for (let lo = 0; lo <= 0x1ffff; lo += 4096) {
    const cps: number[] = [];
    for (let cp = lo; cp < lo + 4096; cp++) if (cp < 0xd800 || cp > 0xdfff) cps.push(cp);
    chunks.push(String.fromCodePoint(...cps));
  }
  for (const [c] of chunks.join('').matchAll(/\p{Changes_When_Casemapped}/gu)) {
    const upper = c.toUpperCase();
    const key = [...upper].length === 1 ? upper.toLowerCase() : c.toLowerCase();
    if ([...key].length !== 1) continue;
    const cp = c.codePointAt(0) ?? 0;
    const group = groups.get(key);
    if (group) group.push(cp);
    else groups.set(key, [cp]);
  }
  orbits = new Map();
  for (const group of groups.values()) if (group.length > 1) for (const cp of group) orbits.set(cp, group);
  return orbits;
}

/** The ranges plus every case variant of what they contain (RE2's `appendFoldedRange`). */
export function foldRanges(ranges: Ranges): Ranges {
  const out: Ranges = [...ranges];
  const all = caseOrbits();
  const add = (group: number[] | undefined) => group?.forEach((member) => out.push([member, member]));
  for (const [lo, hi] of ranges) {
    if (hi - lo < all.size) for (let cp = lo; cp <= hi; cp++) add(all.get(cp));
    else for (const [cp, group] of all) if (cp >= lo && cp <= hi) add(group);
  }
  return normalize(out);
}

/** True when the code point has case variants. */
export function hasCase(cp: number): boolean {
  return caseOrbits().has(cp);
}

/** One code point as a JS `u`-mode literal that is safe in and out of classes. */
export function jsChar(cp: number): string {
  if ((cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a) || cp === 0x5f) return String.fromCodePoint(cp);
  return `\\u{${cp.toString(16)}}`;
}

/** A JS class: `[...]`, or `[^...]` when negated; `props` are JS property escapes kept as written. */
export function jsClass(ranges: Ranges, props: readonly string[], negated: boolean): string {
  const body = normalize(ranges)
    .map(([lo, hi]) => (lo === hi ? jsChar(lo) : hi === lo + 1 ? jsChar(lo) + jsChar(hi) : `${jsChar(lo)}-${jsChar(hi)}`))
    .join('');
  return `[${negated ? '^' : ''}${body}${props.join('')}]`;
}
