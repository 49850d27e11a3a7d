import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

  it('summarises driver postgres with the URL redacted, and warns about a literal password without failing', () => {
    const file = join(dir, 'pg.yml');
    writeFileSync(file, 'storage: {driver: postgres, url: "postgres://alertmux:hunter2@db:5432/alertmux", pool_size: 4}\ntargets: [{name: logs, type: log}]\n');
    const { code, out, err } = run([file]);
    expect(code).to.equal(0);
    expect(out).to.contain('storage: postgres postgres://alertmux:***@db:5432/alertmux (pool 4, lease 30s), response deadline 8s');
    expect(err).to.contain(`WARNING: ${file}:1:34: storage.url: holds a literal password`);
    expect(out + err).not.to.contain('hunter2');
  });

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

  it('prints every problem in one pass with file, line and target name, and exits 1, naming a missing variable but no value', () => {
    const file = join(dir, 'bad.yml');
    writeFileSync(file, `targets:\n  - {name: Bad_Name, type: webhook, url: "\${env:HOOK_URL}"}\n`);
    const missing = run([file]);
    expect(missing.code).to.equal(1);
    expect(missing.err.split('\n')).to.deep.equal([
      '  FAILED: config is invalid (2 problems)',
      `    ${file}:2:12: target "Bad_Name": name: must match pattern "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"`,
      `    ${file}:2:42: target "Bad_Name": url: environment variable HOOK_URL is not set`,
    ]);
    const invalid = run([file], { HOOK_URL: 'https://hooks.example.com/very-secret' });
    expect(invalid.code).to.equal(1);
    expect(invalid.err).to.contain(`${file}:2:12: target "Bad_Name": name: must match pattern`);
    expect(invalid.err).not.to.contain('very-secret');
  });

  it('fails a PagerDuty routing key that is not 32 characters, read from a ${file:...} secret, without printing it', () => {
    const key = '0123456789abcdef0123456789abcde'; // 31: PagerDuty would answer 400 to every event
    writeFileSync(join(dir, 'routing_key'), `${key}\n`);
    const file = join(dir, 'pd.yml');
    writeFileSync(file, `targets:\n  - {name: pd, type: pagerduty, routing_key: "\${file:routing_key}"}\n`);
    const bad = run([file]);
    expect(bad.code).to.equal(1);
    expect(bad.err).to.contain(`${file}:2:46: target "pd": routing_key: must be 32 characters (an Events API v2 integration key), not 31`);
    expect(`${bad.out}\n${bad.err}`).not.to.contain(key);
    writeFileSync(join(dir, 'routing_key'), `${key}f\n`);
    const good = run([file]);
    expect(good.code, good.err).to.equal(0);
    expect(good.out).not.to.contain(`${key}f`);
  });

  it('reports seven different problems in one run, naming each target, its file and its line', () => {
    mkdirSync(join(dir, 'targets.d'));
    const file = join(dir, 'alertmux.yml');
    writeFileSync(
      file,
      `targets_dir: targets.d
dispatch:
  timeout: 30
targets:
  - name: pagerduty-oncall
    type: pagerduty
    routing_key: \${env:PD_ROUTING_KEY}
  - name: slack-ops
    type: slack
    webhok_url: https://hooks.slack.com/services/T0/B0/x
  - name: audit
    type: webhook
    url: https://audit.example.com/alerts
    match: ['severity=~"(critical"']
  - name: audit
    type: log
`,
    );
    writeFileSync(join(dir, 'targets.d', 'team-db.yml'), 'type: webhook\nurl: [https://db.example.com\n');
    writeFileSync(join(dir, 'targets.d', 'team-web.yml'), 'type: teams\nwebhook_url: https://example.com/x\nsend_resolved: maybe\n');
    const { code, err } = run([file]);
    expect(code).to.equal(1);
    const d = join(dir, 'targets.d');
    expect(err.split('\n')).to.deep.equal([
      '  FAILED: config is invalid (7 problems)',
      `    ${file}:3:12: dispatch.timeout: \`timeout: 30\` has no unit; write 30s (or 500ms, 5m, 1h)`,
      `    ${file}:7:18: target "pagerduty-oncall": routing_key: environment variable PD_ROUTING_KEY is not set`,
      `    ${file}:10:5: target "slack-ops": unknown field \`webhok_url\`; did you mean \`webhook_url\`?`,
      `    ${file}:14:13: target "audit": match[0]: bad matcher "severity=~\\"(critical\\"": invalid regex for "severity": error parsing regexp: missing closing ): \`^(?:(critical)$\``,
      `    ${file}:15:11: target "audit": name: duplicate target name "audit" (also defined in the config file)`,
      `    ${d}/team-db.yml:3:1: target "team-db": Flow sequence in block collection must be sufficiently indented and end with a ]`,
      `    ${d}/team-web.yml:3:16: target "team-web": send_resolved: must be boolean`,
    ]);
  });

  it('fails a config whose targets_dir has broken files, naming every problem, and summarises the targets that load', () => {
    mkdirSync(join(dir, 't'));
    const file = join(dir, 'alertmux.yml');
    writeFileSync(file, 'targets_dir: t\n');
    writeFileSync(join(dir, 't', 'good.yml'), 'type: log\n');
    writeFileSync(join(dir, 't', 'bad.yml'), 'type: log\nlevel: loud\ncolour: red\n');
    const { code, out, err } = run([file]);
    expect(code).to.equal(1);
    expect(err.split('\n')).to.deep.equal([
      '  FAILED: 1 of 2 targets_dir files are broken; a running alertmux leaves their targets out (or keeps their last good version)',
      `    ${dir}/t/bad.yml:2:8: target "bad": level: must be one of debug, info, warn, error`,
      `    ${dir}/t/bad.yml:3:1: target "bad": unknown field \`colour\``,
    ]);
    expect(out).to.contain('the rest: 1 target(s)');
    expect(out).to.contain('- good (log)');
  });

  it('warns on a config without targets and still exits 0', () => {
    const file = join(dir, 'empty.yml');
    writeFileSync(file, 'listen: 127.0.0.1:9095\n');
    const { code, err } = run([file]);
    expect(code).to.equal(0);
    expect(err).to.equal('  WARNING: the config has no targets: notifications are accepted and delivered nowhere');
  });

  describe('--no-secrets', () => {
    const config = (text: string) => {
      const file = join(dir, 'ci.yml');
      writeFileSync(file, text);
      return file;
    };

    it('checks a config whose secrets are absent, resolving no reference', () => {
      const file = config(`auth: {bearer_token: "\${env:ALERTMUX_TOKEN}"}
targets:
  - {name: pd, type: pagerduty, routing_key: "\${file:/run/secrets/pd-routing-key}"}
  - {name: slack, type: slack, webhook_url: "\${env:SLACK_WEBHOOK_URL}"}
  - {name: hook, type: webhook, url: "https://hooks.example.com/\${env:HOOK_PATH}", signing_secret: "\${file:signing}"}
`);
      expect(run([file]).code).to.equal(1);
      const read: string[] = [];
      const out: string[] = [];
      const code = checkConfig([file], { env: {}, syntaxOnly: true, readFile: (p) => (read.push(p), 'x') }, (s) => out.push(s), (s) => out.push(s));
      expect(code, out.join('\n')).to.equal(0);
      expect(read).to.deep.equal([]);
      expect(out[0]).to.equal(`Checking '${file}' (--no-secrets: secret references checked for syntax only)`);
      expect(out).to.include('  SUCCESS: 3 target(s), listening on 127.0.0.1:9095');
    });

    it('still reports malformed references and every problem that does not depend on a secret', () => {
      const file = config(`auth: {bearer_token: "\${env:}"}
targets:
  - {name: hook, type: webhook, url: "\${env:HOOK-URL}", timeout: 5}
  - {name: chat, type: slack, webhook_url: "\${secret:SLACK}"}
  - {name: pd, type: pagerduty, routing_key: "\${env:PD_KEY}", send_resolved: maybe}
`);
      const out: string[] = [];
      const code = checkConfig([file], { env: {}, syntaxOnly: true }, (s) => out.push(s), (s) => out.push(s));
      expect(code).to.equal(1);
      expect(out.slice(1, -1)).to.deep.equal([
        '  FAILED: config is invalid (5 problems)',
        `    ${file}:1:22: auth.bearer_token: has \`\${\` that is not a secret reference: write \${env:NAME} or \${file:/path}`,
        `    ${file}:3:38: target "hook": url: \${env:HOOK-URL}: not an environment variable name`,
        `    ${file}:3:66: target "hook": timeout: \`timeout: 5\` has no unit; write 5s (or 500ms, 5m, 1h)`,
        `    ${file}:4:44: target "chat": webhook_url: has \`\${\` that is not a secret reference: write \${env:NAME} or \${file:/path}`,
        `    ${file}:5:78: target "pd": send_resolved: must be boolean`,
      ]);
    });

    it('is a flag of the command line', async () => {
      const file = config('targets: [{name: hook, type: webhook, url: "${env:ALERTMUX_TEST_UNSET_URL}"}]\n');
      const lines: string[] = [];
      const capture = (s: string) => void lines.push(s);
      expect(await main(['check-config', file], capture, capture)).to.equal(1);
      expect(await main(['check-config', '--no-secrets', file], capture, capture)).to.equal(0);
      expect(await main(['check-config', '--no-such-flag', file], capture, capture)).to.equal(2);
    });
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
    expect(lines.join('\n')).to.contain('Usage: alertmux check-config [--no-secrets] FILE...');
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
