import { expect } from 'chai';
import { compileMatchers, matchesAll, parseMatcher, parseMatchers, routeLabels } from '../../src/matchers/matchers.js';

describe('Alertmanager-style matchers', () => {
  const labels = { alertname: 'DiskFull', severity: 'critical', instance: 'db-1:9100', path: 'a.b' };

  it('parses name, operator and value', () => {
    const m = parseMatcher('severity =~ "crit.*"');
    expect([m.name, m.op, m.value]).to.deep.equal(['severity', '=~', 'crit.*']);
  });

  const table: Array<[matcher: string, matches: boolean]> = [
    ['severity="critical"', true],
    ['severity="warning"', false],
    ['severity=critical', true],
    ['severity!="critical"', false],
    ['severity!=warning', true],
    ['severity=~"critical|warning"', true],
    ['severity=~critical|warning', true],
    ['severity=~"warn.*"', false],
    ['severity!~"warn.*"', true],
    ['severity!~"crit.*"', false],
    // Anchored at both ends, like Alertmanager: a substring is not a match.
    ['severity=~"crit"', false],
    ['severity=~"ritical"', false],
    ['severity!~"crit"', true],
    // Regex escapes keep their meaning inside quotes (Alertmanager keeps unknown escapes literal).
    ['instance=~"db-\\d+:9100"', true],
    ['instance=~"db-\\d+"', false],
    ['path=~"a\\.b"', true],
    // An absent label matches as the empty string.
    ['team=""', true],
    ['team!=""', false],
    ['team=~".*"', true],
    ['team=~".+"', false],
    ['team!~"ops"', true],
    ['alertname!=""', true],
  ];
  for (const [text, expected] of table) {
    it(`${text} ${expected ? 'matches' : 'does not match'} ${JSON.stringify(labels)}`, () => {
      expect(parseMatcher(text).matches(labels)).to.equal(expected);
    });
  }

  it('regex anchoring applies to each alternative', () => {
    const m = parseMatcher('severity=~"crit|warn"');
    expect(m.matches({ severity: 'critical' })).to.equal(false);
    expect(m.matches({ severity: 'crit' })).to.equal(true);
    expect(m.matches({ severity: 'warn' })).to.equal(true);
  });

  it('unescapes quotes, backslashes and newlines in quoted values', () => {
    expect(parseMatcher('msg="say \\"hi\\""').value).to.equal('say "hi"');
    expect(parseMatcher('msg="back\\\\slash"').value).to.equal('back\\slash');
    expect(parseMatcher('msg="two\\nlines"').value).to.equal('two\nlines');
    expect(parseMatcher('msg="say \\"hi\\""').matches({ msg: 'say "hi"' })).to.equal(true);
  });

  it('keeps spaces and "=" inside quoted values', () => {
    const m = parseMatcher('summary="a = b, c"');
    expect(m.value).to.equal('a = b, c');
    expect(m.matches({ summary: 'a = b, c' })).to.equal(true);
  });

  const invalid: Array<[string, RegExp]> = [
    ['severity', /^bad matcher "severity": end of input: expected an operator such as '=', '!=', '=~' or '!~'$/],
    ['severity critical', /^bad matcher "severity critical": 9:17: unexpected critical: expected an operator/],
    ['severity=="critical"', /^bad matcher .*: 9:10: unexpected =: expected label value$/],
    ['severity="critical', /^bad matcher .*: 9:18: "critical: missing end ": expected label value$/],
    ['"service.name"="a"b"', /: 18:19: unexpected b: expected a comma or close brace$/],
    ['severity=~"crit("', /^bad matcher .*: invalid regex for "severity": error parsing regexp: missing closing \): `\^\(\?:crit\(\)\$`$/],
    ['severity!~"[a-"', /invalid regex for "severity": error parsing regexp: /],
    ['foo=~"a(?!b)"', /invalid regex for "foo": error parsing regexp: invalid or unsupported Perl syntax: `\(\?!` \(RE2 has no lookahead or lookbehind\)$/],
    ['"service.name"=~"(a)\\\\1"', /invalid regex for "service.name": .*\(RE2 has no backreferences\)$/],
  ];
  for (const [text, message] of invalid) {
    it(`rejects ${text}`, () => {
      expect(() => parseMatchers(text)).to.throw(Error, message);
    });
  }

  it('parses several matchers in one entry, with or without braces, and UTF-8 label names', () => {
    const specs = (entry: string) => parseMatchers(entry).map((m) => [m.name, m.op, m.value]);
    expect(specs('severity="critical",team="a"')).to.deep.equal([['severity', '=', 'critical'], ['team', '=', 'a']]);
    expect(specs('{severity="critical", team=~"a|b"}')).to.deep.equal([['severity', '=', 'critical'], ['team', '=~', 'a|b']]);
    expect(specs('"service.name"="checkout"')).to.deep.equal([['service.name', '=', 'checkout']]);
    expect(specs('')).to.deep.equal([]);
    expect(compileMatchers(['a="1",b="2"', 'c="3"']).map((m) => m.name)).to.deep.equal(['a', 'b', 'c']);
    expect(() => parseMatcher('a="1",b="2"')).to.throw('bad matcher "a=\\"1\\",b=\\"2\\"": expected 1 matcher, found 2');
  });

  it('matches UTF-8 label names and RE2 inline flags', () => {
    const otel = { 'service.name': 'checkout', 'http.status_code': '503', severity: 'CRITICAL' };
    expect(matchesAll(parseMatchers('{"service.name"="checkout", "http.status_code"=~"5.."}'), otel)).to.equal(true);
    expect(matchesAll(parseMatchers('"service.name"="cart"'), otel)).to.equal(false);
    expect(parseMatcher('severity=~"(?i)crit.*"').matches(otel)).to.equal(true);
    expect(parseMatcher('severity=~"crit.*"').matches(otel)).to.equal(false);
  });

  it('never reads a label from the prototype: a missing label is "" whatever its name', () => {
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
      expect(parseMatcher(`${name}=""`).matches({ alertname: 'X' }), `${name}=""`).to.equal(true);
      expect(parseMatcher(`${name}!=""`).matches({ alertname: 'X' }), `${name}!=""`).to.equal(false);
      expect(parseMatcher(`${name}=~".+"`).matches({ alertname: 'X' }), `${name}=~".+"`).to.equal(false);
    }
    const own = JSON.parse('{"__proto__": "p", "constructor": "c"}') as Record<string, string>;
    expect(parseMatcher('__proto__="p"').matches(own)).to.equal(true);
    expect(parseMatcher('constructor="c"').matches(own)).to.equal(true);
    expect(parseMatcher('x=""').matches(Object.create({ x: 'inherited' }) as Record<string, string>)).to.equal(true);
  });

  it('reads routeLabels only when they are a label set', () => {
    expect(routeLabels({ routeLabels: { team: 'a' } })).to.deep.equal({ team: 'a' });
    expect(routeLabels({})).to.deep.equal({});
    expect(routeLabels({ routeLabels: null })).to.deep.equal({});
    expect(routeLabels({ routeLabels: ['team'] })).to.deep.equal({});
  });

  it('requires every matcher to match, and an empty list matches everything', () => {
    const ms = ['severity="critical"', 'alertname=~"Disk.*"'].map(parseMatcher);
    expect(matchesAll(ms, labels)).to.equal(true);
    expect(matchesAll(ms, { ...labels, alertname: 'CPU' })).to.equal(false);
    expect(matchesAll([], {})).to.equal(true);
  });
});
