import { MatcherLexer, type Token, type TokenKind } from './matcher-lexer.js';

export type MatchOp = '=' | '!=' | '=~' | '!~';

/** One parsed matcher, before its regex (if any) is compiled. */
export interface MatcherSpec {
  readonly name: string;
  readonly op: MatchOp;
  readonly value: string;
}

/**
 * Parse one config entry the way Alertmanager parses a `matchers:` line by default
 * (`matcher/compat`, fallback mode): with the UTF-8 parser (`matcher/parse`); when that rejects
 * the input, with the classic parser (`pkg/labels`), which keeps unknown escapes such as `\d`
 * literal; and when both accept it but disagree, the classic result wins. When both reject it,
 * the UTF-8 parser's error is reported (it names the column). `classic` says the classic
 * parser decided, which Alertmanager logs as a warning.
 */
export function parseMatcherEntry(input: string): { matchers: MatcherSpec[]; classic: boolean } {
  let utf8: MatcherSpec[] | undefined;
  let utf8Error: Error | undefined;
  try {
    utf8 = parseUtf8Matchers(input);
  } catch (err) {
    utf8Error = err as Error;
  }
  let classic: MatcherSpec[] | undefined;
  try {
    classic = parseClassicMatchers(input);
  } catch {
    classic = undefined;
  }
  if (utf8 === undefined) {
    if (classic === undefined) throw utf8Error ?? new Error('invalid matchers');
    return { matchers: classic, classic: true };
  }
  if (classic !== undefined && !sameSpecs(utf8, classic)) return { matchers: classic, classic: true };
  return { matchers: utf8, classic: false };
}

function sameSpecs(a: readonly MatcherSpec[], b: readonly MatcherSpec[]): boolean {
  return a.length === b.length && a.every((m, i) => m.name === b[i]?.name && m.op === b[i]?.op && m.value === b[i]?.value);
}

const OPERATORS: readonly TokenKind[] = ['=', '!=', '=~', '!~'];
const TEXT: readonly TokenKind[] = ['quoted', 'unquoted'];

/**
 * Alertmanager's UTF-8 matcher parser (`matcher/parse/parse.go`): an optional `{...}`, matchers
 * separated by commas (a trailing comma allowed), label names and values unquoted (any text
 * without spaces or `{}!=~,\"'` and backquote) or double-quoted with Go string escapes.
 * Error messages are Alertmanager's.
 */
export function parseUtf8Matchers(input: string): MatcherSpec[] {
  const lexer = new MatcherLexer(input);
  const matchers: MatcherSpec[] = [];
  let hasOpenBrace = false;

  /** The next token if it is one of `kinds`; `undefined` at the end of input; otherwise an error. */
  const expectPeek = (kinds: readonly TokenKind[]): Token | undefined => {
    const t = lexer.peek();
    if (t.kind === 'eof') return undefined;
    if (!kinds.includes(t.kind)) throw new Error(`${t.columnStart}:${t.columnEnd}: unexpected ${t.value}`);
    return t;
  };
  const expect = (kinds: readonly TokenKind[], what: string): Token => {
    const t = wrap(() => expectPeek(kinds), what);
    if (!t) throw new Error(`end of input: ${what}`);
    lexer.scan();
    return t;
  };
  const wrap = <T>(fn: () => T, what: string): T => {
    try {
      return fn();
    } catch (err) {
      throw new Error(`${(err as Error).message}: ${what}`);
    }
  };

  const closeBrace = (): void => {
    const t = lexer.peek();
    if (hasOpenBrace) {
      if (t.kind !== '}') {
        const found = t.kind === 'eof' ? 'end of input' : `unexpected ${t.value}`;
        throw new Error(`0:${lexer.columnEnd}: ${found}: expected close brace`);
      }
      lexer.scan();
    } else if (t.kind === '}') {
      lexer.scan();
      throw new Error(`0:${lexer.columnEnd}: }: expected opening brace`);
    }
    const end = wrap(() => lexer.scan(), 'expected end of input');
    if (end.kind !== 'eof') throw new Error(`${end.columnStart}:${end.columnEnd}: ${end.value}: expected end of input`);
  };

  const first = lexer.peek();
  if (first.kind === 'eof') return matchers;
  if (first.kind === '{') {
    hasOpenBrace = true;
    lexer.scan();
  }
  const next = lexer.peek();
  if (next.kind === 'eof' || next.kind === '}') {
    closeBrace();
    return matchers;
  }
  for (;;) {
    const nameToken = expect(TEXT, 'expected label name');
    const name = unquoteToken(nameToken);
    const op = expect(OPERATORS, "expected an operator such as '=', '!=', '=~' or '!~'").kind as MatchOp;
    const valueToken = expect(TEXT, 'expected label value');
    matchers.push({ name, op, value: unquoteToken(valueToken) });
    const end = wrap(() => expectPeek([',', '}']), 'expected a comma or close brace');
    if (!end || end.kind === '}') break;
    lexer.scan(); // the comma
    const after = wrap(() => expectPeek(['}', ...TEXT]), 'expected a matcher or close brace after comma');
    if (!after || after.kind === '}') break;
  }
  closeBrace();
  return matchers;
}

function unquoteToken(t: Token): string {
  if (t.kind !== 'quoted') return t.value;
  const value = unquoteGo(t.value);
  if (value === undefined) throw new Error(`${t.columnStart}:${t.columnEnd}: ${t.value}: invalid input`);
  return value;
}

const SIMPLE_ESCAPES: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 0x5c, '"': 0x22 };
/** A lone surrogate: text that is not valid Unicode (Go rejects invalid UTF-8 the same way). */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Go's `strconv.Unquote` of a double-quoted string, then the UTF-8 validity check of
 * `matcher/parse`. `\x` and octal escapes are bytes (`"\xf0\x9f\x99\x82"` is one emoji);
 * a raw newline or an unknown escape (such as `\d`) is invalid. `undefined` when invalid.
 */
export function unquoteGo(quoted: string): string | undefined {
  if (quoted.length < 2 || !quoted.startsWith('"') || !quoted.endsWith('"')) return undefined;
  const body = quoted.slice(1, -1);
  const bytes: number[] = [];
  const pushText = (text: string) => bytes.push(...Buffer.from(text, 'utf8'));
  for (let i = 0; i < body.length; ) {
    const c = body[i] ?? '';
    if (c === '\n' || c === '"') return undefined;
    if (c !== '\\') {
      const cp = body.codePointAt(i) ?? 0;
      const ch = String.fromCodePoint(cp);
      if (LONE_SURROGATE.test(ch)) return undefined;
      pushText(ch);
      i += ch.length;
      continue;
    }
    const e = body[i + 1] ?? '';
    i += 2;
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) bytes.push(simple);
    else if (e === 'x' || e === 'u' || e === 'U') {
      const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = body.slice(i, i + n);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== n) return undefined;
      i += n;
      const v = parseInt(hex, 16);
      if (e === 'x') bytes.push(v);
      else if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return undefined;
      else pushText(String.fromCodePoint(v));
    } else if (e >= '0' && e <= '7') {
      const oct = body.slice(i - 1, i + 2);
      if (!/^[0-7]{3}$/.test(oct)) return undefined;
      const v = parseInt(oct, 8);
      if (v > 255) return undefined;
      bytes.push(v);
      i += 2;
    } else return undefined;
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
  } catch {
    return undefined;
  }
}

/** `pkg/labels`' classic matcher: a Prometheus label name, an operator, a value optionally in quotes. */
const CLASSIC = /^[\t\n\f\r ]*([a-zA-Z_:][a-zA-Z0-9_:]*)[\t\n\f\r ]*(=~|=|!=|!~)[\t\n\f\r ]*([\s\S]*?)[\t\n\f\r ]*$/;

/**
 * Alertmanager's classic parser (`pkg/labels.ParseMatchers`): `{` and `}` trimmed, split on
 * commas outside double quotes; in values `\"`, `\\` and `\n` are escapes and any other
 * backslash is literal.
 */
export function parseClassicMatchers(input: string): MatcherSpec[] {
  let s = input.startsWith('{') ? input.slice(1) : input;
  s = s.endsWith('}') ? s.slice(0, -1) : s;
  const tokens: string[] = [];
  let token = '';
  let insideQuotes = false;
  let escaped = false;
  for (const c of s) {
    if (c === ',' && !insideQuotes) {
      tokens.push(token);
      token = '';
      continue;
    }
    if (c === '"') {
      if (!escaped) insideQuotes = !insideQuotes;
      else escaped = false;
    } else if (c === '\\') escaped = !escaped;
    else escaped = false;
    token += c;
  }
  if (token.trim() !== '') tokens.push(token.trim());
  return tokens.map(parseClassicMatcher);
}

/** `pkg/labels.ParseMatcher`, with its error messages. */
export function parseClassicMatcher(s: string): MatcherSpec {
  const m = CLASSIC.exec(s);
  if (!m) throw new Error(`bad matcher format: ${s}`);
  const [, name = '', op = '=', raw = ''] = m;
  let rawValue = raw;
  let expectTrailingQuote = false;
  if (rawValue.startsWith('"')) {
    rawValue = rawValue.slice(1);
    expectTrailingQuote = true;
  }
  if (LONE_SURROGATE.test(rawValue)) throw new Error(`matcher value not valid UTF-8: ${raw}`);
  let value = '';
  let escaped = false;
  const chars = [...rawValue];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] ?? '';
    if (escaped) {
      escaped = false;
      value += c === 'n' ? '\n' : c === '"' || c === '\\' ? c : `\\${c}`;
    } else if (c === '\\') {
      if (i < chars.length - 1) escaped = true;
      else value += '\\';
    } else if (c === '"') {
      if (!expectTrailingQuote || i < chars.length - 1) throw new Error(`matcher value contains unescaped double quote: ${raw}`);
      expectTrailingQuote = false;
    } else value += c;
  }
  if (expectTrailingQuote) throw new Error(`matcher value contains unescaped double quote: ${raw}`);
  return { name, op: op as MatchOp, value };
}
