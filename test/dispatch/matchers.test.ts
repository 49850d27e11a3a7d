import { expect } from 'chai';
import { matchesAll, parseMatcher } from '../../src/dispatch/matchers.js';

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
    ['severity', /bad matcher "severity": expected name, one of = != =~ !~, and a value/],
    ['1abc="x"', /bad matcher "1abc=\\"x\\"": expected name/],
    ['severity=="critical"', /unescaped double quote/],
    ['severity="critical', /bad matcher .*: unterminated quote/],
    ['severity="crit\\"', /unterminated quote/],
    ['severity="a"b"', /unescaped double quote/],
    ['severity=~"crit("', /bad matcher .*: invalid regex: /],
    ['severity!~"[a-"', /invalid regex/],
  ];
  for (const [text, message] of invalid) {
    it(`rejects ${text}`, () => {
      expect(() => parseMatcher(text)).to.throw(Error, message);
    });
  }

  it('requires every matcher to match, and an empty list matches everything', () => {
    const ms = ['severity="critical"', 'alertname=~"Disk.*"'].map(parseMatcher);
    expect(matchesAll(ms, labels)).to.equal(true);
    expect(matchesAll(ms, { ...labels, alertname: 'CPU' })).to.equal(false);
    expect(matchesAll([], {})).to.equal(true);
  });
});
