import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, refusedPort, startApp, type TestApp } from '../helpers/servers.js';
import { fixture } from '../helpers/fixtures.js';

/** Debian's package installs the binary under this name; upstream tarballs call it `alertmanager`. */
const BINARIES = ['prometheus-alertmanager', 'alertmanager'];

interface GettableAlert {
  labels: Record<string, string>;
  status: { state: string };
}

describe('an alertmanager target fed to a real Alertmanager', function () {
  this.timeout(60_000);
  const binary = BINARIES.find((b) => spawnSync(b, ['--version'], { stdio: 'ignore' }).status === 0);
  let alertmanager: ChildProcess | undefined;
  let app: TestApp | undefined;
  let dir: string | undefined;

  before(function () {
    if (binary) return;
    if (process.env['CI']) throw new Error(`CI is set but no Alertmanager binary (${BINARIES.join(' or ')}) is on PATH: .ci/run must apt-get install prometheus-alertmanager`);
    console.log(`      (skipped: no ${BINARIES.join(' or ')} on PATH)`);
    this.skip();
  });

  after(async () => {
    alertmanager?.kill('SIGKILL');
    await app?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('resolves the alerts posted under the old extra_labels when a reload changes them, without waiting for resolve_timeout', async () => {
    dir = mkdtempSync(join(tmpdir(), 'alertmux-amtarget-'));
    const amPort = await refusedPort();
    // resolve_timeout is long: an alert left behind would stay active for the whole test.
    writeFileSync(join(dir, 'alertmanager.yml'), 'global: {resolve_timeout: 1h}\nroute: {receiver: none}\nreceivers: [{name: none}]\n');
    let amLog = '';
    alertmanager = spawn(
      binary!,
      [
        `--config.file=${join(dir, 'alertmanager.yml')}`,
        `--storage.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${amPort}`,
        '--cluster.listen-address=',
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    alertmanager.stderr?.on('data', (d: Buffer) => (amLog += d.toString()));
    const am = `http://127.0.0.1:${amPort}`;
    await eventually(async () => (await fetch(`${am}/-/ready`).catch(() => undefined))?.ok, `Alertmanager ready (${amLog})`, 20_000);
    /** The alerts Alertmanager holds as active (resolved ones are not listed). */
    const active = async () => {
      const res = await fetch(`${am}/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true`);
      return ((await res.json()) as GettableAlert[]).filter((a) => a.status.state !== 'resolved').map((a) => a.labels['relayed_by']);
    };

    const config = (relayedBy: string) => `storage: {path: ":memory:"}
targets:
  - {name: downstream, type: alertmanager, url: "${am}", repost_interval: 1s, extra_labels: {relayed_by: ${relayedBy}}}
`;
    app = await startApp(config('alertmux-a'));
    const firing = fixture('am025-firing-1-firing-noauth.json');
    firing.alerts[0]!.startsAt = new Date(Date.now() - 60_000).toISOString();
    expect((await app.post('/webhook', firing)).status).to.equal(200);
    expect(await active()).to.deep.equal(['alertmux-a']);

    app.setConfig(config('alertmux-b'));
    expect(await app.mux.reload()).to.deep.equal({ ok: true });
    // The first re-post after the reload (1s) ends the old label set and posts the new one.
    await eventually(async () => JSON.stringify(await active()) === JSON.stringify(['alertmux-b']), `only the new label set active (${amLog})`);

    // Resolving the alert then leaves nothing active under either label set.
    const resolved = fixture('am025-resolved-1-resolved-noauth.json');
    resolved.alerts[0]!.startsAt = firing.alerts[0]!.startsAt;
    resolved.alerts[0]!.endsAt = new Date().toISOString();
    expect((await app.post('/webhook', resolved)).status).to.equal(200);
    await eventually(async () => (await active()).length === 0, 'no active alert');
  });
});
