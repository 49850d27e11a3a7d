import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { CONFIG_CHECKS, type ConfigCheck } from '../../src/config/checks.js';
import { formatProblem, loadConfigFile } from '../../src/config/load.js';
import type { CheckResult } from '../../src/config/problems.js';
import type { Config } from '../../src/config/types.js';

describe('targets_dir isolation', () => {
  let root: string;
  const write = (path: string, text: string) => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  const load = (previous?: Config, env: Record<string, string> = {}) => loadConfigFile(join(root, 'alertmux.yml'), { env }, previous);
  const files = (cfg: Config) => cfg.targetFiles!.map((f) => [f.file.slice(root.length + 1), f.state, f.target ?? null]);

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'alertmux-targets-dir-'));
    write('alertmux.yml', 'targets_dir: t\ntargets: [{name: main-log, type: log}]\n');
    write('t/team-a.yml', 'type: webhook\nurl: "https://a.example.com/${env:A_PATH}"\n');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('keeps the last good version of a broken file and adds a good new file beside it', () => {
    const first = load(undefined, { A_PATH: 'hook-secret' });
    expect(first.targets.map((t) => t.name)).to.deep.equal(['main-log', 'team-a']);

    write('t/team-a.yml', 'type: webhook\nurl: https://a.example.com/v2\nwebhok: true\n'); // broken
    write('t/team-b.yml', 'type: log\n'); // new and good
    const next = load(first);
    expect(next.targets.map((t) => t.name)).to.deep.equal(['main-log', 'team-a', 'team-b']);
    // The very object of the running config: its publisher, health and breaker carry over.
    expect(next.targets.find((t) => t.name === 'team-a')).to.equal(first.targets.find((t) => t.name === 'team-a'));
    expect(files(next)).to.deep.equal([
      ['t/team-a.yml', 'kept', 'team-a'],
      ['t/team-b.yml', 'loaded', 'team-b'],
    ]);
    expect(next.targetFiles![0]!.problems.map(formatProblem)).to.deep.equal([`${root}/t/team-a.yml:3:1: target "team-a": unknown field \`webhok\``]);
    // The kept version's secret is still redacted.
    expect(next.secrets.some((s) => s.includes('hook-secret'))).to.equal(true);

    // Once fixed, the new version replaces the kept one.
    write('t/team-a.yml', 'type: log\n');
    const fixed = load(next);
    expect(files(fixed)).to.deep.equal([
      ['t/team-a.yml', 'loaded', 'team-a'],
      ['t/team-b.yml', 'loaded', 'team-b'],
    ]);
    expect(fixed.targets.find((t) => t.name === 'team-a')!.type).to.equal('log');
  });

  it('skips a broken file that never loaded, and reports it at every load until it is fixed', () => {
    const first = load(undefined, { A_PATH: 'x' });
    write('t/team-c.yml', 'type: slack\n');
    const next = load(first, { A_PATH: 'x' });
    expect(next.targets.map((t) => t.name)).to.deep.equal(['main-log', 'team-a']);
    expect(files(next)).to.deep.equal([
      ['t/team-a.yml', 'loaded', 'team-a'],
      ['t/team-c.yml', 'skipped', null],
    ]);
    expect(next.targetFiles![1]!.problems.map(formatProblem)).to.deep.equal([`${root}/t/team-c.yml:1:1: target "team-c": missing a required field: one of \`webhook_url\`, \`token\``]);
    expect(files(load(next, { A_PATH: 'x' }))).to.deep.include(['t/team-c.yml', 'skipped', null]);
  });

  it('keeps the last good version of a file whose secret reference stopped resolving', () => {
    const first = load(undefined, { A_PATH: 'x' });
    const next = load(first, {});
    expect(files(next)).to.deep.equal([['t/team-a.yml', 'kept', 'team-a']]);
    expect(next.targetFiles![0]!.problems.map(formatProblem)).to.deep.equal([`${root}/t/team-a.yml:2:6: target "team-a": url: environment variable A_PATH is not set`]);
  });

  it('does not let a new file take the name of a target another file holds', () => {
    const first = load(undefined, { A_PATH: 'x' });
    // Sorted first, but team-a.yml held the name before.
    write('t/a-new.yml', 'name: team-a\ntype: log\n');
    const next = load(first, { A_PATH: 'x' });
    expect(files(next)).to.deep.equal([
      ['t/a-new.yml', 'skipped', null],
      ['t/team-a.yml', 'loaded', 'team-a'],
    ]);
    expect(next.targetFiles![0]!.problems.map(formatProblem)).to.deep.equal([
      `${root}/t/a-new.yml:1:7: target "team-a": name: duplicate target name "team-a" (also defined in targets_dir file ${root}/t/team-a.yml)`,
    ]);
  });

  it('blames a targets_dir file for a cross check that names its target, and the main config for the rest', () => {
    // A check as the fallback and deadman modules plug in: problems with a target, or a pointer string.
    const check: ConfigCheck = (config) =>
      config.targets.flatMap((t): CheckResult[] =>
        (t as { url?: string }).url?.includes('forbidden') ? [{ target: t.name, path: '/url', message: 'is forbidden' }] : t.name === 'main-log' ? ['/listen: checked'] : [],
      );
    const before = CONFIG_CHECKS.length;
    CONFIG_CHECKS.push(check);
    try {
      write('alertmux.yml', 'targets_dir: t\n');
      write('t/team-a.yml', 'type: webhook\nurl: https://forbidden.example.com/\n');
      const cfg = load();
      expect(files(cfg)).to.deep.equal([['t/team-a.yml', 'skipped', null]]);
      expect(cfg.targetFiles![0]!.problems.map(formatProblem)).to.deep.equal([`${root}/t/team-a.yml:2:6: target "team-a": url: is forbidden`]);
      write('alertmux.yml', 'targets_dir: t\nlisten: 127.0.0.1:9095\ntargets: [{name: main-log, type: log}]\n');
      expect(() => load()).to.throw(/alertmux\.yml:2:9: listen: checked/);
      // A problem string with the index of a target in the merged list is that target's too.
      const indexed: ConfigCheck = (config) => config.targets.flatMap((t, i) => (t.name === 'team-b' ? [`/targets/${i}/url: is indexed`] : []));
      CONFIG_CHECKS.push(indexed);
      write('alertmux.yml', 'targets_dir: t\ntargets: [{name: main, type: log}]\n');
      write('t/team-b.yml', 'type: webhook\nurl: https://b.example.com/\n');
      const cfg2 = load();
      expect(cfg2.targets.map((t) => t.name)).to.deep.equal(['main']);
      expect(cfg2.targetFiles!.flatMap((f) => f.problems.map(formatProblem))).to.deep.equal([
        `${root}/t/team-a.yml:2:6: target "team-a": url: is forbidden`,
        `${root}/t/team-b.yml:2:6: target "team-b": url: is indexed`,
      ]);
    } finally {
      CONFIG_CHECKS.splice(before);
    }
  });

  it('drops a kept version whose name the main config now uses', () => {
    const first = load(undefined, { A_PATH: 'x' });
    write('t/team-a.yml', 'type: [\n');
    write('alertmux.yml', 'targets_dir: t\ntargets: [{name: team-a, type: log}]\n');
    const next = load(first);
    expect(next.targets.map((t) => [t.name, t.type])).to.deep.equal([['team-a', 'log']]);
    expect(files(next)).to.deep.equal([['t/team-a.yml', 'skipped', null]]);
    expect(next.targetFiles![0]!.problems.map(formatProblem)).to.deep.equal([
      `${root}/t/team-a.yml:2:1: target "team-a": Flow sequence in block collection must be sufficiently indented and end with a ]`,
      `${root}/t/team-a.yml: target "team-a": its last good version: duplicate target name "team-a" (also defined in the config file)`,
    ]);
  });
});
