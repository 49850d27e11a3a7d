import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { fixture } from '../helpers/fixtures.js';
import { eventually, loopbackTarget, refusedPort, type LoopbackTarget } from '../helpers/servers.js';
import { CLI, startService, type Service } from './process.js';

describe('a broken targets_dir file on SIGHUP (built service: npm run build)', function () {
  this.timeout(120_000);
  let dir: string;
  let service: Service | undefined;
  let sink: LoopbackTarget;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'alertmux-e2e-targets-dir-'));
    sink = await loopbackTarget();
  });
  afterEach(async () => {
    if (service && service.child.exitCode === null) {
      service.child.kill('SIGTERM');
      await service.exited;
    }
    service = undefined;
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('adds the good new file, keeps the broken one running at its last good version, reports it, and check-config fails for it', async () => {
    const config = join(dir, 'alertmux.yml');
    writeFileSync(config, 'storage: {path: ":memory:"}\ntargets_dir: t\ntargets_dir_interval: 0s\n');
    mkdirSync(join(dir, 't'));
    const teamA = join(dir, 't', 'team-a.yml');
    writeFileSync(teamA, `type: webhook\nurl: "${sink.url}/a"\n`);
    service = await startService(config, await refusedPort());
    const get = async (path: string) => (await fetch(`${service!.base}${path}`)).text();

    writeFileSync(teamA, `type: webhook\nurl: "${sink.url}/a-v2"\nmatch: ['severity=~"(critical"']\n`);
    writeFileSync(join(dir, 't', 'team-b.yml'), `type: webhook\nurl: "${sink.url}/b"\n`);
    service.child.kill('SIGHUP');
    await eventually(async () => (await get('/api/v1/targets')).includes('"team-b"'), 'team-b after SIGHUP');

    const status = JSON.parse(await get('/api/v1/config/status')) as { targetsDir: { broken: number; files: Array<{ state: string; problems: string[] }> } };
    expect(status.targetsDir.broken).to.equal(1);
    expect(status.targetsDir.files.map((f) => f.state)).to.deep.equal(['kept', 'loaded']);
    expect(status.targetsDir.files[0]!.problems).to.deep.equal([
      `${teamA}:3:9: target "team-a": match[0]: bad matcher "severity=~\\"(critical\\"": invalid regex for "severity": error parsing regexp: missing closing ): \`^(?:(critical)$\``,
    ]);
    const metrics = await get('/metrics');
    expect(metrics).to.match(/^alertmux_targets_dir_broken_files 1$/m);
    expect(metrics).to.contain(`alertmux_targets_dir_file_last_load_success{file="${teamA}"} 0`);
    const line = service.output().split('\n').find((l) => l.includes('targets_dir file is broken'));
    expect(JSON.parse(line!)).to.deep.include({ level: 'error', message: 'targets_dir file is broken; keeping the last good version of its target', file: teamA, target: 'team-a' });

    const res = await fetch(`${service.base}/webhook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(fixture()) });
    expect(res.status).to.equal(200);
    expect(sink.received.map((r) => r.path).sort()).to.deep.equal(['/a', '/b']);

    const check = spawnSync(process.execPath, [CLI, 'check-config', config], { encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).to.equal(1);
    expect(check.stderr).to.contain('FAILED: 1 of 2 targets_dir files are broken');
    expect(check.stderr).to.contain(`${teamA}:3:9: target "team-a": match[0]: bad matcher`);
  });
});
