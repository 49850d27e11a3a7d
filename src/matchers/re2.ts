import { complement, foldRanges, jsChar, jsClass, normalize, PERL_CLASSES, POSIX_CLASSES, type Ranges } from './re2-class.js';

/*
 * Go RE2 syntax (`regexp/syntax`, Perl flags, as Alertmanager compiles matcher regexes) checked
 * and translated to a JS RegExp with the `u` flag.
 *
 * Why a translation and not the `re2` npm package (native RE2): its releases since 1.24 declare
 * Node >= 22 (Node 20 would pin an old native build); where GitHub is out of reach (air-gapped
 * builders, this project's sandbox) its install compiles RE2 and Abseil from source with a C++
 * toolchain, which takes many minutes and makes `npm ci` and image builds slow; and npm now asks
 * to approve such install scripts. The translation is checked against Go's own regexp (amtool)
 * in test/matchers/re2-amtool.test.ts. What a
 * translation must give is RE2's language: what RE2 rejects is rejected here (lookaround,
 * backreferences, `\Z`, possessive or stacked repeats, counts over 1000, unknown escapes),
 * and RE2's meanings are spelled out for V8: `(?i)` `(?m)` `(?s)` `(?U)` flag groups (scoped
 * as in Go), `.` not matching `\n` only, ASCII `\d \s \w`, POSIX classes, `\Q...\E`, `\z`,
 * `\x{...}`, octal escapes, `\pL` and scripts. Matching is a boolean over the whole value, so a
 * backtracking engine gives RE2's answers; what it does not give is RE2's linear time, which
 * is why matcher regexes come only from the operator's configuration.
 */

export class Re2SyntaxError extends Error {}

interface Flags {
  i: boolean;
  m: boolean;
  s: boolean;
  U: boolean;
}

interface Atom {
  js: string;
  quantified: boolean;
  /** Product of the counted repeats (`{n,m}`) inside; RE2 allows at most 1000. */
  weight?: number;
}

/** Compile a Go RE2 pattern to an equivalent JS RegExp; throws Re2SyntaxError with Go's message. */
export function compileRe2(pattern: string): RegExp {
  const { source, flags } = translateRe2(pattern);
  return new RegExp(source, flags);
}

/** The JS source and flags of a Go RE2 pattern. */
export function translateRe2(pattern: string): { source: string; flags: string } {
  const probe = new Translator(pattern, 'probe');
  probe.run();
  // One JS `i` flag when every cased atom is case-insensitive (the usual leading `(?i)`);
  // otherwise the case-insensitive parts are spelled out as case-folded classes.
  const mode = probe.cased.insensitive > 0 && probe.cased.sensitive === 0 ? 'global-i' : 'local-i';
  const source = mode === 'local-i' && probe.cased.insensitive === 0 ? probe.output : new Translator(pattern, mode).run();
  return { source, flags: mode === 'global-i' ? 'ui' : 'u' };
}

const LOCAL_I_PROPS = ' (alertmux: \\p classes under (?i) only when (?i) covers the whole regex)';
const GENERAL_CATEGORIES = new Set(
  'C Cc Cf Co Cs L Ll Lm Lo Lt Lu M Mc Me Mn N Nd Nl No P Pc Pd Pe Pf Pi Po Ps S Sc Sk Sm So Z Zl Zp Zs'.split(' '),
);

class Translator {
  private readonly chars: string[];
  private i = 0;
  output = '';
  readonly cased = { sensitive: 0, insensitive: 0 };

  constructor(
    pattern: string,
    private readonly mode: 'probe' | 'global-i' | 'local-i',
  ) {
    this.chars = [...pattern];
    if (this.chars.some((c) => /\p{Cs}/u.test(c))) throw this.error('invalid UTF-8', pattern);
  }

  run(): string {
    this.output = this.alternation({ i: false, m: false, s: false, U: false }, 0).js;
    if (this.i < this.chars.length) throw this.error('unexpected )', this.chars.join(''));
    return this.output;
  }

  private get rest(): string {
    return this.chars.slice(this.i).join('');
  }

  private error(code: string, expr: string, hint = ''): Re2SyntaxError {
    return new Re2SyntaxError(`error parsing regexp: ${code}: \`${expr}\`${hint}`);
  }

  /** Alternatives up to an unmatched `)` or the end; `flags` changes by `(?i)` last to the group's end. */
  private alternation(outer: Flags, depth: number): { js: string; weight: number } {
    if (depth >= 1000) throw this.error('expression nests too deeply', this.chars.join(''));
    const flags = { ...outer };
    const branches: string[] = [];
    let atoms: Atom[] = [];
    let weight = 1;
    let lastRepeat = -1; // start of the previous repetition operator, if the last item was one
    while (this.i < this.chars.length) {
      const c = this.chars[this.i] ?? '';
      const start = this.i;
      let repeated = false;
      if (c === ')') break;
      if (c === '|') {
        this.i++;
        branches.push(atoms.map((a) => a.js).join(''));
        weight = Math.max(weight, ...atoms.map((a) => a.weight ?? 1));
        atoms = [];
      } else if (c === '(') {
        const group = this.group(flags, depth);
        if (group !== undefined) atoms.push({ js: group.js, quantified: false, weight: group.weight });
      } else if (c === '*' || c === '+' || c === '?' || (c === '{' && this.repeatAt(this.i))) {
        this.repeat(atoms, flags, lastRepeat);
        repeated = true;
      } else if (c === '[') atoms.push({ js: this.charClass(flags), quantified: false });
      else if (c === '.') {
        this.i++;
        atoms.push({ js: flags.s ? '[^]' : '[^\\n]', quantified: false });
      } else if (c === '^') {
        this.i++;
        atoms.push({ js: flags.m ? '(?:(?<![^\\n]))' : '(?:^)', quantified: false });
      } else if (c === '$') {
        this.i++;
        atoms.push({ js: flags.m ? '(?:(?![^\\n]))' : '(?:$)', quantified: false });
      } else if (c === '\\') atoms.push(...this.escapeAtoms(flags));
      else {
        this.i++;
        atoms.push({ js: this.literal(c.codePointAt(0) ?? 0, flags), quantified: false });
      }
      lastRepeat = repeated ? start : -1;
    }
    branches.push(atoms.map((a) => a.js).join(''));
    weight = Math.max(weight, ...atoms.map((a) => a.weight ?? 1));
    return { js: branches.join('|'), weight };
  }

  /** `(...)`: a group, or a flag change (returns undefined). */
  private group(flags: Flags, depth: number): { js: string; weight: number } | undefined {
    const start = this.i;
    this.i++;
    if (this.chars[this.i] === '?') {
      const next = this.chars[this.i + 1];
      const named = next === 'P' && this.chars[this.i + 2] === '<' ? 3 : next === '<' && !'=!'.includes(this.chars[this.i + 2] ?? '') ? 2 : 0;
      if (named) {
        this.i += named;
        const end = this.chars.indexOf('>', this.i);
        const name = end < 0 ? '' : this.chars.slice(this.i, end).join('');
        if (end < 0 || !/^[A-Za-z0-9_]+$/.test(name)) throw this.error('invalid named capture', this.chars.slice(start, end < 0 ? undefined : end + 1).join(''));
        this.i = end + 1;
        return this.closeGroup(flags, depth);
      }
      return this.flagGroup(flags, depth, start);
    }
    return this.closeGroup(flags, depth);
  }

  private closeGroup(flags: Flags, depth: number): { js: string; weight: number } {
    const inner = this.alternation(flags, depth + 1);
    if (this.chars[this.i] !== ')') throw this.error('missing closing )', this.chars.join(''));
    this.i++;
    return { js: `(?:${inner.js})`, weight: inner.weight };
  }

  /** `(?flags)` or `(?flags:re)`, as Go's `parsePerlFlags`. */
  private flagGroup(flags: Flags, depth: number, start: number): { js: string; weight: number } | undefined {
    this.i++; // past "?"
    const set = { ...flags };
    let sign = true;
    let sawFlag = false;
    while (this.i < this.chars.length) {
      const c = this.chars[this.i++] ?? '';
      if (c === 'i' || c === 'm' || c === 's' || c === 'U') {
        set[c] = sign;
        sawFlag = true;
      } else if (c === '-' && sign) {
        sign = false;
        sawFlag = false;
      } else if ((c === ':' || c === ')') && (sign || sawFlag)) {
        if (c === ')') {
          Object.assign(flags, set);
          return undefined;
        }
        return this.closeGroup(set, depth);
      } else break;
    }
    const expr = this.chars.slice(start, this.i).join('');
    const ahead = this.chars.slice(start, start + 4).join('');
    const hint = /^\(\?<?[=!]/.test(ahead) ? ' (RE2 has no lookahead or lookbehind)' : ahead === '(?P=' ? ' (RE2 has no backreferences)' : '';
    throw this.error('invalid or unsupported Perl syntax', expr, hint);
  }

  /** Whether `{` at `at` starts a valid `{n}`, `{n,}` or `{n,m}` (otherwise it is a literal). */
  private repeatAt(at: number): { min: number; max: number; end: number } | undefined {
    const m = /^\{(\d+)(,(\d*))?\}/.exec(this.chars.slice(at, at + 40).join(''));
    if (!m) return undefined;
    const noLeadingZero = (s: string | undefined) => s === undefined || s === '' || s.length === 1 || s[0] !== '0';
    if (!noLeadingZero(m[1]) || !noLeadingZero(m[3])) return undefined;
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === '' ? -1 : Number(m[3]);
    return { min, max, end: at + [...m[0]].length };
  }

  private repeat(atoms: Atom[], flags: Flags, lastRepeat: number): void {
    const start = this.i;
    const c = this.chars[this.i] ?? '';
    let op = c;
    let count: number | undefined;
    if (c === '{') {
      const r = this.repeatAt(this.i);
      if (!r) return;
      this.i = r.end;
      op = this.chars.slice(start, r.end).join('');
      if (r.min > 1000 || r.max > 1000 || (r.max >= 0 && r.min > r.max)) throw this.error('invalid repeat count', op);
      count = r.max < 0 ? r.min : r.max;
    } else this.i++;
    let lazy = flags.U;
    if (this.chars[this.i] === '?') {
      this.i++;
      lazy = !lazy;
    }
    if (lastRepeat >= 0) throw this.error('invalid nested repetition operator', this.chars.slice(lastRepeat, this.i).join(''));
    const atom = atoms.at(-1);
    if (!atom) throw this.error('missing argument to repetition operator', this.chars.slice(start, this.i).join(''));
    // RE2 bounds the copies of the innermost thing a nest of counted repeats makes.
    if (count !== undefined && count > 0) {
      atom.weight = count * (atom.weight ?? 1);
      if (atom.weight > 1000) throw this.error('invalid repeat count', op);
    }
    const base = atom.quantified ? `(?:${atom.js})` : atom.js;
    atom.js = `${base}${op}${lazy ? '?' : ''}`;
    atom.quantified = true;
  }

  /** A backslash outside a class: assertions, classes, `\Q...\E` or one escaped character. */
  private escapeAtoms(flags: Flags): Atom[] {
    const c = this.chars[this.i + 1];
    if (c === undefined) throw this.error('trailing backslash at end of expression', '');
    const assertion = { A: '(?:^)', z: '(?:$)', b: '(?:\\b)', B: '(?:\\B)' }[c];
    if (assertion) {
      this.i += 2;
      return [{ js: assertion, quantified: false }];
    }
    if (c === 'Q') {
      const rest = this.chars.slice(this.i + 2);
      const end = rest.findIndex((ch, k) => ch === '\\' && rest[k + 1] === 'E');
      const lit = end < 0 ? rest : rest.slice(0, end);
      this.i += 2 + lit.length + (end < 0 ? 0 : 2);
      return lit.map((ch) => ({ js: this.literal(ch.codePointAt(0) ?? 0, flags), quantified: false }));
    }
    const group = this.classEscape();
    if (group) return [{ js: this.classJs(group, flags), quantified: false }];
    return [{ js: this.literal(this.escapedChar(), flags), quantified: false }];
  }

  /** `\d \s \w` (and negations) or `\pL`, `\p{Greek}`, `\PL`, `\p{^Greek}` at the cursor, if there. */
  private classEscape(): { ranges: Ranges; props: string[]; negated: boolean } | undefined {
    const c = this.chars[this.i + 1] ?? '';
    const perl = PERL_CLASSES[c.toLowerCase()];
    if (perl && 'dswDSW'.includes(c)) {
      this.i += 2;
      return { ranges: perl, props: [], negated: c !== c.toLowerCase() };
    }
    if (c !== 'p' && c !== 'P') return undefined;
    const start = this.i;
    let name: string;
    if (this.chars[this.i + 2] === '{') {
      const end = this.chars.indexOf('}', this.i + 3);
      if (end < 0) throw this.error('invalid character class range', this.chars.slice(start).join(''));
      name = this.chars.slice(this.i + 3, end).join('');
      this.i = end + 1;
    } else {
      name = this.chars[this.i + 2] ?? '';
      if (!name) throw this.error('invalid character class range', this.chars.slice(start).join(''));
      this.i += 3;
    }
    let negated = c === 'P';
    if (name.startsWith('^')) {
      negated = !negated;
      name = name.slice(1);
    }
    const expr = this.chars.slice(start, this.i).join('');
    if (name === 'Any') return { ranges: [[0, 0x10ffff]], props: [], negated };
    const prop = `\\${negated ? 'P' : 'p'}{${GENERAL_CATEGORIES.has(name) ? name : `Script=${name}`}}`;
    if (!/^[A-Za-z_]+$/.test(name) || !validProperty(prop)) throw this.error('invalid character class range', expr);
    return { ranges: [], props: [prop], negated: false };
  }

  /** One escaped character (`\n`, `\x{263a}`, `\101`, `\.`), as Go's `parseEscape`. */
  private escapedChar(): number {
    const start = this.i;
    const c = this.chars[this.i + 1] ?? '';
    this.i += 2;
    const bad = (hint = '') => this.error('invalid escape sequence', this.chars.slice(start, this.i).join(''), hint);
    const simple = { a: 7, f: 12, t: 9, n: 10, r: 13, v: 11 }[c];
    if (simple !== undefined) return simple;
    if (c >= '1' && c <= '7' && !/[0-7]/.test(this.chars[this.i] ?? '')) throw bad(' (RE2 has no backreferences)');
    if (c >= '0' && c <= '7') {
      let v = Number(c);
      for (let k = 1; k < 3 && /[0-7]/.test(this.chars[this.i] ?? ''); k++) v = v * 8 + Number(this.chars[this.i++]);
      return v;
    }
    if (c === 'x') {
      if (this.chars[this.i] === '{') {
        const end = this.chars.indexOf('}', this.i);
        const hex = end < 0 ? '' : this.chars.slice(this.i + 1, end).join('');
        this.i = end < 0 ? this.chars.length : end + 1;
        if (!/^[0-9a-fA-F]{1,8}$/.test(hex) || parseInt(hex, 16) > 0x10ffff) throw bad();
        return parseInt(hex, 16);
      }
      const hex = this.chars.slice(this.i, this.i + 2).join('');
      this.i += 2;
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw bad();
      return parseInt(hex, 16);
    }
    const cp = c.codePointAt(0) ?? 0;
    if (cp < 0x80 && !/[0-9A-Za-z]/.test(c)) return cp;
    throw bad(c === 'k' || c === 'g' ? ' (RE2 has no backreferences)' : '');
  }

  /** `[...]`, as Go's `parseClass`. */
  private charClass(flags: Flags): string {
    const start = this.i;
    this.i++;
    let negated = false;
    if (this.chars[this.i] === '^') {
      negated = true;
      this.i++;
    }
    const ranges: Ranges = [];
    const props: string[] = [];
    const missing = () => this.error('missing closing ]', this.chars.slice(start).join(''));
    const fold = (r: Ranges) => (flags.i && this.mode === 'local-i' ? foldRanges(r) : r);
    let first = true;
    while (this.i >= this.chars.length || this.chars[this.i] !== ']' || first) {
      if (this.i >= this.chars.length) throw missing();
      first = false;
      if (this.chars[this.i] === '[' && this.chars[this.i + 1] === ':') {
        const rest = this.chars.slice(this.i + 2);
        const end = rest.findIndex((ch, k) => ch === ':' && rest[k + 1] === ']');
        if (end >= 0) {
          let name = rest.slice(0, end).join('');
          const expr = `[:${name}:]`;
          const neg = name.startsWith('^');
          if (neg) name = name.slice(1);
          const group = POSIX_CLASSES[name];
          if (!group || !Object.hasOwn(POSIX_CLASSES, name)) throw this.error('invalid character class range', expr);
          ranges.push(...(neg ? complement(fold(group)) : fold(group)));
          this.i += 2 + end + 2;
          continue;
        }
      }
      if (this.chars[this.i] === '\\') {
        const group = this.classEscape();
        if (group) {
          ranges.push(...(group.negated ? complement(fold(group.ranges)) : fold(group.ranges)));
          props.push(...group.props);
          continue;
        }
      }
      const rangeStart = this.i;
      const lo = this.classChar(missing);
      let hi = lo;
      if (this.chars[this.i] === '-' && this.i + 1 < this.chars.length && this.chars[this.i + 1] !== ']') {
        this.i++;
        hi = this.classChar(missing);
        if (hi < lo) throw this.error('invalid character class range', this.chars.slice(rangeStart, this.i).join(''));
      }
      ranges.push(...fold([[lo, hi]]));
    }
    this.i++; // past "]"
    if (this.mode === 'probe') this.cased[flags.i ? 'insensitive' : 'sensitive']++;
    if (flags.i && this.mode === 'local-i' && props.length) {
      throw this.error('invalid or unsupported Perl syntax', this.chars.slice(start, this.i).join(''), LOCAL_I_PROPS);
    }
    return jsClass(normalize(ranges), props, negated);
  }

  private classChar(missing: () => Re2SyntaxError): number {
    const c = this.chars[this.i];
    if (c === undefined) throw missing();
    if (c === '\\') return this.escapedChar();
    this.i++;
    return c.codePointAt(0) ?? 0;
  }

  /** A class from an escape outside brackets (`\d`, `\PL`). */
  private classJs(group: { ranges: Ranges; props: string[]; negated: boolean }, flags: Flags): string {
    if (this.mode === 'probe') this.cased[flags.i ? 'insensitive' : 'sensitive']++;
    const local = flags.i && this.mode === 'local-i';
    if (local && group.props.length) throw this.error('invalid or unsupported Perl syntax', group.props.join(''), LOCAL_I_PROPS);
    return jsClass(local ? foldRanges(group.ranges) : group.ranges, group.props, group.negated);
  }

  private literal(cp: number, flags: Flags): string {
    const ch = String.fromCodePoint(cp);
    const cased = ch.toLowerCase() !== ch.toUpperCase();
    if (this.mode === 'probe' && cased) this.cased[flags.i ? 'insensitive' : 'sensitive']++;
    if (!flags.i || this.mode !== 'local-i' || !cased) return jsChar(cp);
    const folded = foldRanges([[cp, cp]]);
    return folded.length === 1 && folded[0]?.[0] === folded[0]?.[1] ? jsChar(cp) : jsClass(folded, [], false);
  }
}

function validProperty(prop: string): boolean {
  try {
    new RegExp(prop, 'u');
    return true;
  } catch {
    return false;
  }
}
