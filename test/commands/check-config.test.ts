import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli.js';
import { checkConfig } from '../../src/commands/check-config.js';

describe('alertmux check-config', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'alertmux-check-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const run = (files: string[], env: Record<string, string> = {}) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = checkConfig(files, { env }, (s) => out.push(s), (s) => err.push(s));
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  it('summarises a valid config with secrets redacted and durations as written, and exits 0', () => {
    const file = join(dir, 'ok.yml');
    writeFileSync(
      file,
      `targets:
  - {name: pd, type: pagerduty, routing_key: "\${env:PD_KEY}", match: ['severity="critical"'], match_route: ['team="sre"'], timeout: 5s}
  - {name: hook, type: webhook, url: "https://hooks.example.com/T0/secret-path", enabled: false}
`,
    );
    const { code, out } = run([file], { PD_KEY: '0123456789abcdef0123456789abcdef' });
    expect(code).to.equal(0);
    expect(out).to.contain('SUCCESS: 2 target(s), listening on 127.0.0.1:9095');
    expect(out).to.contain('- pd (pagerduty)');
    expect(out).to.contain('match: severity="critical"; match_route: team="sre"; send_resolved: true');
    expect(out).to.contain('match: (all alerts); send_resolved: true');
    expect(out).not.to.contain('match_route: []');
    expect(out).to.contain('timeout: 5s');
    expect(out).to.contain('- hook (webhook) [disabled]');
    expect(out).not.to.contain('0123456789abcdef0123456789abcdef');
    expect(out).not.to.contain('secret-path');
  });

  it('prints every problem with its path and exits 1, naming a missing variable but no value', () => {
    const file = join(dir, 'bad.yml');
    writeFileSync(file, `targets:\n  - {name: Bad_Name, type: webhook, url: "\${env:HOOK_URL}"}\n`);
    const missing = run([file]);
    expect(missing.code).to.equal(1);
    expect(missing.err).to.contain('/targets/0/url: environment variable HOOK_URL is not set');
    const invalid = run([file], { HOOK_URL: 'https://hooks.example.com/very-secret' });
    expect(invalid.code).to.equal(1);
    expect(invalid.err).to.match(/\/targets\/0\/name: must match pattern/);
    expect(invalid.err).not.to.contain('very-secret');
  });

  it('fails a PagerDuty routing key that is not 32 characters, read from a ${file:...} secret, without printing it', () => {
    const key = '0123456789abcdef0123456789abcde'; // 31: PagerDuty would answer 400 to every event
    writeFileSync(join(dir, 'routing_key'), `${key}\n`);
    const file = join(dir, 'pd.yml');
    writeFileSync(file, `targets:\n  - {name: pd, type: pagerduty, routing_key: "\${file:routing_key}"}\n`);
    const bad = run([file]);
    expect(bad.code).to.equal(1);
    expect(bad.err).to.contain('/targets/0/routing_key: must be 32 characters (an Events API v2 integration key), not 31');
    expect(`${bad.out}\n${bad.err}`).not.to.contain(key);
    writeFileSync(join(dir, 'routing_key'), `${key}f\n`);
    const good = run([file]);
    expect(good.code, good.err).to.equal(0);
    expect(good.out).not.to.contain(`${key}f`);
  });

  it('checks several files and fails when one is unreadable', () => {
    const ok = join(dir, 'ok.yml');
    writeFileSync(ok, 'targets: []\n');
    const { code, err } = run([ok, join(dir, 'missing.yml')]);
    expect(code).to.equal(1);
    expect(err).to.contain('cannot read config file');
  });

  it('has --help, rejects no file, and the command line knows --help, --version and unknown options', async () => {
    const lines: string[] = [];
    const capture = (s: string) => void lines.push(s);
    expect(await main(['check-config', '--help'], capture, capture)).to.equal(0);
    expect(lines.join('\n')).to.contain('Usage: alertmux check-config FILE...');
    expect(await main(['check-config'], capture, capture)).to.equal(2);
    lines.length = 0;
    expect(await main(['--help'], capture, capture)).to.equal(0);
    expect(lines.join('\n')).to.contain('alertmux [--config FILE] [--listen HOST:PORT]');
    lines.length = 0;
    expect(await main(['--version'], capture, capture)).to.equal(0);
    expect(lines[0]).to.match(/^\d+\.\d+\.\d+$/);
    expect(await main(['--bogus'], capture, capture)).to.equal(2);
  });
});
