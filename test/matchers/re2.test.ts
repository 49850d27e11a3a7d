import { expect } from 'chai';
import { compileRe2, Re2SyntaxError, translateRe2 } from '../../src/matchers/re2.js';
import { parseMatchers } from '../../src/matchers/matchers.js';
import { seededRandom } from '../helpers/random.js';

/** As Alertmanager compiles a matcher regex: anchored, `^(?:re)$`. */
const anchored = (re: string) => compileRe2(`^(?:${re})$`);

describe('Go RE2 syntax, translated to a JS RegExp', () => {
  // [pattern, value, does Go's regexp.MatchString("^(?:pattern)$", value) match]
  const semantics: Array<[string, string, boolean]> = [
    // inline flags, scoped as in Go
    ['(?i)crit.*', 'CRITICAL', true],
    ['(?i)crit.*', 'warning', false],
    ['foo(?i)bar', 'fooBAR', true],
    ['foo(?i)bar', 'FOObar', false],
    ['(?i:a)B', 'AB', true],
    ['(?i:a)B', 'Ab', false],
    ['a(?i)b|c', 'C', true], // a flag lasts to the end of its group, across "|"
    ['(?i)a(?-i)b', 'Ab', true],
    ['(?i)a(?-i)b', 'AB', false],
    ['(?i)k', '\u212a', true], // KELVIN SIGN folds to k, as in Go
    ['x(?i)k', 'x\u212a', true],
    ['x(?i)[k-l]', 'xL', true],
    ['x(?i)[^k]', 'xK', false],
    ['(?s).', '\n', true],
    ['.', '\n', false],
    ['.', '\r', true], // only \n is special to RE2's dot
    ['.', '\u2028', true],
    ['.', '🙂', true], // one code point, not one UTF-16 unit
    ['(?m)a$\\n^b', 'a\nb', true],
    ['a$\\n^b', 'a\nb', false],
    ['(?U)a+', 'aaa', true],
    ['(?Ui)A+?', 'aaa', true],
    // escapes and classes
    ['db-\\d+', 'db-12', true],
    ['\\d', '٣', false], // ASCII digits only
    ['\\s', '\u00a0', false], // ASCII spaces only
    ['\\s', '\v', false],
    ['\\S', '\u00a0', true],
    ['\\w+', 'héllo', false],
    ['[[:alpha:]]+', 'abcXYZ', true],
    ['[[:alpha:]]', '1', false],
    ['[[:^alpha:]]', '1', true],
    ['[[:digit:][:upper:]]+', 'A1B2', true],
    ['[[:space:]]', '\v', true],
    ['[[:word:]]+', 'a_1', true],
    ['\\Qa.b\\E', 'a.b', true],
    ['\\Qa.b\\E', 'axb', false],
    ['a\\z', 'a', true],
    ['\\Aa', 'a', true],
    ['\\x41\\x{1F642}\\101\\0', 'A🙂A\0', true],
    ['\\.\\-\\_\\~\\/', '.-_~/', true],
    ['\\pL+', 'héllo', true],
    ['\\p{Greek}+', 'αβγ', true],
    ['\\PL', 'a', false],
    ['\\p{^L}', '1', true],
    ['[\\p{Lu}\\d]+', 'A1', true],
    ['a{2}', 'aa', true],
    ['a{2,}', 'aaaa', true],
    ['a{,2}', 'a{,2}', true], // not a repeat: literal text
    ['a{01}', 'a{01}', true], // leading zeros: literal too
    ['{}', '{}', true],
    [']', ']', true],
    ['[]a]', ']', true],
    ['[a-]', '-', true],
    ['[a-b-c]', '-', true],
    ['(?P<name>a)(?<other>b)', 'ab', true],
    ['^*a', 'a', true],
    ['a*(?i)*', 'aa', true],
    ['', '', true],
    ['a|', '', true],
    ['(?)', '', true],
    ['critical|warning', 'critical', true],
    ['crit', 'critical', false], // anchored at both ends
  ];
  for (const [pattern, value, matches] of semantics) {
    it(`${pattern} ${matches ? 'matches' : 'does not match'} ${JSON.stringify(value)}`, () => {
      expect(anchored(pattern).test(value)).to.equal(matches);
    });
  }

  // Go's regexp/syntax parse_test.go: invalidRegexps, and onlyPOSIX (invalid with Perl flags, as Alertmanager compiles)
  const invalidInGo = [
    '(', ')', '(a', 'a)', '(a))', '(a|b|', 'a|b|)', '(a|b|))', '(a|b', 'a|b)', '(a|b))', '[a-z', '([a-z)', '[a-z)', '([a-z]))',
    'x{1001}', 'x{9876543210}', 'x{2,1}', 'x{1,9876543210}', '(?P<name>a', '(?P<name>', '(?P<name', '(?P<x y>a)', '(?P<>a)',
    '(?<name>a', '(?<name>', '(?<name', '(?<x y>a)', '(?<>a)', '[a-Z]', '(?i)[a-Z]', '\\Q\\E*', 'a{100000}', 'a{100000,}',
    '((((((((((x{2}){2}){2}){2}){2}){2}){2}){2}){2}){2})', '(?:[a-z]{4}){0,251}', '('.repeat(1000) + ')'.repeat(1000),
    'a++', 'a**', 'a?*', 'a+*', 'a{1}*', '.{1}{2}.{3}',
  ];
  for (const pattern of invalidInGo) {
    it(`rejects ${pattern.length > 40 ? `${pattern.slice(0, 40)}…` : pattern} as Go does`, () => {
      expect(() => compileRe2(pattern)).to.throw(Re2SyntaxError, /^error parsing regexp: /);
    });
  }
  const onlyPerl = ['[a-b-c]', '\\Qabc\\E', '\\Q*+?{[\\E', '\\Q\\\\E', '\\Q\\\\\\E', '\\Q\\\\\\\\E', '\\Q\\\\\\\\\\E', '(?:a)', '(?P<name>a)'];
  for (const pattern of onlyPerl) {
    it(`accepts ${pattern} as Go does with Perl flags`, () => {
      expect(() => compileRe2(pattern)).not.to.throw();
    });
  }

  // What RE2 lacks and JS has: a config error here, with Go's wording (and why)
  const rejected: Array<[string, string]> = [
    ['a(?!b)', 'error parsing regexp: invalid or unsupported Perl syntax: `(?!` (RE2 has no lookahead or lookbehind)'],
    ['a(?=b)', 'error parsing regexp: invalid or unsupported Perl syntax: `(?=` (RE2 has no lookahead or lookbehind)'],
    ['(?<=a)b', 'error parsing regexp: invalid or unsupported Perl syntax: `(?<` (RE2 has no lookahead or lookbehind)'],
    ['(?<!a)b', 'error parsing regexp: invalid or unsupported Perl syntax: `(?<` (RE2 has no lookahead or lookbehind)'],
    ['(a)\\1', 'error parsing regexp: invalid escape sequence: `\\1` (RE2 has no backreferences)'],
    ['(?<n>a)\\k<n>', 'error parsing regexp: invalid escape sequence: `\\k` (RE2 has no backreferences)'],
    ['(?P<n>a)(?P=n)', 'error parsing regexp: invalid or unsupported Perl syntax: `(?P` (RE2 has no backreferences)'],
    ['(?>a)', 'error parsing regexp: invalid or unsupported Perl syntax: `(?>`'],
    ['a*+', 'error parsing regexp: invalid nested repetition operator: `*+`'],
    ['a\\Z', 'error parsing regexp: invalid escape sequence: `\\Z`'],
    ['\\G', 'error parsing regexp: invalid escape sequence: `\\G`'],
    ['\\C', 'error parsing regexp: invalid escape sequence: `\\C`'],
    ['\\e', 'error parsing regexp: invalid escape sequence: `\\e`'],
    ['\\u0041', 'error parsing regexp: invalid escape sequence: `\\u`'],
    ['[\\b]', 'error parsing regexp: invalid escape sequence: `\\b`'],
    ['[[:foo:]]', 'error parsing regexp: invalid character class range: `[:foo:]`'],
    ['[[:constructor:]]', 'error parsing regexp: invalid character class range: `[:constructor:]`'],
    ['\\p{Foo}', 'error parsing regexp: invalid character class range: `\\p{Foo}`'],
    ['*a', 'error parsing regexp: missing argument to repetition operator: `*`'],
    ['(?i)(?i', 'error parsing regexp: invalid or unsupported Perl syntax: `(?i`'],
    ['(?-)', 'error parsing regexp: invalid or unsupported Perl syntax: `(?-)`'],
    ['a\ud800', 'error parsing regexp: invalid UTF-8: `a\ud800`'],
  ];
  for (const [pattern, message] of rejected) {
    it(`rejects ${pattern}: ${message}`, () => {
      expect(() => compileRe2(pattern)).to.throw(Re2SyntaxError).with.property('message', message);
    });
  }

  it("reports errors on the anchored pattern, as Alertmanager's own message shows it", () => {
    expect(() => anchored('invalid[regexp')).to.throw('error parsing regexp: missing closing ]: `[regexp)$`');
    // \Q without \E quotes the rest, Alertmanager's closing ")$" included
    expect(() => anchored('\\Qa.b')).to.throw('error parsing regexp: missing closing ): `^(?:\\Qa.b)$`');
  });

  it('uses one JS "i" flag when (?i) covers every cased part, and spells out case folding otherwise', () => {
    expect(translateRe2('^(?:(?i)crit.*)$').flags).to.equal('ui');
    expect(translateRe2('^(?:[0-9]+(?i)ab)$').flags).to.equal('u');
    expect(translateRe2('^(?:foo(?i)bar)$').source).to.include('[Bb][Aa][Rr]');
    expect(translateRe2('^(?:crit)$').flags).to.equal('u');
  });

  it('refuses a \\p class inside a partly case-insensitive regex rather than guess its folding', () => {
    expect(() => anchored('a(?i)\\p{Lu}')).to.throw(Re2SyntaxError, /only when \(\?i\) covers the whole regex/);
    expect(anchored('(?i)\\p{Lu}').test('a')).to.equal(true);
  });

  it('never lets V8 see a pattern it cannot compile: random patterns give a RegExp or a Re2SyntaxError', () => {
    const random = seededRandom(20);
    const pieces = ['a', 'K', 'ſ', '🙂', '.', '^', '$', '|', '(', ')', '(?:', '(?i)', '(?-i:', '(?s', '(?P<n>', '(?<', '(?=', '[', ']', '[^', '-', '{', '}', '{2}',
      '{1,3}', ',', '*', '+', '?', '\\', '\\d', '\\W', '\\pL', '\\P{Greek}', '\\Q', '\\E', '\\x{41}', '\\1', '\\b', '[:alpha:]', '[:^digit:]', ':', '#', '/', ' '];
    let compiled = 0;
    for (let n = 0; n < 1000; n++) {
      const pattern = Array.from({ length: 1 + Math.floor(random() * 8) }, () => pieces[Math.floor(random() * pieces.length)]).join('');
      try {
        const re = anchored(pattern);
        re.test('aK🙂');
        compiled++;
      } catch (err) {
        expect(err, pattern).to.be.instanceOf(Re2SyntaxError);
      }
      // and the whole matcher parser around it never throws anything but its own errors
      expect(() => {
        try {
          parseMatchers(`x=~"${pattern.replace(/["\\]/g, (c) => `\\${c}`)}"`);
        } catch (err) {
          if (!/^bad matcher /.test((err as Error).message)) throw err;
        }
      }, pattern).not.to.throw();
    }
    expect(compiled).to.be.greaterThan(100);
  });
});
