import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { ConfigError, formatProblem, loadConfigFile, parseConfig } from '../../src/config/load.js';
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
      ['bad-duration.yml', /^line 3:12: dispatch\.timeout: must be a duration such as 30s, 5m, 1h30m or 7d$/],
      ['bad-duration-number.yml', /^line 3:12: retry\.max_age: `max_age: 86400` has no unit; write 86400s \(or 500ms, 5m, 1h\)$/],
      ['unknown-field.yml', /^line 2:1: unknown field `listn`; did you mean `listen`\?$/],
      ['unknown-target-field.yml', /^line 6:5: target "audit": unknown field `retries`$/],
      ['unknown-target-type.yml', /^line 3:11: target "pd": type: unknown target type "pagerduty2"; did you mean "pagerduty"\? \(one of webhook, file, .+\)$/],
      ['duplicate-target-names.yml', /^line 4:11: target "audit": name: duplicate target name "audit" \(also defined in the config file\)$/],
      ['bad-target-name.yml', /^line 3:11: target "Audit_Log": name: must match pattern "\^\[a-z0-9\]\(\[-a-z0-9\]\*\[a-z0-9\]\)\?\$"$/],
      ['bad-matcher.yml', /^line 4:13: target "oncall": match\[0\]: bad matcher "severity critical": 9:17: unexpected critical: expected an operator such as '=', '!=', '=~' or '!~'$/],
      ['bad-regex.yml', /^line 4:13: target "oncall": match\[0\]: bad matcher "severity=~\\"\(critical\\"": invalid regex for "severity": error parsing regexp: missing closing \): .+$/],
      ['bad-link-template.yml', /^line 3:18: enrich\.links\.runbook_url: Parse error on line 1: Expecting 'ID', got 'INVALID'$/],
      ['missing-url.yml', /^line 2:5: target "audit": missing required field `url`$/],
      ['bad-format.yml', /^line 5:13: target "audit": format: must be one of alertmanager, alertmux$/],
      ['bad-listen.yml', /^line 1:9: listen: must match pattern .+$/],
      ['too-much-concurrency.yml', /^line 2:20: dispatch\.max_concurrency: must be <= 200$/],
      ['bad-signing-secret.yml', /^line 5:21: target "audit": signing_secret: must match pattern .+$/],
      ['not-a-mapping.yml', /^line 1:1: must be a mapping of settings \(`key: value` lines\), not a list or a single value$/],
      ['not-yaml.yml', /^line 2:1: Flow sequence in block collection must be sufficiently indented and end with a \]$/],
      ['missing-env.yml', /^line 2:17: auth\.bearer_token: environment variable ALERTMUX_TOKEN is not set$/],
      ['missing-secret-file.yml', /^line 5:21: target "audit": signing_secret: cannot read secret file \/nonexistent\/alertmux\/secrets\/audit-signing-secret \(ENOENT\)$/],
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

    it('says in the message whether the YAML did not parse or how many problems the config has', () => {
      expect(problems(fixtureText('config/not-yaml.yml')).message).to.match(/^config is not valid YAML:\n {2}line 2:1: /);
      expect(problems(fixtureText('config/bad-duration.yml')).message).to.match(/^config is invalid \(1 problem\):\n {2}line 3:12: dispatch\.timeout/);
      expect(problems(fixtureText('config/many-errors.yml')).message).to.match(/^config is invalid \(4 problems\):\n/);
    });
  });

  describe('every problem at once', () => {
    it('reports all schema problems of a config together, each with its path', () => {
      const err = problems(fixtureText('config/many-errors.yml'));
      expect(err.details).to.deep.equal([
        'line 2:1: unknown field `listn`; did you mean `listen`?',
        'line 4:12: dispatch.timeout: must be a duration such as 30s, 5m, 1h30m or 7d',
        'line 6:11: target "Audit_Log": name: must match pattern "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"',
        'line 9:11: target "pd": type: unknown target type "pagerduty2"; did you mean "pagerduty"? (one of webhook, file, log, rootly, alertmanager, teams, discord, pagerduty, slack)',
      ]);
    });

    it('reports all matcher, link and name problems together', () => {
      const err = problems(fixtureText('config/many-reference-errors.yml'));
      expect(err.details).to.have.length(5);
      // In the order of the file.
      expect(err.details[0]).to.match(/^line 4:18: enrich\.links\.runbook_url: Parse error/);
      expect(err.details[1]).to.match(/^line 5:20: enrich\.links\.dashboard_url: Parse error .*got 'EOF'$/);
      expect(err.details[2]).to.match(/^line 9:13: target "audit": match\[0\]: bad matcher "severity critical"/);
      expect(err.details[3]).to.match(/^line 9:34: target "audit": match\[1\]: bad matcher "team=~\\"\(ops\\"": invalid regex/);
      expect(err.details[4]).to.equal('line 10:11: target "audit": name: duplicate target name "audit" (also defined in the config file)');
    });

    it('names the target of a regex RE2 rejects, in match and in match_route', () => {
      const err = problems(
        'targets:\n' +
          '  - {name: payments, type: log, match: [\'foo=~"a(?!b)"\']}\n' +
          '  - {name: checkout, type: log, match_route: [\'team="a"\', \'"service.name"=~"(a)\\\\1"\']}',
      );
      expect(err.details).to.deep.equal([
        'line 2:41: target "payments": match[0]: bad matcher "foo=~\\"a(?!b)\\"": invalid regex for "foo": error parsing regexp: invalid or unsupported Perl syntax: `(?!` (RE2 has no lookahead or lookbehind)',
        `line 3:59: target "checkout": match_route[1]: bad matcher ${JSON.stringify('"service.name"=~"(a)\\\\1"')}: invalid regex for "service.name": error parsing regexp: invalid escape sequence: \`\\1\` (RE2 has no backreferences)`,
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
        'line 1:22: auth.bearer_token: environment variable A is not set',
        'line 1:71: auth.basic_auth.password: environment variable B is not set',
        'line 2:23: admin.bearer_token: cannot read secret file /nonexistent/t (ENOENT)',
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
      expect(err.details).to.deep.equal(['line 1:45: target "audit": url: environment variable MISSING is not set']);
      expect(err.message).to.not.include('value-of-present');
    });

    it('names the field and the file of an unreadable secret file, never its neighbours\' values', () => {
      const dir = temp({ 'secrets/present': 'value-of-present\n' });
      const err = problems('auth: {bearer_token: "${file:secrets/present}", basic_auth: {username: am, password: "${file:secrets/absent}"}}', {}, dir);
      expect(err.details).to.deep.equal([`line 1:86: auth.basic_auth.password: cannot read secret file ${dir}/secrets/absent (ENOENT)`]);
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

    it('leaves out a broken target file with every problem, its line and its target, and loads the rest', () => {
      const root = temp({
        'alertmux.yml': 'targets_dir: t\n',
        't/broken.yml': 'type: webhook\n',
        't/syntax.yml': 'type: [\n',
        't/list.yml': '- a\n',
        't/Bad_Name.yml': 'type: log\n',
        't/missing/config': 'type: webhook\nurl: "${file:url}"\n',
        't/typo.yml': 'type: log\nlevle: warn\ntimeout: 30\n',
        't/ok.yml': 'type: log\n',
      });
      const dir = join(root, 't');
      // A key removed from a mounted Secret can leave a dangling link for a moment.
      symlinkSync(join(dir, '..data', 'gone.yml'), join(dir, 'gone.yml'));
      const cfg = loadConfigFile(join(root, 'alertmux.yml'));
      expect(cfg.targets.map((t) => t.name)).to.deep.equal(['ok']);
      const files = cfg.targetFiles!.map((f) => [f.file.slice(dir.length + 1), f.state, f.problems.map(formatProblem)]);
      expect(files).to.deep.equal([
        ['Bad_Name.yml', 'skipped', [`${dir}/Bad_Name.yml:1:1: target "Bad_Name": name: must match pattern "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" (the name is the file's; rename the file or set \`name:\` in it)`]],
        ['broken.yml', 'skipped', [`${dir}/broken.yml:1:1: target "broken": missing required field \`url\``]],
        ['gone.yml', 'skipped', [`${dir}/gone.yml: target "gone": cannot read (ENOENT)`]],
        ['list.yml', 'skipped', [`${dir}/list.yml: target "list": must be a mapping of one target`]],
        ['missing/config', 'skipped', [`${dir}/missing/config:2:6: target "missing": url: cannot read secret file ${dir}/missing/url (ENOENT)`]],
        ['ok.yml', 'loaded', []],
        ['syntax.yml', 'skipped', [`${dir}/syntax.yml:2:1: target "syntax": Flow sequence in block collection must be sufficiently indented and end with a ]`]],
        [
          'typo.yml',
          'skipped',
          [`${dir}/typo.yml:2:1: target "typo": unknown field \`levle\`; did you mean \`level\`?`, `${dir}/typo.yml:3:10: target "typo": timeout: \`timeout: 30\` has no unit; write 30s (or 500ms, 5m, 1h)`],
        ],
      ]);
    });

    it('leaves out a directory target whose name the config file uses (the config file keeps it)', () => {
      const root = temp({ 'alertmux.yml': 'targets_dir: t\ntargets: [{name: audit, type: log}]\n', 't/audit.yml': 'type: webhook\nurl: http://x.internal/\n' });
      const cfg = loadConfigFile(join(root, 'alertmux.yml'));
      expect(cfg.targets.map((t) => [t.name, t.type])).to.deep.equal([['audit', 'log']]);
      expect(cfg.targetFiles!.map((f) => f.problems.map(formatProblem))).to.deep.equal([
        [`${join(root, 't/audit.yml')}:1:1: target "audit": name: duplicate target name "audit" (also defined in the config file)`],
      ]);
    });

    it('rejects the whole config when the main file is broken, with the problems of its targets_dir files too', () => {
      const root = temp({ 'alertmux.yml': 'targets_dir: t\nlisten: nowhere\n', 't/a.yml': 'type: nope\n', 't/b.yml': 'type: log\n' });
      const file = join(root, 'alertmux.yml');
      expect(() => loadConfigFile(file)).to.throw(ConfigError, /^config is invalid \(2 problems\):\n {2}.+alertmux\.yml:2:9: listen: must match pattern .+\n {2}.+t\/a\.yml:1:7: target "a": type: unknown target type "nope"/);
    });
    it('reports a targets_dir that cannot be read', () => {
      expect(() => config('targets_dir: /nonexistent/targets.d')).to.throw(ConfigError, /line 1:14: targets_dir: cannot read \/nonexistent\/targets\.d \(ENOENT\)/);
    });
  });

  describe('warnings and small forms', () => {
    it('warns on a config without targets, unless discovery may bring some', () => {
      expect(config('{}').warnings).to.deep.equal(['the config has no targets: notifications are accepted and delivered nowhere']);
      expect(config('discovery: {kubernetes: {}}').warnings).to.deep.equal([]);
      expect(config('targets: [{name: a, type: log}]').warnings).to.deep.equal([]);
    });

    it('takes a bare 0 as a duration of zero', () => {
      expect(config('targets_dir_interval: 0').targets_dir_interval).to.equal(0);
    });

    it('refuses a `${` that is not a secret reference, but not a `$` before a Handlebars expression', () => {
      expect(problems('auth: {bearer_token: "${TOKEN}"}').details).to.deep.equal([
        'line 1:22: auth.bearer_token: has `${` that is not a secret reference: write ${env:NAME} or ${file:/path}',
      ]);
      expect(config('enrich: {links: {cost: "https://cost.example.com/${{labels.team}}"}}').enrich.links).to.deep.equal({ cost: 'https://cost.example.com/${{labels.team}}' });
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
