import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { ConfigError, loadConfigFile, parseConfig } from '../../src/config/load.js';
import { config, fixtureText } from '../helpers/fixtures.js';
import type { Config } from '../../src/config/types.js';

/** The ConfigError a config text raises (fails the test if it loads). */
function problems(text: string, env: Record<string, string> = {}, baseDir = '/tmp'): ConfigError {
  try {
    config(text, env, baseDir);
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected the config to be rejected');
}

/** Write `files` (path → text) under a fresh temp dir and return it. */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'alertmux-config-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

describe('config loading', () => {
  const dirs: string[] = [];
  const temp = (files: Record<string, string>): string => {
    const dir = tree(files);
    dirs.push(dir);
    return dir;
  };
  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  describe('defaults', () => {
    it('fills every section from the schema when the config says nothing', () => {
      const cfg = config('{}');
      expect(cfg.listen).to.equal('127.0.0.1:9095');
      expect(cfg.dispatch).to.deep.equal({ timeout: 10_000, response_deadline: 8_000, max_concurrency: 50, health_strategy: 'skip_unhealthy' });
      expect(cfg.retry).to.deep.equal({ initial_backoff: 1_000, multiplier: 2, max_backoff: 300_000, max_attempts: 12, max_age: 86_400_000 });
      expect(cfg.dedup).to.deep.equal({ window: 600_000 });
      expect(cfg.storage.retention).to.equal(604_800_000);
      expect(cfg.limits.max_body_bytes).to.equal(1_048_576);
      expect(cfg.breaker.cooldown).to.equal(30_000);
      expect(cfg.health.unhealthy_after).to.equal(3);
      expect(cfg.enrich).to.deep.equal({ labels: {}, severity_map: {}, links: {}, silence_link: true });
      expect(cfg.auth).to.deep.equal({});
      expect(cfg.targets).to.deep.equal([]);
      expect(cfg.secrets).to.deep.equal([]);
    });

    it('fills the shared target fields and the type defaults', () => {
      const cfg = config('targets: [{name: audit, type: webhook, url: "http://audit.internal/alerts"}]');
      expect(cfg.targets[0]).to.deep.equal({
        name: 'audit',
        type: 'webhook',
        url: 'http://audit.internal/alerts',
        enabled: true,
        match: [],
        match_route: [],
        send_resolved: true,
        fallback_after: 300_000,
        format: 'alertmanager',
        headers: {},
        max_alerts: 0,
      });
    });

    it('resolves storage and file target paths against the config directory, and keeps :memory:', () => {
      const cfg = config('storage: {path: data/x.db}\ntargets: [{name: out, type: file, path: out/d.jsonl}]', {}, '/etc/alertmux');
      expect(cfg.storage.path).to.equal('/etc/alertmux/data/x.db');
      expect((cfg.targets[0] as { path: string }).path).to.equal('/etc/alertmux/out/d.jsonl');
      expect(config('storage: {path: ":memory:"}').storage.path).to.equal(':memory:');
    });
  });

  describe('durations', () => {
    it('turns Prometheus-style durations into milliseconds wherever they appear', () => {
      const cfg = config(`
dispatch: {timeout: 1h30m, response_deadline: 500ms}
retry: {max_age: 2d}
targets:
  - name: audit
    type: webhook
    url: http://audit.internal/alerts
    timeout: 5s
    health_check: {url: http://audit.internal/health, interval: 1m}
`);
      expect(cfg.dispatch.timeout).to.equal(5_400_000);
      expect(cfg.dispatch.response_deadline).to.equal(500);
      expect(cfg.retry.max_age).to.equal(172_800_000);
      expect(cfg.targets[0]!.timeout).to.equal(5_000);
      expect(cfg.targets[0]!.health_check).to.deep.include({ interval: 60_000, timeout: 5_000, method: 'GET', expect_status: [200, 204] });
    });
  });

  describe('one fixture per failure, with its exact message', () => {
    const bad: Array<[file: string, message: RegExp]> = [
      ['bad-duration.yml', /^\/dispatch\/timeout: must be a duration such as 30s, 5m, 1h30m or 7d$/],
      ['bad-duration-number.yml', /^\/retry\/max_age: must be a duration such as 30s, 5m, 1h30m or 7d$/],
      ['unknown-field.yml', /^\/: unknown field "listn"$/],
      ['unknown-target-field.yml', /^\/targets\/0: unknown field "retries"$/],
      ['unknown-target-type.yml', /^\/targets\/0\/type: unknown target type "pagerduty2"$/],
      ['duplicate-target-names.yml', /^\/targets\/1\/name: duplicate target name "audit"$/],
      ['bad-target-name.yml', /^\/targets\/0\/name: must match pattern "\^\[a-z0-9\]\(\[-a-z0-9\]\*\[a-z0-9\]\)\?\$"$/],
      ['bad-matcher.yml', /^\/targets\/0\/match\/0: target "oncall": bad matcher "severity critical": 9:17: unexpected critical: expected an operator such as '=', '!=', '=~' or '!~'$/],
      ['bad-regex.yml', /^\/targets\/0\/match\/0: target "oncall": bad matcher "severity=~\\"\(critical\\"": invalid regex for "severity": error parsing regexp: missing closing \): .+$/],
      ['bad-link-template.yml', /^\/enrich\/links\/runbook_url: Parse error on line 1: Expecting 'ID', got 'INVALID'$/],
      ['missing-url.yml', /^\/targets\/0: must have required property 'url'$/],
      ['bad-format.yml', /^\/targets\/0\/format: must be one of alertmanager, alertmux$/],
      ['bad-listen.yml', /^\/listen: must match pattern .+$/],
      ['too-much-concurrency.yml', /^\/dispatch\/max_concurrency: must be <= 200$/],
      ['bad-signing-secret.yml', /^\/targets\/0\/signing_secret: must match pattern .+$/],
      ['not-a-mapping.yml', /^\/: must be object$/],
      ['not-yaml.yml', /^unexpected end of the stream within a flow collection \(2:1\)$/],
      ['missing-env.yml', /^\/auth\/bearer_token: environment variable ALERTMUX_TOKEN is not set$/],
      ['missing-secret-file.yml', /^\/targets\/0\/signing_secret: cannot read secret file \/nonexistent\/alertmux\/secrets\/audit-signing-secret \(ENOENT\)$/],
    ];
    for (const [file, message] of bad) {
      it(`rejects ${file}`, () => {
        const err = problems(fixtureText(`config/${file}`), {}, '/nonexistent/alertmux');
        expect(err.details, err.message).to.satisfy((lines: string[]) => lines.some((l) => message.test(l)));
        expect(err.message).to.include(err.details[0]);
      });
    }

    it('rejects an empty config', () => {
      expect(() => config(fixtureText('config/empty.yml'))).to.throw(ConfigError, /^config is empty$/);
    });

    it('names the stage that failed in the message', () => {
      expect(problems(fixtureText('config/not-yaml.yml')).message).to.match(/^config is not valid YAML:\n {2}/);
      expect(problems(fixtureText('config/bad-duration.yml')).message).to.match(/^config does not match the schema:\n {2}\/dispatch\/timeout/);
      expect(problems(fixtureText('config/missing-env.yml')).message).to.match(/^config has unresolved secret references:\n/);
      expect(problems(fixtureText('config/bad-matcher.yml')).message).to.match(/^config is invalid:\n/);
    });
  });

  describe('every problem at once', () => {
    it('reports all schema problems of a config together, each with its path', () => {
      const err = problems(fixtureText('config/many-errors.yml'));
      expect(err.details).to.deep.equal([
        '/: unknown field "listn"',
        '/dispatch/timeout: must be a duration such as 30s, 5m, 1h30m or 7d',
        '/targets/0/name: must match pattern "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"',
        '/targets/1/type: unknown target type "pagerduty2"',
      ]);
    });

    it('reports all matcher, link and name problems together', () => {
      const err = problems(fixtureText('config/many-reference-errors.yml'));
      expect(err.details).to.have.length(5);
      expect(err.details[0]).to.match(/^\/targets\/0\/match\/0: target "audit": bad matcher "severity critical"/);
      expect(err.details[1]).to.match(/^\/targets\/0\/match\/1: target "audit": bad matcher "team=~\\"\(ops\\"": invalid regex/);
      expect(err.details[2]).to.equal('/targets/1/name: duplicate target name "audit"');
      expect(err.details[3]).to.match(/^\/enrich\/links\/runbook_url: Parse error/);
      expect(err.details[4]).to.match(/^\/enrich\/links\/dashboard_url: Parse error .*got 'EOF'$/);
    });

    it('names the target of a regex RE2 rejects, in match and in match_route', () => {
      const err = problems(
        'targets:\n' +
          '  - {name: payments, type: log, match: [\'foo=~"a(?!b)"\']}\n' +
          '  - {name: checkout, type: log, match_route: [\'team="a"\', \'"service.name"=~"(a)\\\\1"\']}',
      );
      expect(err.details).to.deep.equal([
        '/targets/0/match/0: target "payments": bad matcher "foo=~\\"a(?!b)\\"": invalid regex for "foo": error parsing regexp: invalid or unsupported Perl syntax: `(?!` (RE2 has no lookahead or lookbehind)',
        `/targets/1/match_route/1: target "checkout": bad matcher ${JSON.stringify('"service.name"=~"(a)\\\\1"')}: invalid regex for "service.name": error parsing regexp: invalid escape sequence: \`\\1\` (RE2 has no backreferences)`,
      ]);
    });

    it('accepts Alertmanager matchers that the old parser refused', () => {
      const cfg = config(
        'targets: [{name: a, type: log, match: [\'"service.name"="checkout"\', \'severity=~"(?i)crit.*"\', \'severity="critical",team="a"\'], match_route: [\'{team="payments"}\']}]',
      );
      expect(cfg.targets[0]).to.deep.include({ match_route: ['{team="payments"}'] });
    });

    it('reports every missing secret reference together', () => {
      const err = problems('auth: {bearer_token: "${env:A}", basic_auth: {username: am, password: "${env:B}"}}\nadmin: {bearer_token: "${file:/nonexistent/t}"}');
      expect(err.details).to.deep.equal([
        '/auth/bearer_token: environment variable A is not set',
        '/auth/basic_auth/password: environment variable B is not set',
        '/admin/bearer_token: cannot read secret file /nonexistent/t (ENOENT)',
      ]);
    });
  });

  describe('secret references', () => {
    it('replaces ${env:NAME} in any string, also inside a longer string', () => {
      const cfg = config(
        'auth: {bearer_token: "${env:TOKEN}"}\ntargets: [{name: audit, type: webhook, url: "https://hooks.example/${env:PATH_PART}/${env:KEY}"}]',
        { TOKEN: 't0k3n', PATH_PART: 'p', KEY: 'k3y' },
      );
      expect(cfg.auth.bearer_token).to.equal('t0k3n');
      expect((cfg.targets[0] as { url: string }).url).to.equal('https://hooks.example/p/k3y');
    });

    it('reads ${file:...} relative to the config directory and trims the trailing newline', () => {
      const dir = temp({ 'secrets/token': 's3cr3t\n', 'secrets/multi': 'line1\nline2\r\n' });
      const cfg = config(`auth: {bearer_token: "\${file:secrets/token}"}\nadmin: {bearer_token: "\${file:${dir}/secrets/multi}"}`, {}, dir);
      expect(cfg.auth.bearer_token).to.equal('s3cr3t');
      expect(cfg.admin.bearer_token).to.equal('line1\nline2');
    });

    it('names the field and the variable of a missing reference, never a resolved value', () => {
      const err = problems('targets: [{name: audit, type: webhook, url: "https://hooks.example/${env:PRESENT}/${env:MISSING}"}]', {
        PRESENT: 'value-of-present',
      });
      expect(err.details).to.deep.equal(['/targets/0/url: environment variable MISSING is not set']);
      expect(err.message).to.not.include('value-of-present');
    });

    it('names the field and the file of an unreadable secret file, never its neighbours\' values', () => {
      const dir = temp({ 'secrets/present': 'value-of-present\n' });
      const err = problems('auth: {bearer_token: "${file:secrets/present}", basic_auth: {username: am, password: "${file:secrets/absent}"}}', {}, dir);
      expect(err.details).to.deep.equal([`/auth/basic_auth/password: cannot read secret file ${dir}/secrets/absent (ENOENT)`]);
      expect(err.message).to.not.include('value-of-present');
    });

    it('keeps every resolved and every secret-typed value in config.secrets', () => {
      const dir = temp({ 'pw': 'file-password\n' });
      const cfg = config(
        `
auth:
  bearer_token: \${env:TOKEN}
  basic_auth: {username: am, password: "\${file:pw}"}
enrich:
  labels: {cluster: "\${env:CLUSTER}"}
targets:
  - name: audit
    type: webhook
    url: http://audit.internal/alerts
    bearer_token: plain-token
    headers: {X-Api-Key: header-key}
`,
        { TOKEN: 'env-token', CLUSTER: 'prod-eu-1' },
        dir,
      );
      expect(cfg.secrets).to.include.members(['env-token', 'file-password', 'prod-eu-1', 'http://audit.internal/alerts', 'plain-token', 'header-key']);
      expect(cfg.secrets).to.not.include('am');
    });
  });

  describe('loadConfigFile', () => {
    it('resolves ${file:...} and relative paths against the directory of the file', () => {
      const dir = temp({ 'alertmux.yml': 'auth: {bearer_token: "${file:token}"}\nstorage: {path: state/a.db}\n', token: 'from-file\n' });
      const cfg = loadConfigFile(join(dir, 'alertmux.yml'), { env: {} });
      expect(cfg.auth.bearer_token).to.equal('from-file');
      expect(cfg.storage.path).to.equal(join(dir, 'state/a.db'));
    });

    it('takes environment variables from the given source', () => {
      const dir = temp({ 'alertmux.yml': 'auth: {bearer_token: "${env:T}"}\n' });
      expect(loadConfigFile(join(dir, 'alertmux.yml'), { env: { T: 'x' } }).auth.bearer_token).to.equal('x');
    });

    it('says which file it could not read', () => {
      expect(() => loadConfigFile('/nonexistent/alertmux.yml')).to.throw(ConfigError, /^cannot read config file \/nonexistent\/alertmux\.yml: ENOENT$/);
    });
  });

  describe('targets_dir', () => {
    /** A Kubernetes Secret volume: files are symlinks into a hidden, timestamped `..data` directory. */
    function secretVolume(dir: string, files: Record<string, string>): void {
      const data = join(dir, '..2026_11_22_23_00_00.123');
      mkdirSync(data, { recursive: true });
      for (const [name, text] of Object.entries(files)) writeFileSync(join(data, name), text);
      symlinkSync('..2026_11_22_23_00_00.123', join(dir, '..data'));
      for (const name of Object.keys(files)) symlinkSync(join('..data', name), join(dir, name));
    }

    function targetsDir(): { root: string; cfg: Config } {
      const root = temp({
        'alertmux.yml': 'targets_dir: targets.d\ntargets: [{name: log, type: log}]\n',
        'targets.d/audit.yml': 'type: webhook\nurl: http://audit.internal/alerts\nmatch: [\'severity="critical"\']\n',
        'targets.d/jsonl.json': JSON.stringify({ type: 'file', path: '/var/lib/alertmux/out.jsonl' }),
        'targets.d/named.yaml': 'name: chosen-name\ntype: log\nlevel: warn\n',
        'targets.d/README.md': 'not a target',
        'targets.d/no-config/notes.txt': 'a directory without a config file is not a target',
        'targets.d/.hidden.yml': 'type: nonsense',
      });
      secretVolume(join(root, 'targets.d/pd-secret'), {
        config: 'type: webhook\nurl: "${file:url}"\nsigning_secret: "${file:signing_secret}"\n',
        url: 'https://hooks.example/T0/B0/abc\n',
        signing_secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n',
      });
      // The mount's own hidden entries at the top level are ignored too.
      mkdirSync(join(root, 'targets.d/..data'));
      writeFileSync(join(root, 'targets.d/..data/config'), 'type: nonsense');
      return { root, cfg: loadConfigFile(join(root, 'alertmux.yml')) };
    }

    it('adds one target per file or mounted Secret, after the targets of the config file', () => {
      const { cfg } = targetsDir();
      expect(cfg.targets.map((t) => [t.name, t.type])).to.deep.equal([
        ['log', 'log'],
        ['audit', 'webhook'],
        ['jsonl', 'file'],
        ['chosen-name', 'log'],
        ['pd-secret', 'webhook'],
      ]);
    });

    it('applies defaults and durations to targets from files', () => {
      const { cfg } = targetsDir();
      const audit = cfg.targets.find((t) => t.name === 'audit');
      expect(audit).to.deep.include({ enabled: true, send_resolved: true, format: 'alertmanager', match: ['severity="critical"'] });
    });

    it('resolves ${file:...} in a mounted Secret relative to its own directory, and counts the values as secrets', () => {
      const { cfg } = targetsDir();
      const pd = cfg.targets.find((t) => t.name === 'pd-secret') as { url: string; signing_secret: string };
      expect(pd.url).to.equal('https://hooks.example/T0/B0/abc');
      expect(pd.signing_secret).to.equal('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
      expect(cfg.secrets).to.include.members(['https://hooks.example/T0/B0/abc', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw']);
    });

    it('reports an invalid target file with its path, next to the other problems', () => {
      const root = temp({
        'alertmux.yml': 'targets_dir: t\n',
        't/broken.yml': 'type: webhook\n',
        't/syntax.yml': 'type: [\n',
        't/list.yml': '- a\n',
        't/Bad_Name.yml': 'type: log\n',
        't/missing/config': 'type: webhook\nurl: "${file:url}"\n',
        't/ok.yml': 'type: log\n',
      });
      const dir = join(root, 't');
      // A key removed from a mounted Secret can leave a dangling link for a moment.
      symlinkSync(join(dir, '..data', 'gone.yml'), join(dir, 'gone.yml'));
      let err: ConfigError | undefined;
      try {
        loadConfigFile(join(root, 'alertmux.yml'));
      } catch (e) {
        err = e as ConfigError;
      }
      expect(err).to.be.instanceOf(ConfigError);
      expect(err!.details).to.deep.equal([
        `${dir}/Bad_Name.yml: /name: must match pattern "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"`,
        `${dir}/broken.yml: /: must have required property 'url'`,
        `${dir}/gone.yml: cannot read (ENOENT)`,
        `${dir}/list.yml: must be a mapping of one target`,
        `${dir}/missing/config: /url: cannot read secret file ${dir}/missing/url (ENOENT)`,
        `${dir}/syntax.yml: unexpected end of the stream within a flow collection (2:1)`,
      ]);
    });

    it('reports a name clash between the config file and the directory', () => {
      const root = temp({ 'alertmux.yml': 'targets_dir: t\ntargets: [{name: audit, type: log}]\n', 't/audit.yml': 'type: log\n' });
      expect(() => loadConfigFile(join(root, 'alertmux.yml'))).to.throw(ConfigError, /duplicate target name "audit"/);
    });

    it('reports a targets_dir that cannot be read', () => {
      expect(() => config('targets_dir: /nonexistent/targets.d')).to.throw(ConfigError, /targets_dir: cannot read \/nonexistent\/targets\.d \(ENOENT\)/);
    });
  });

  describe('the loaded config', () => {
    it('is frozen all the way down', () => {
      const cfg = config('enrich: {labels: {a: b}}\ntargets: [{name: audit, type: log, match: ["a=b"]}]');
      expect(Object.isFrozen(cfg)).to.equal(true);
      expect(Object.isFrozen(cfg.dispatch)).to.equal(true);
      expect(Object.isFrozen(cfg.enrich.labels)).to.equal(true);
      expect(Object.isFrozen(cfg.targets)).to.equal(true);
      expect(Object.isFrozen(cfg.targets[0]!.match)).to.equal(true);
      expect(Object.isFrozen(cfg.secrets)).to.equal(true);
      expect(() => {
        (cfg as { listen: string }).listen = '0.0.0.0:1';
      }).to.throw(TypeError);
      expect(() => (cfg.targets[0]!.match as string[]).push('b=c')).to.throw(TypeError);
    });

    it('is a fresh object per parse, so defaults are never shared between configs', () => {
      const a = parseConfig('{}', { env: {}, baseDir: '/tmp' });
      const b = parseConfig('{}', { env: {}, baseDir: '/tmp' });
      expect(a.enrich.labels).to.not.equal(b.enrich.labels);
      expect(a).to.deep.equal(b);
    });
  });
});
