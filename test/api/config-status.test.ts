import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { loadConfigFile } from '../../src/config/load.js';
import { fixture } from '../helpers/fixtures.js';
import { recordingLogger } from '../helpers/logs.js';
import { loopbackTarget, startApp, type LoopbackTarget, type TestApp } from '../helpers/servers.js';

const FIRING = 'am025-firing-2-firing-firing-noauth.json';

describe('a reload with a broken targets_dir file (in-process app)', () => {
  let root: string;
  let app: TestApp | undefined;
  let a: LoopbackTarget;
  let b: LoopbackTarget;
  const write = (path: string, text: string) => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  const main = (extra = '') => `storage: {path: ":memory:"}\ntargets_dir: t\ntargets_dir_interval: 0s\ndispatch: {response_deadline: 2s}\n${extra}`;

  beforeEach(async () => {
    root = mkdtempSync(join(tmpdir(), 'alertmux-config-status-'));
    [a, b] = await Promise.all([loopbackTarget(), loopbackTarget()]);
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await Promise.all([a.close(), b.close()]);
    rmSync(root, { recursive: true, force: true });
  });

  const start = async () => {
    const { logger, lines } = recordingLogger();
    const file = join(root, 'alertmux.yml');
    app = await startApp('', { logger, loadConfig: (previous) => loadConfigFile(file, { env: {} }, previous) });
    return { lines, app };
  };

  it('adds the good new file, keeps the broken one at its last good version, and reports it in the log, the metrics and the status route', async () => {
    write('alertmux.yml', main());
    write('t/team-a.yml', `type: webhook\nurl: "${a.url}/a"\n`);
    const { lines, app } = await start();
    expect((await app.get('/api/v1/config/status')).body.targetsDir).to.deep.include({ broken: 0 });

    write('t/team-a.yml', `type: webhook\nurl: "${a.url}/a-v2"\nwebhok_url: x\n`);
    write('t/team-b.yml', `type: webhook\nurl: "${b.url}/b"\n`);
    const reload = await app.post('/-/reload', undefined);
    expect(reload.status, reload.text).to.equal(200);

    const names = (await app.get('/api/v1/targets')).body.targets.map((t: { name: string }) => t.name);
    expect(names).to.deep.equal(['team-a', 'team-b']);
    const res = await app.post('/webhook', fixture(FIRING));
    expect(res.status).to.equal(200);
    // The kept version still points at /a, not the broken file's /a-v2.
    expect(a.received.map((r) => r.path)).to.deep.equal(['/a']);
    expect(b.received).to.have.length(1);

    const broken = join(root, 't/team-a.yml');
    const line = lines.find((l) => l.level === 'error' && l.message.startsWith('targets_dir file is broken'));
    expect(line?.message).to.equal('targets_dir file is broken; keeping the last good version of its target');
    expect(line?.meta).to.deep.equal({ file: broken, target: 'team-a', problems: [`${broken}:3:1: target "team-a": unknown field \`webhok_url\``] });

    const metrics = (await app.get('/metrics')).text;
    expect(metrics).to.match(/^alertmux_targets_dir_broken_files 1$/m);
    expect(metrics).to.contain(`alertmux_targets_dir_file_last_load_success{file="${broken}"} 0`);
    expect(metrics).to.contain(`alertmux_targets_dir_file_last_load_success{file="${join(root, 't/team-b.yml')}"} 1`);

    const status = (await app.get('/api/v1/config/status')).body;
    expect(status.lastLoad.ok).to.equal(true);
    expect(status.targetsDir).to.deep.equal({
      dir: join(root, 't'),
      broken: 1,
      files: [
        { file: broken, target: 'team-a', state: 'kept', problems: [line!.meta['problems'] as string[]].flat() },
        { file: join(root, 't/team-b.yml'), target: 'team-b', state: 'loaded', problems: [] },
      ],
    });

    // Fixed: the gauges say so, and a removed file leaves the per-file series.
    write('t/team-a.yml', `type: webhook\nurl: "${a.url}/a-v3"\n`);
    rmSync(join(root, 't/team-b.yml'));
    expect((await app.post('/-/reload', undefined)).status).to.equal(200);
    const after = (await app.get('/metrics')).text;
    expect(after).to.match(/^alertmux_targets_dir_broken_files 0$/m);
    expect(after).to.contain(`alertmux_targets_dir_file_last_load_success{file="${broken}"} 1`);
    expect(after).not.to.contain('team-b.yml');
  });

  it('rejects a broken main config with every problem, and says so in the log and the status route', async () => {
    write('alertmux.yml', main());
    write('t/team-a.yml', `type: webhook\nurl: "${a.url}/a"\n`);
    const { lines, app } = await start();
    write('alertmux.yml', main('dispatch: {timeout: 30}\nlistn: x\n'));
    const reload = await app.post('/-/reload', undefined);
    expect(reload.status).to.equal(500);
    const file = join(root, 'alertmux.yml');
    expect(reload.text).to.equal(`failed to reload config: config is not valid YAML:\n  ${file}:5:1: Map keys must be unique`);
    write('alertmux.yml', main('limits: {max_body_bytes: 10}\nlistn: x\n'));
    const again = await app.post('/-/reload', undefined);
    expect(again.text).to.equal(
      `failed to reload config: config is invalid (2 problems):\n  ${file}:5:26: limits.max_body_bytes: must be >= 1024\n  ${file}:6:1: unknown field \`listn\`; did you mean \`listen\`?`,
    );
    const line = lines.findLast((l) => l.message === 'config reload failed; keeping the previous config');
    expect(line?.meta).to.deep.equal({
      error: 'config is invalid (2 problems):',
      problems: [`${file}:5:26: limits.max_body_bytes: must be >= 1024`, `${file}:6:1: unknown field \`listn\`; did you mean \`listen\`?`],
    });
    const status = (await app.get('/api/v1/config/status')).body;
    expect(status.lastLoad).to.deep.include({ ok: false, error: 'config is invalid (2 problems):' });
    expect(status.lastLoad.problems).to.have.length(2);
    expect(status.targetsDir.files).to.have.length(1);
  });

  it('warns on a reload that changes settings read only at start, naming them', async () => {
    write('alertmux.yml', main());
    mkdirSync(join(root, 't'));
    const { lines, app } = await start();
    expect(lines.filter((l) => l.level === 'warn').map((l) => l.message)).to.deep.equal(['config: the config has no targets: notifications are accepted and delivered nowhere']);
    write('alertmux.yml', main('listen: 127.0.0.1:1\nlimits: {max_connections: 5, max_body_bytes: 4096}\nlog: {level: debug}\n'));
    expect((await app.post('/-/reload', undefined)).status).to.equal(200);
    const warn = lines.find((l) => l.level === 'warn' && l.message.startsWith('config reload changes'));
    expect(warn?.message).to.equal('config reload changes listen, limits.max_connections, log.level, which take effect only after a restart; the running values stay until then');
    expect(warn?.meta).to.deep.equal({ settings: ['listen', 'limits.max_connections', 'log.level'] });
    expect((await app.get('/api/v1/config/status')).body.warnings).to.include('changed settings that take effect only after a restart: listen, limits.max_connections, log.level');
  });
});
