import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkConfig } from '../../src/commands/check-config.js';
import { checkFallbacks, fallbackProblemsOf } from '../../src/config/fallback.js';
import { ConfigError, formatProblem, loadConfigFile } from '../../src/config/load.js';
import { config } from '../helpers/fixtures.js';

const hook = (name: string, extra = '') => `  - {name: ${name}, type: webhook, url: "https://hooks.example.com/${name}"${extra}}`;

describe('fallback targets in the config', () => {
  it('accepts a chain of fallbacks and defaults fallback_after to 5m', () => {
    const c = config(`targets:\n${hook('a', ', fallback: b')}\n${hook('b', ', fallback: c, fallback_after: 90s')}\n${hook('c')}\n`);
    const [a, b, cc] = c.targets;
    expect(a).to.include({ fallback: 'b', fallback_after: 300_000 });
    expect(b).to.include({ fallback: 'c', fallback_after: 90_000 });
    expect(cc?.fallback).to.equal(undefined);
  });

  it('names the target whose fallback is not a configured target', () => {
    expect(() => config(`targets:\n${hook('pagerduty-main', ', fallback: backup')}\n`)).to.throw(
      ConfigError,
      /line 2:\d+: target "pagerduty-main": fallback: "backup" is not a configured target/,
    );
  });

  it('rejects a target that is its own fallback', () => {
    expect(() => config(`targets:\n${hook('a', ', fallback: a')}\n`)).to.throw(ConfigError, /target "a": fallback: names the target itself/);
  });

  it('rejects a cycle of two and a cycle of three, naming every target on it, once each', () => {
    expect(checkFallbacks([{ name: 'a', fallback: 'b' }, { name: 'b', fallback: 'a' }])).to.deep.equal([
      'targets "a" → "b" → "a": fallback cycle (each names the next as its fallback)',
    ]);
    const three = [{ name: 'x' }, { name: 'a', fallback: 'b' }, { name: 'b', fallback: 'c' }, { name: 'c', fallback: 'a' }, { name: 'd', fallback: 'a' }];
    expect(fallbackProblemsOf(three)).to.deep.equal([
      { targets: ['a', 'b', 'c'], message: 'targets "a" → "b" → "c" → "a": fallback cycle (each names the next as its fallback)' },
    ]);
    expect(() => config(`targets:\n${hook('a', ', fallback: b')}\n${hook('b', ', fallback: c')}\n${hook('c', ', fallback: a')}\n`)).to.throw(
      ConfigError,
      /targets "a" → "b" → "c" → "a": fallback cycle/,
    );
  });

  it('reports every fallback problem at once, besides the other problems', () => {
    const problems = checkFallbacks([
      { name: 'a', fallback: 'a' },
      { name: 'b', fallback: 'nope' },
      { name: 'c', fallback: 'd' },
      { name: 'd', fallback: 'c' },
      { name: 'e', fallback: 'c' },
    ]);
    expect(problems).to.have.length(3);
    expect(problems.join('\n')).to.contain('"a"').and.contain('"b"').and.contain('"c" → "d" → "c"');
  });

  it('blames a cycle closed by a targets_dir file on that file, which keeps its last good version', () => {
    const dir = mkdtempSync(join(tmpdir(), 'alertmux-fallback-'));
    try {
      const file = join(dir, 'alertmux.yml');
      writeFileSync(file, `targets_dir: t\ntargets:\n${hook('main', ', fallback: team')}\n`);
      mkdirSync(join(dir, 't'));
      writeFileSync(join(dir, 't', 'team.yml'), 'type: webhook\nurl: https://hooks.example.com/team\n');
      const first = loadConfigFile(file);
      writeFileSync(join(dir, 't', 'team.yml'), 'type: webhook\nurl: https://hooks.example.com/team\nfallback: main\n');
      const next = loadConfigFile(file, { env: {} }, first);
      expect(next.targets.map((t) => [t.name, t.fallback])).to.deep.equal([
        ['main', 'team'],
        ['team', undefined],
      ]);
      expect(next.targetFiles!.map((f) => [f.state, f.problems.map(formatProblem)])).to.deep.equal([
        ['kept', [`${join(dir, 't', 'team.yml')}:3:11: target "team": fallback: targets "main" → "team" → "main": fallback cycle (each names the next as its fallback)`]],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is checked on targets from targets_dir too', () => {
    const dir = mkdtempSync(join(tmpdir(), 'alertmux-fallback-'));
    try {
      writeFileSync(join(dir, 'team.yml'), 'type: webhook\nurl: https://hooks.example.com/team\nfallback: main\n');
      expect(() => config(`targets_dir: ${dir}\ntargets:\n${hook('main', ', fallback: team')}\n`)).to.throw(ConfigError, /"main" → "team" → "main"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('check-config', () => {
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'alertmux-check-fallback-'))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('exits 1 on a fallback cycle, naming the targets', () => {
      const file = join(dir, 'cycle.yml');
      writeFileSync(file, `targets:\n${hook('pagerduty-main', ', fallback: slack-ops')}\n${hook('slack-ops', ', fallback: pagerduty-main')}\n`);
      const err: string[] = [];
      const code = checkConfig([file], { env: {} }, () => undefined, (s) => err.push(s));
      expect(code).to.equal(1);
      expect(err.join('\n')).to.contain('targets "pagerduty-main" → "slack-ops" → "pagerduty-main": fallback cycle');
    });

    it('exits 0 on a valid fallback', () => {
      const file = join(dir, 'ok.yml');
      writeFileSync(file, `targets:\n${hook('pagerduty-main', ', fallback: slack-ops, fallback_after: 2m')}\n${hook('slack-ops')}\n`);
      const out: string[] = [];
      expect(checkConfig([file], { env: {} }, (s) => out.push(s), () => undefined)).to.equal(0);
      expect(out.join('\n')).to.contain('fallback: slack-ops after 2m');
    });
  });
});
