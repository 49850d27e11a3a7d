import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, loopbackTarget, refusedPort, type LoopbackTarget } from '../helpers/servers.js';
import { startService, type Service } from './process.js';
import type { WebhookMessage } from '../../src/alerts/types.js';

const TIMEOUT_MS = 2000;

function watchdog(): WebhookMessage {
  return {
    version: '4',
    groupKey: '{}/{alertname="Watchdog"}:{alertname="Watchdog"}',
    status: 'firing',
    receiver: 'alertmux-heartbeat',
    groupLabels: { alertname: 'Watchdog' },
    commonLabels: { alertname: 'Watchdog', severity: 'none' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    alerts: [
      {
        status: 'firing',
        labels: { alertname: 'Watchdog', severity: 'none' },
        annotations: {},
        startsAt: '2026-12-06T09:00:00Z',
        endsAt: '0001-01-01T00:00:00Z',
        fingerprint: '',
      },
    ],
  };
}

describe("dead man's switch across restarts (child processes of the built service)", function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'alertmux-deadman-'));
  const services: Service[] = [];
  let pager: LoopbackTarget;
  let failFirst = 0;
  before(async () => {
    // The page's first attempt fails: it must reach the pager through the ledger's retries.
    pager = await loopbackTarget(() => (failFirst-- > 0 ? { status: 503, body: 'down' } : { status: 202 }));
  });
  afterEach(() => {
    for (const s of services.splice(0)) s.child.kill('SIGKILL');
  });
  after(async () => {
    await pager.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Each notification the pager got, once: a retry (or a delivery the ledger retries after a kill -9, at least
   * once) carries the same `webhook-id`. A second page would be a new notification with its own.
   */
  const pages = () => {
    const seen = new Map<string, WebhookMessage>();
    for (const r of pager.received) seen.set(String(r.headers['webhook-id']), r.body as WebhookMessage);
    return [...seen.values()];
  };
  const start = async (config: string) => {
    const service = await startService(config, await refusedPort());
    services.push(service);
    return service;
  };
  const kill = async (service: Service) => {
    service.child.kill('SIGKILL');
    await service.exited;
  };
  const heartbeat = async (service: Service) => {
    const res = await fetch(`${service.base}/webhook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(watchdog()) });
    expect(res.status).to.equal(200);
  };
  const status = async (service: Service) => (await (await fetch(`${service.base}/api/v1/deadman`)).json()) as Record<string, unknown>;
  const writeConfig = (name: string) => {
    const file = join(dir, `${name}.yml`);
    writeFileSync(
      file,
      `storage: {path: ${join(dir, `${name}.db`)}}
retry: {initial_backoff: 50ms, max_backoff: 200ms}
dedup: {window: 0s}   # a second page must reach the pager, not be skipped as a duplicate
targets:
  - {name: pager, type: webhook, url: "${pager.url}/pager", match: ['severity="critical"'], signing_secret: "whsec_c2VjcmV0LWtleS1mb3ItdGVzdHM="}
deadman: {timeout: ${TIMEOUT_MS}ms, targets: [pager]}
`,
    );
    return file;
  };
  /** Wait until `ms` have passed since `since` (long enough for a second page to have gone out, if one would). */
  const waitUntil = async (since: number, ms: number) => {
    const left = since + ms - Date.now();
    if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
  };

  it('pages once, still once across a kill -9 and restart in the middle of the outage, and resolves when the heartbeat returns', async () => {
    pager.received.length = 0;
    failFirst = 1;
    const config = writeConfig('outage');
    const first = await start(config);
    await heartbeat(first);
    await eventually(() => pages().length === 1 && pager.received.length === 2, 'the page (after one failed attempt)', 30_000);
    expect(pages()[0]?.status).to.equal('firing');
    expect(pages()[0]?.alerts[0]?.labels).to.deep.include({ alertname: 'AlertmuxHeartbeatMissing', severity: 'critical' });
    const before = await status(first);
    expect(before).to.deep.include({ state: 'firing' });
    await kill(first);

    const restartedAt = Date.now();
    const second = await start(config);
    expect(await status(second)).to.deep.include({ state: 'firing', pageOpenSince: before['pageOpenSince'] });
    // Past the point where a forgotten page would have gone out again (the timeout after the start).
    await waitUntil(restartedAt, 3 * TIMEOUT_MS);
    expect(pages(), 'still one page').to.have.length(1);

    await heartbeat(second);
    await eventually(() => pages().length === 2, 'the resolve', 30_000);
    expect(pages()[1]?.status).to.equal('resolved');
    expect(pages()[1]?.groupKey).to.equal(pages()[0]?.groupKey);
    expect(await status(second)).to.deep.include({ state: 'ok' });
  });

  it('still pages once after a restart during the silence', async () => {
    pager.received.length = 0;
    failFirst = 0;
    const config = writeConfig('silence');
    const first = await start(config);
    await heartbeat(first);
    await kill(first);
    expect(pages()).to.have.length(0);

    const second = await start(config);
    expect(await status(second)).to.deep.include({ state: 'ok' });
    await eventually(() => pages().length === 1, 'the page after the restart', 30_000);
    const pagedAt = Date.now();
    await waitUntil(pagedAt, 2 * TIMEOUT_MS);
    expect(pages(), 'one page').to.have.length(1);
    const metrics = await (await fetch(`${second.base}/metrics`)).text();
    expect(metrics).to.match(/^alertmux_deadman_firing 1$/m);
    expect(metrics).to.match(/^alertmux_deadman_last_heartbeat_timestamp_seconds \d+(\.\d+)?$/m);
  });
});
