import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, loopbackTarget, refusedPort, startApp, type LoopbackTarget, type TestApp } from '../helpers/servers.js';
import type { WebhookMessage } from '../../src/alerts/types.js';

/** Debian's package installs the binary under this name; upstream tarballs call it `alertmanager`. */
const BINARIES = ['prometheus-alertmanager', 'alertmanager'];

function findAlertmanager(): string | undefined {
  return BINARIES.find((b) => spawnSync(b, ['--version'], { stdio: 'ignore' }).status === 0);
}

/** One Alertmanager of the pair: clustering off, so it notifies on its own as a peer whose gossip fails would. */
interface Peer {
  base: string;
  process: ChildProcess;
  log(): string;
  post(alerts: unknown[]): Promise<void>;
}

describe('end to end with a real Alertmanager HA pair (dedup as nflog decides it)', function () {
  this.timeout(90_000);
  const binary = findAlertmanager();
  const peers: Peer[] = [];
  let app: TestApp | undefined;
  let target: LoopbackTarget | undefined;
  let dir: string | undefined;

  before(function () {
    if (binary) return;
    if (process.env['CI']) throw new Error(`CI is set but no Alertmanager binary (${BINARIES.join(' or ')}) is on PATH: .ci/run must apt-get install prometheus-alertmanager`);
    console.log(`      (skipped: no ${BINARIES.join(' or ')} on PATH; apt-get install prometheus-alertmanager to run it)`);
    this.skip();
  });

  after(async () => {
    for (const p of peers) p.process.kill('SIGKILL');
    await app?.close();
    await target?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function startPeer(name: string, webhook: string): Promise<Peer> {
    const home = join(dir!, name);
    const port = await refusedPort();
    const config = join(dir!, `${name}.yml`);
    writeFileSync(
      config,
      `route:
  receiver: alertmux
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: alertmux
    webhook_configs:
      - url: ${webhook}
        send_resolved: true
`,
    );
    let log = '';
    const child = spawn(
      binary!,
      [
        `--config.file=${config}`,
        `--storage.path=${home}`,
        `--web.listen-address=127.0.0.1:${port}`,
        `--web.external-url=http://127.0.0.1:${port}`,
        '--cluster.listen-address=',
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    const base = `http://127.0.0.1:${port}`;
    const peer: Peer = {
      base,
      process: child,
      log: () => log,
      post: async (alerts) => {
        const res = await fetch(`${base}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alerts) });
        expect(res.status, await res.text()).to.equal(200);
      },
    };
    peers.push(peer);
    await eventually(async () => (await fetch(`${base}/-/ready`).catch(() => undefined))?.ok, `Alertmanager ${name} ready (${log})`, 20_000);
    return peer;
  }

  it('delivers each firing and each resolved group once though the peers disagree on startsAt/endsAt; a flapping alert three times', async () => {
    target = await loopbackTarget();
    app = await startApp(
      `storage: {path: ":memory:"}
dedup: {window: 10m}
targets:
  - {name: pager, type: webhook, url: "${target.url}/hook", send_resolved: true}
`,
    );
    dir = mkdtempSync(join(tmpdir(), 'alertmux-am-ha-'));
    const [one, two] = [await startPeer('one', `${app.base}/webhook`), await startPeer('two', `${app.base}/webhook`)];
    const labels = { alertname: 'E2EHAPair', instance: 'db-1', severity: 'critical' };
    const annotations = { summary: 'replica lag on db-1' };
    // As two Prometheus replicas evaluate the same rule: the same labels, timestamps a few milliseconds apart.
    const at = (base: number, skewMs: number) => new Date(base + skewMs).toISOString();
    const fire = async (startsAt: number) => {
      await one!.post([{ labels, annotations, startsAt: at(startsAt, 0) }]);
      await two!.post([{ labels, annotations, startsAt: at(startsAt, 7) }]);
    };
    const resolve = async (startsAt: number, endsAt: number) => {
      await one!.post([{ labels, annotations, startsAt: at(startsAt, 0), endsAt: at(endsAt, 0) }]);
      await two!.post([{ labels, annotations, startsAt: at(startsAt, 7), endsAt: at(endsAt, 3) }]);
    };
    // Both peers' notifications reached alertmux (answered 200): 2 per step.
    const webhooks = async () => Number(/alertmux_webhook_requests_total\{code="200"\} (\d+)/.exec((await app!.get('/metrics')).text)?.[1] ?? 0);
    const statuses = () => target!.received.map((r) => (r.body as WebhookMessage).status);
    const step = async (n: number) => {
      await eventually(async () => (await webhooks()) >= 2 * n, `both peers' notification #${n} (${one!.log()}${two!.log()})`, 30_000);
      await app!.mux.dispatcher.idle();
    };

    const firstStart = Date.now() - 60_000;
    await fire(firstStart);
    await step(1);
    expect(statuses()).to.deep.equal(['firing']);

    await resolve(firstStart, Date.now() - 1000);
    await step(2);
    expect(statuses()).to.deep.equal(['firing', 'resolved']);

    // Flapping: it fires again within dedup.window, a new startsAt. News to the pager: it goes, once.
    await fire(Date.now() - 500);
    await step(3);
    expect(statuses()).to.deep.equal(['firing', 'resolved', 'firing']);

    expect(await webhooks()).to.equal(6);
    const received = target.received.map((r) => r.body as WebhookMessage);
    expect(received.map((m) => m.alerts.map((a) => a.labels['instance']))).to.deep.equal([['db-1'], ['db-1'], ['db-1']]);
    expect((await app.get('/metrics')).text).to.match(/alertmux_deliveries_skipped_total\{target="pager",reason="duplicate"\} 3\b/);
  });
});
