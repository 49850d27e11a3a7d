import { expect } from 'chai';
import { createHook } from 'node:async_hooks';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, loopbackTarget, refusedPort, startApp, type LoopbackTarget } from './helpers/servers.js';
import { fixture } from './helpers/fixtures.js';

/**
 * Timers and sockets created while `track` runs that are still alive: unref'd
 * timers included (process.getActiveResourcesInfo() does not list those).
 */
function trackResources() {
  const live = new Map<number, string>();
  const hook = createHook({
    init(id, type) {
      if (type !== 'Timeout' && type !== 'TCPWRAP' && type !== 'TCPSERVERWRAP' && type !== 'Immediate') return;
      const frames = (new Error().stack ?? '').split('\n').slice(1).filter((l) => !l.includes('AsyncHook.init') && !l.includes('node:'));
      const where = frames[0] ?? '';
      // This test's own waits are not the app's.
      if (!where.includes('lifecycle.test')) live.set(id, `${type} ${where.trim()}`);
    },
    destroy(id) {
      live.delete(id);
    },
  }).enable();
  return {
    live: () => [...live.values()].sort(),
    stop: () => hook.disable(),
  };
}

describe('lifecycle', () => {
  const servers: LoopbackTarget[] = [];
  let dir: string | undefined;
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('leaves no timer or socket behind after close(), with probes, retries and breakers active', async () => {
    const ok = await loopbackTarget();
    const probe = await loopbackTarget();
    const down = await refusedPort();
    dir = mkdtempSync(join(tmpdir(), 'alertmux-empty-'));
    const resources = trackResources();
    const app = await startApp(`storage: {path: ":memory:"}
targets_dir: ${dir}
targets_dir_interval: 10ms
retry: {initial_backoff: 30s}
breaker: {consecutive_failures: 1, cooldown: 1m}
targets:
  - {name: ok, type: webhook, url: "${ok.url}", health_check: {url: "${probe.url}/healthz", interval: 20ms}}
  - {name: down, type: webhook, url: "http://127.0.0.1:${down}"}
  - {name: file, type: file, path: "${join(tmpdir(), `alertmux-lifecycle-${process.pid}.jsonl`)}"}
`);
    expect((await app.post('/webhook', fixture())).status).to.equal(202);
    await eventually(() => probe.received.length > 1, 'background probes');
    await app.close();
    await ok.close();
    await probe.close();
    // undici's shared timer wheel and node:http's date cache stop by themselves within a second once idle.
    await new Promise((resolve) => setTimeout(resolve, 1200));
    resources.stop();
    expect(resources.live()).to.deep.equal([]);
  });

  it('reloads when a target is added to targets_dir, and leaves out a broken file while adding a good one beside it', async () => {
    dir = mkdtempSync(join(tmpdir(), 'alertmux-targets-'));
    const sink = await loopbackTarget();
    servers.push(sink);
    writeFileSync(join(dir, 'first.yml'), `type: webhook\nurl: "${sink.url}/first"\n`);
    const app = await startApp(`storage: {path: ":memory:"}
targets_dir: ${dir}
targets_dir_interval: 30ms
`);
    expect([...app.mux.runtime().targets.keys()]).to.deep.equal(['first']);
    // A mounted Secret: a directory holding `config`, with its secret in a sibling key.
    mkdirSync(join(dir, 'second'));
    writeFileSync(join(dir, 'second', 'token'), 's3cr3t\n');
    writeFileSync(join(dir, 'second', 'config'), `type: webhook\nurl: "${sink.url}/second"\nbearer_token: \${file:token}\n`);
    await eventually(() => app.mux.runtime().targets.size === 2, 'the new target from targets_dir');
    const res = await app.post('/webhook', fixture());
    expect(res.body.targets.map((t: { target: string }) => t.target)).to.deep.equal(['first', 'second']);
    expect(sink.received.find((r) => r.path === '/second')?.headers.authorization).to.equal('Bearer s3cr3t');

    writeFileSync(join(dir, 'broken.yml'), 'type: webhook\n');
    writeFileSync(join(dir, 'third.yml'), `type: webhook\nurl: "${sink.url}/third"\n`);
    await eventually(() => app.mux.runtime().targets.size === 3, 'the good file beside the broken one');
    expect([...app.mux.runtime().targets.keys()]).to.deep.equal(['first', 'second', 'third']);
    const metrics = (await app.get('/metrics')).text;
    expect(metrics).to.match(/^alertmux_config_last_reload_successful 1$/m);
    expect(metrics).to.match(/^alertmux_targets_dir_broken_files 1$/m);
    await app.close();
  });

  it('resumes pending deliveries from the ledger after a restart', async () => {
    dir = mkdtempSync(join(tmpdir(), 'alertmux-restart-'));
    const port = await refusedPort();
    const config = `storage: {path: "${join(dir, 'ledger.db')}"}
retry: {initial_backoff: 50ms, max_backoff: 100ms}
targets:
  - {name: later, type: webhook, url: "http://127.0.0.1:${port}"}
`;
    const first = await startApp(config);
    const res = await first.post('/webhook', fixture());
    expect(res.status).to.equal(202);
    await first.close();

    const target = await loopbackTarget(undefined, port);
    servers.push(target);
    const second = await startApp(config);
    await eventually(() => target.received.length === 1, 'the resumed delivery');
    const stored = await second.get(`/api/v1/notifications/${res.body.id}`);
    expect(stored.status).to.equal(200);
    await eventually(async () => (await second.get(`/api/v1/notifications/${res.body.id}`)).body.outcome === 'delivered', 'delivered');
    expect(stored.body.payload).to.deep.equal(fixture());
    await second.close();
  });

  it('answers 404 for unknown deliveries and notifications, and deletes a delivery', async () => {
    const down = await refusedPort();
    const app = await startApp(`storage: {path: ":memory:"}
retry: {initial_backoff: 1h}
targets:
  - {name: down, type: webhook, url: "http://127.0.0.1:${down}"}
`);
    const res = await app.post('/webhook', fixture());
    const id = res.body.targets[0].deliveryId as string;
    expect((await app.get('/api/v1/notifications/n_nope')).status).to.equal(404);
    expect((await app.get('/api/v1/deliveries/d_nope')).status).to.equal(404);
    expect((await app.post('/api/v1/deliveries/d_nope/replay', undefined)).status).to.equal(404);
    expect((await app.get('/api/v1/deliveries?state=bogus')).status).to.equal(400);
    expect((await app.post('/api/v1/deliveries/replay', {})).status).to.equal(400);
    expect((await app.post('/api/v1/deliveries/replay', { ids: 'x' })).status).to.equal(400);
    expect((await app.post('/api/v1/deliveries/replay', { state: 'delivered' })).status).to.equal(400);
    expect((await app.post(`/api/v1/deliveries/${id}/replay`, undefined)).status).to.equal(202);
    const del = await app.get(`/api/v1/deliveries/${id}`);
    expect(del.body).to.include({ state: 'pending', target: 'down' });
    const { request } = await import('undici');
    const removed = await request(`${app.base}/api/v1/deliveries/${id}`, { method: 'DELETE' });
    expect(removed.statusCode).to.equal(204);
    expect((await app.get(`/api/v1/deliveries/${id}`)).status).to.equal(404);
    expect((await app.get('/api/v1/nothing-here')).status).to.equal(404);
    await app.close();
  });
});
