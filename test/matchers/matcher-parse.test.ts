import { expect } from 'chai';
import { MatcherLexer, type Token } from '../../src/matchers/matcher-lexer.js';
import { parseClassicMatchers, parseMatcherEntry, parseUtf8Matchers, unquoteGo, type MatcherSpec } from '../../src/matchers/matcher-parse.js';

// Cases from Alertmanager's own tables (matcher/parse/parse_test.go, lexer_test.go,
// matcher/compliance/compliance_test.go), with the same inputs, results and error texts.

const eq = (name: string, value: string): MatcherSpec => ({ name, op: '=', value });
const ne = (name: string, value: string): MatcherSpec => ({ name, op: '!=', value });
const re = (name: string, value: string): MatcherSpec => ({ name, op: '=~', value });
const nre = (name: string, value: string): MatcherSpec => ({ name, op: '!~', value });

describe("Alertmanager's UTF-8 matcher parser (matcher/parse)", () => {
  const valid: Array<[input: string, expected: MatcherSpec[]]> = [
    ['', []],
    ['{}', []],
    ['{foo=bar}', [eq('foo', 'bar')]],
    ['{foo=bar,}', [eq('foo', 'bar')]],
    ['{foo!=bar}', [ne('foo', 'bar')]],
    ['{foo=~[a-z]+}', [re('foo', '[a-z]+')]],
    ['{foo!~[a-z]+}', [nre('foo', '[a-z]+')]],
    ['{foo=🙂}', [eq('foo', '🙂')]],
    ['{foo=🙂bar}', [eq('foo', '🙂bar')]],
    ['foo=bar', [eq('foo', 'bar')]],
    ['foo=bar,', [eq('foo', 'bar')]],
    ['foo!=bar', [ne('foo', 'bar')]],
    ['foo=~[a-z]+', [re('foo', '[a-z]+')]],
    ['foo!~[a-z]+', [nre('foo', '[a-z]+')]],
    ['{"foo"="bar"}', [eq('foo', 'bar')]],
    ['{"foo"="bar",}', [eq('foo', 'bar')]],
    ['{"foo"!="bar"}', [ne('foo', 'bar')]],
    ['{"foo"=~"[a-z]+"}', [re('foo', '[a-z]+')]],
    ['{"foo"=~"\\\\d+"}', [re('foo', '\\d+')]],
    ['{"foo"!~"[a-z]+"}', [nre('foo', '[a-z]+')]],
    ['{"foo"="🙂"}', [eq('foo', '🙂')]],
    ['{"foo"="\\xf0\\x9f\\x99\\x82"}', [eq('foo', '🙂')]],
    ['{"foo"="\\U0001f642"}', [eq('foo', '🙂')]],
    ['{"foo"="🙂bar"}', [eq('foo', '🙂bar')]],
    ['{"foo"="bar\\n"}', [eq('foo', 'bar\n')]],
    ['{"foo"="bar\\t"}', [eq('foo', 'bar\t')]],
    ['{"foo"="\\"bar\\""}', [eq('foo', '"bar"')]],
    ['{"foo"="bar\\\\"}', [eq('foo', 'bar\\')]],
    ['"foo"="bar"', [eq('foo', 'bar')]],
    ['"foo"="bar",', [eq('foo', 'bar')]],
    ['{foo=bar,bar!=baz}', [eq('foo', 'bar'), ne('bar', 'baz')]],
    ['{foo="bar",bar!="baz"}', [eq('foo', 'bar'), ne('bar', 'baz')]],
    ['foo=bar,bar!=baz', [eq('foo', 'bar'), ne('bar', 'baz')]],
    ['foo="bar",bar!="baz"', [eq('foo', 'bar'), ne('bar', 'baz')]],
    // compliance_test.go: inputs both parsers accept alike
    ['{foo=~bar.*}', [re('foo', 'bar.*')]],
    ['{foo="bar", baz!~"quux.*"}', [eq('foo', 'bar'), nre('baz', 'quux.*')]],
    ['{foo="bar",baz!~".*quux", derp="wat"}', [eq('foo', 'bar'), nre('baz', '.*quux'), eq('derp', 'wat')]],
    ['{foo=""}', [eq('foo', '')]],
    ['{foo="bar,quux", job="job1"}', [eq('foo', 'bar,quux'), eq('job', 'job1')]],
    ['{foo = "bar", dings != "bums", }', [eq('foo', 'bar'), ne('dings', 'bums')]],
    ['{quote="She said: \\"Hi, ladies! That\'s gender-neutral…\\""}', [eq('quote', 'She said: "Hi, ladies! That\'s gender-neutral…"')]],
    ['statuscode=~"5.."', [re('statuscode', '5..')]],
    ['contains_quote != "\\"" , contains_comma !~ "foo,bar" , ', [ne('contains_quote', '"'), nre('contains_comma', 'foo,bar')]],
    ['{name-with-dashes = "bar"}', [eq('name-with-dashes', 'bar')]],
    // UTF-8 label names (Prometheus 3 / OpenTelemetry)
    ['"service.name"="checkout"', [eq('service.name', 'checkout')]],
    ['{"http.status_code"=~"5..", "k8s.namespace.name"!="kube-system"}', [re('http.status_code', '5..'), ne('k8s.namespace.name', 'kube-system')]],
    ['service.name=checkout', [eq('service.name', 'checkout')]],
    ['"名前"="値"', [eq('名前', '値')]],
  ];
  for (const [input, expected] of valid) {
    it(`parses ${JSON.stringify(input)}`, () => {
      expect(parseUtf8Matchers(input)).to.deep.equal(expected);
    });
  }

  const invalid: Array<[input: string, error: string]> = [
    [',', '0:1: unexpected ,: expected label name'],
    ['{,}', '1:2: unexpected ,: expected label name'],
    ['{', '0:1: end of input: expected close brace'],
    ['}', '0:1: }: expected opening brace'],
    ['foo=bar}', '0:8: }: expected opening brace'],
    ['{foo=bar', '0:8: end of input: expected close brace'],
    ['{foo=:"bar"}', '6:11: unexpected "bar": expected a comma or close brace'],
    ['{foo="bar\\w"}', '5:12: "bar\\w": invalid input'],
    ['{"foo"=~"\\d+"}', '8:13: "\\d+": invalid input'],
    ['{foo=bar\\n}', '8:9: \\: invalid input: expected a comma or close brace'],
    ['{"foo"="\\xf0\\x9f"}', '7:17: "\\xf0\\x9f": invalid input'],
    ['foo="\\xf0\\x9f"', '4:14: "\\xf0\\x9f": invalid input'],
    // compliance_test.go: inputs both parsers reject
    ['job="value', '4:10: "value: missing end ": expected label value'],
    ['"foo=\\"bar"', "end of input: expected an operator such as '=', '!=', '=~' or '!~'"],
    ['{{foo=', '1:2: unexpected {: expected label name'],
    ['foo', "end of input: expected an operator such as '=', '!=', '=~' or '!~'"],
    ['foo=', 'end of input: expected label value'],
    ['{foo=bar}x', '9:10: x: expected end of input'],
    ['severity critical', "9:17: unexpected critical: expected an operator such as '=', '!=', '=~' or '!~'"],
  ];
  for (const [input, error] of invalid) {
    it(`rejects ${JSON.stringify(input)} with ${JSON.stringify(error)}`, () => {
      expect(() => parseUtf8Matchers(input)).to.throw(Error).with.property('message', error);
    });
  }
});

describe("Alertmanager's matcher lexer (matcher/parse/lexer.go)", () => {
  const tok = (kind: Token['kind'], value: string, columnStart: number, columnEnd: number): Token => ({ kind, value, columnStart, columnEnd });
  const scanAll = (input: string): { tokens: Token[]; error?: string } => {
    const lexer = new MatcherLexer(input);
    const tokens: Token[] = [];
    try {
      for (let t = lexer.scan(); t.kind !== 'eof'; t = lexer.scan()) tokens.push(t);
    } catch (err) {
      return { tokens, error: (err as Error).message };
    }
    return { tokens };
  };
  const cases: Array<[input: string, tokens: Token[], error?: string]> = [
    ['', []],
    ['{', [tok('{', '{', 0, 1)]],
    [' {', [tok('{', '{', 1, 2)]],
    ['{ }', [tok('{', '{', 0, 1), tok('}', '}', 2, 3)]],
    ['hello', [tok('unquoted', 'hello', 0, 5)]],
    ['hello:world', [tok('unquoted', 'hello:world', 0, 11)]],
    ['_hello', [tok('unquoted', '_hello', 0, 6)]],
    ['hello world', [tok('unquoted', 'hello', 0, 5), tok('unquoted', 'world', 6, 11)]],
    ['\nhello', [tok('unquoted', 'hello', 1, 6)]],
    ['hello\n', [tok('unquoted', 'hello', 0, 5)]],
    ['\rhello', [tok('unquoted', 'hello', 1, 6)]],
    ['$', [tok('unquoted', '$', 0, 1)]],
    ['🙂', [tok('unquoted', '🙂', 0, 1)]],
    ['Σ', [tok('unquoted', 'Σ', 0, 1)]],
    ['hello🙂Σ world', [tok('unquoted', 'hello🙂Σ', 0, 7), tok('unquoted', 'world', 8, 13)]],
    ['hello🙂Σ\u202fworld', [tok('unquoted', 'hello🙂Σ', 0, 7), tok('unquoted', 'world', 8, 13)]],
    ['"hello"', [tok('quoted', '"hello"', 0, 7)]],
    ['"hello 🙂"', [tok('quoted', '"hello 🙂"', 0, 9)]],
    ['"hello\u202fworld"', [tok('quoted', '"hello\u202fworld"', 0, 13)]],
    ['"hello\nworld"', [tok('quoted', '"hello\nworld"', 0, 13)]],
    ['"\\d+"', [tok('quoted', '"\\d+"', 0, 5)]],
    ['"hello \\"world\\""', [tok('quoted', '"hello \\"world\\""', 0, 17)]],
    ['"hello world\\\\"', [tok('quoted', '"hello world\\\\"', 0, 15)]],
    ['=', [tok('=', '=', 0, 1)]],
    ['!=', [tok('!=', '!=', 0, 2)]],
    ['=~', [tok('=~', '=~', 0, 2)]],
    ['!~', [tok('!~', '!~', 0, 2)]],
    ['!', [], "0:1: unexpected end of input, expected one of '=~'"],
    ['~', [], '0:1: ~: invalid input'],
    ['=!', [tok('=', '=', 0, 1)], "1:2: unexpected end of input, expected one of '=~'"],
    ['!=!!', [tok('!=', '!=', 0, 2)], "2:3: !: expected one of '=~'"],
    ['hello!', [tok('unquoted', 'hello', 0, 5)], "5:6: unexpected end of input, expected one of '=~'"],
    ['\\n', [], '0:1: \\: invalid input'],
    ['hello\\n', [tok('unquoted', 'hello', 0, 5)], '5:6: \\: invalid input'],
    ['"hello', [], '0:6: "hello: missing end "'],
    ['"hello\\"', [], '0:8: "hello\\": missing end "'],
  ];
  for (const [input, tokens, error] of cases) {
    it(`scans ${JSON.stringify(input)}`, () => {
      const got = scanAll(input);
      expect(got.tokens).to.deep.equal(tokens);
      expect(got.error).to.equal(error);
    });
  }

  it('keeps returning its error once it has one, and peek does not consume', () => {
    const bad = new MatcherLexer('"hello');
    for (let i = 0; i < 3; i++) expect(() => bad.scan()).to.throw('0:6: "hello: missing end "');
    const lexer = new MatcherLexer('hello world');
    expect(lexer.peek()).to.deep.equal(lexer.scan());
    expect(lexer.peek().value).to.equal('world');
    expect(lexer.peek().value).to.equal('world');
    expect(lexer.scan().value).to.equal('world');
    expect(lexer.peek().kind).to.equal('eof');
  });
});

describe("Go's strconv.Unquote for quoted names and values", () => {
  const table: Array<[string, string | undefined]> = [
    ['"plain"', 'plain'],
    ['"\\a\\b\\f\\n\\r\\t\\v\\\\\\""', '\x07\b\f\n\r\t\v\\"'],
    ['"\\101\\x41\\u0041\\U00000041"', 'AAAA'],
    ['"\\u263a"', '☺'],
    ['"\\xe2\\x98\\xba"', '☺'],
    ['"\\\'"', undefined], // \' only in single quotes
    ['"\\d"', undefined],
    ['"\\400"', undefined], // octal above 255
    ['"\\ud800"', undefined], // a surrogate is not a rune
    ['"\\xff"', undefined], // not UTF-8
    ['"a\nb"', undefined], // a raw newline
    ['"a\tb"', 'a\tb'], // a raw tab is fine
    ['"\ud800"', undefined], // a lone surrogate
  ];
  for (const [input, expected] of table) {
    it(`${JSON.stringify(input)} → ${JSON.stringify(expected)}`, () => {
      expect(unquoteGo(input)).to.equal(expected);
    });
  }
});

describe("Alertmanager's classic parser (pkg/labels) and the fallback between the two", () => {
  it('parses what the classic parser documents', () => {
    expect(parseClassicMatchers('{foo = "bar", dings != "bums", }')).to.deep.equal([eq('foo', 'bar'), ne('dings', 'bums')]);
    expect(parseClassicMatchers('foo=bar,dings!=bums')).to.deep.equal([eq('foo', 'bar'), ne('dings', 'bums')]);
    expect(parseClassicMatchers('{quote="She said: \\"Hi, ladies! That\'s gender-neutral…\\""}')).to.deep.equal([
      eq('quote', 'She said: "Hi, ladies! That\'s gender-neutral…"'),
    ]);
    expect(parseClassicMatchers('statuscode=~"5.."')).to.deep.equal([re('statuscode', '5..')]);
    // unknown escapes stay literal, so regexes keep their backslashes
    expect(parseClassicMatchers('instance=~"db-\\d+"')).to.deep.equal([re('instance', 'db-\\d+')]);
  });

  const classicErrors: Array<[string, string]> = [
    ['{,}', 'bad matcher format: '],
    ['job="value', 'matcher value contains unescaped double quote: "value'],
    ['job=value"', 'matcher value contains unescaped double quote: value"'],
    ['trickier==\\\\=\\=\\""', 'matcher value contains unescaped double quote: =\\\\=\\=\\""'],
    ['contains_unescaped_quote = foo"bar', 'matcher value contains unescaped double quote: foo"bar'],
    ['"{foo=\\"bar"}', 'bad matcher format: "{foo=\\"bar"'],
    ['"foo=\\"bar"', 'bad matcher format: "foo=\\"bar"'],
    ['"foo="bar""', 'bad matcher format: "foo="bar""'],
    ['{{foo=', 'bad matcher format: {foo='],
  ];
  for (const [input, error] of classicErrors) {
    it(`the classic parser rejects ${JSON.stringify(input)}`, () => {
      expect(() => parseClassicMatchers(input)).to.throw(Error).with.property('message', error);
    });
  }

  it('takes the UTF-8 result when both agree, and accepts UTF-8 names only the new parser knows', () => {
    expect(parseMatcherEntry('severity="critical",team="a"')).to.deep.equal({ matchers: [eq('severity', 'critical'), eq('team', 'a')], classic: false });
    expect(parseMatcherEntry('"service.name"="checkout"')).to.deep.equal({ matchers: [eq('service.name', 'checkout')], classic: false });
  });

  it('falls back to the classic parser where the UTF-8 parser rejects the input (as Alertmanager does by default)', () => {
    expect(parseMatcherEntry('instance=~"db-\\d+"')).to.deep.equal({ matchers: [re('instance', 'db-\\d+')], classic: true });
    expect(parseMatcherEntry('foo=bar\\n')).to.deep.equal({ matchers: [eq('foo', 'bar\n')], classic: true });
  });

  it('lets the classic result win when both accept the input but disagree', () => {
    // UTF-8: a tab; classic: backslash and "t" (Alertmanager logs "disagreement" and keeps the classic one)
    expect(parseMatcherEntry('foo="a\\tb"')).to.deep.equal({ matchers: [eq('foo', 'a\\tb')], classic: true });
  });

  it("reports the UTF-8 parser's error, with its column, when both reject the input", () => {
    expect(() => parseMatcherEntry('{"foo"="bar"')).to.throw('0:12: end of input: expected close brace');
    // ...while the classic parser's tolerance stays: it trims a lone brace
    expect(parseMatcherEntry('{foo=bar')).to.deep.equal({ matchers: [eq('foo', 'bar')], classic: true });
    expect(() => parseMatcherEntry('"service.name"="unterminated')).to.throw('15:28: "unterminated: missing end ": expected label value');
  });
});
