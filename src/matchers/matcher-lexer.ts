/**
 * The lexer of Alertmanager's UTF-8 matcher parser (`matcher/parse/lexer.go`), ported so that
 * tokens, positions and error messages are the same. Columns count code points, as Go counts runes.
 */

export type TokenKind = 'eof' | '{' | '}' | ',' | '=' | '!=' | '=~' | '!~' | 'quoted' | 'unquoted';

export interface Token {
  readonly kind: TokenKind;
  /** The token's text as written (quotes and escapes included). */
  readonly value: string;
  readonly columnStart: number;
  readonly columnEnd: number;
}

const EOF = -1;
/** Go's `unicode.IsSpace`: Latin-1 spaces (with U+0085) and Unicode White_Space; not U+FEFF as JS's `\s`. */
const SPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/u;

export function isSpace(c: string): boolean {
  return SPACE.test(c);
}

/** Characters that end an unquoted token. */
export function isReserved(c: string): boolean {
  return isSpace(c) || '{}!=~,\\"\'`'.includes(c);
}

export class MatcherLexer {
  private err: Error | undefined;
  private start = 0; // index of the current token (UTF-16 units)
  private pos = 0; // cursor (UTF-16 units)
  private width = 0; // width of the last code point
  private column = 0; // column of the current token (code points)
  private cols = 0; // code points read so far

  constructor(readonly input: string) {}

  /** The next token, `eof` once the input is used up; after an error, that error again. */
  scan(): Token {
    if (this.err) throw this.err;
    for (let c = this.next(); c !== EOF; c = this.next()) {
      const ch = String.fromCodePoint(c);
      if (ch === '{' || ch === '}' || ch === ',') return this.emit(ch);
      if (ch === '=' || ch === '!') {
        this.rewind();
        return this.guard(() => this.scanOperator());
      }
      if (ch === '"') {
        this.rewind();
        return this.guard(() => this.scanQuoted());
      }
      if (!isReserved(ch)) {
        this.rewind();
        return this.scanUnquoted();
      }
      if (isSpace(ch)) this.skip();
      else throw (this.err = this.error(`${this.text()}: invalid input`));
    }
    return { kind: 'eof', value: '', columnStart: 0, columnEnd: 0 };
  }

  /** The next token without consuming it. */
  peek(): Token {
    const saved = [this.start, this.pos, this.width, this.column, this.cols] as const;
    try {
      return this.scan();
    } finally {
      [this.start, this.pos, this.width, this.column, this.cols] = saved;
    }
  }

  /** Column of the end of what was read so far. */
  get columnEnd(): number {
    return this.cols;
  }

  private guard(fn: () => Token): Token {
    try {
      return fn();
    } catch (err) {
      throw (this.err = err as Error);
    }
  }

  private scanOperator(): Token {
    if (this.accept('!')) {
      if (this.accept('=')) return this.emit('!=');
      if (this.accept('~')) return this.emit('!~');
      throw this.expected('=~');
    }
    if (this.accept('=')) return this.emit(this.accept('~') ? '=~' : '=');
    throw this.expected('!=');
  }

  private scanQuoted(): Token {
    this.expect('"');
    let escaped = false;
    for (let c = this.next(); c !== EOF; c = this.next()) {
      if (escaped) escaped = false;
      else if (c === 0x5c) escaped = true;
      else if (c === 0x22) {
        this.rewind();
        break;
      }
    }
    if (!this.accept('"')) throw this.error(`${this.text()}: missing end "`);
    return this.emit('quoted');
  }

  private scanUnquoted(): Token {
    for (let c = this.next(); c !== EOF; c = this.next()) {
      if (isReserved(String.fromCodePoint(c))) {
        this.rewind();
        break;
      }
    }
    return this.emit('unquoted');
  }

  private next(): number {
    if (this.pos >= this.input.length) {
      this.width = 0;
      return EOF;
    }
    const c = this.input.codePointAt(this.pos) ?? EOF;
    this.width = c > 0xffff ? 2 : 1;
    this.pos += this.width;
    this.cols++;
    return c;
  }

  private rewind(): void {
    this.pos -= this.width;
    if (this.width > 0) this.cols--;
  }

  private skip(): void {
    this.start = this.pos;
    this.column = this.cols;
  }

  private accept(valid: string): boolean {
    const c = this.next();
    if (c !== EOF && valid.includes(String.fromCodePoint(c))) return true;
    this.rewind();
    return false;
  }

  private expect(valid: string): void {
    if (!this.accept(valid)) throw this.expected(valid);
  }

  private emit(kind: TokenKind): Token {
    const token = { kind, value: this.text(), columnStart: this.column, columnEnd: this.cols };
    this.start = this.pos;
    this.column = this.cols;
    return token;
  }

  private text(): string {
    return this.input.slice(this.start, this.pos);
  }

  private expected(valid: string): Error {
    if (this.pos >= this.input.length) return this.error(`unexpected end of input, expected one of '${valid}'`);
    return this.error(`${this.text()}: expected one of '${valid}'`);
  }

  private error(message: string): Error {
    return new Error(`${this.column}:${this.cols}: ${message}`);
  }
}
