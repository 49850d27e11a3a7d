import { expect } from 'chai';
import { KubernetesDiscovery } from '../../src/discovery/kubernetes.js';
import { eventually, startApp, type TestApp } from '../helpers/servers.js';
import { K8sDouble } from './k8s-double.js';

const ADMIN = { authorization: 'Bearer admin-token' };
const configText = (targets = '  - {name: audit, type: log}') =>
  `storage: {path: ":memory:"}\nadmin: {bearer_token: admin-token}\ntargets:\n${targets}\n`;
const hook = (extra = '') => `type: webhook\nurl: https://hooks.example.com/x\n${extra}`;

describe('the app with Kubernetes discovery', () => {
  let api: K8sDouble;
  let app: TestApp | undefined;

  beforeEach(async () => {
    api = await new K8sDouble().start();
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await api.close();
  });

  const start = async (text = configText()) => {
    const discovery = new KubernetesDiscovery({
      connection: { server: api.url, token: () => 'sa-token' },
      namespaces: ['team-a'],
      labelSelector: 'alertmux.io/target=true',
      intervalMs: 60_000,
      backoff: { initialMs: 5, maxMs: 20 },
    });
    app = await startApp(text, { discovery });
    return app;
  };
  const targetNames = () => [...app!.mux.runtime().targets.keys()];

  it('starts with the discovered targets next to the file targets and shows each Secret on GET /api/v1/discovery', async () => {
    api.put('team-a', 'hook-a', { config: hook() });
    api.put('team-a', 'broken', { config: 'type: nope\n' });
    await start();
    expect(targetNames()).to.deep.equal(['audit', 'hook-a']);

    expect((await app!.get('/api/v1/discovery')).status).to.equal(401); // admin-protected like the rest of /api
    const res = await app!.get('/api/v1/discovery', ADMIN);
    expect(res.status).to.equal(200);
    expect(res.body).to.include({ source: 'kubernetes', labelSelector: 'alertmux.io/target=true', synced: true, targets: 1, invalid: 1 });
    expect(res.body.namespaces[0]).to.include({ namespace: 'team-a', state: 'watching' });
    expect(res.body.secrets).to.deep.equal([
      { namespace: 'team-a', name: 'broken', resourceVersion: '102', ok: false, error: 'line 1:7: type: unknown target type "nope" (one of webhook, file, log, rootly, alertmanager, teams, discord, pagerduty, slack)' },
      { namespace: 'team-a', name: 'hook-a', resourceVersion: '101', ok: true, target: 'hook-a' },
    ]);
    const targets = await app!.get('/api/v1/targets/hook-a', ADMIN);
    expect(targets.body.config.url).to.equal('<secret>');
    expect(targets.body.source).to.deep.equal({ kind: 'kubernetes', secret: 'team-a/hook-a' });
    expect((await app!.get('/api/v1/targets/audit', ADMIN)).body.source).to.deep.equal({ kind: 'config' });
    const metrics = (await app!.get('/metrics')).text;
    expect(metrics).to.match(/^alertmux_discovery_targets 1$/m);
    expect(metrics).to.match(/^alertmux_discovery_invalid_targets 1$/m);
    expect(metrics).to.match(/^alertmux_discovery_last_sync_timestamp_seconds\{namespace="team-a"\} \d+/m);
  });

  it('answers 404 on GET /api/v1/discovery when no discovery is configured', async () => {
    app = await startApp(configText());
    const res = await app.get('/api/v1/discovery', ADMIN);
    expect(res.status).to.equal(404);
  });

  it('swaps in a Secret change and keeps the runtime and health state of the targets that did not change', async () => {
    api.put('team-a', 'hook-a', { config: hook() });
    api.put('team-a', 'hook-b', { config: hook() });
    await start();
    const audit = app!.mux.runtime().targets.get('audit')!;
    const a = app!.mux.runtime().targets.get('hook-a')!;
    const b = app!.mux.runtime().targets.get('hook-b')!;
    a.health.record(false, 12, 'connection refused');

    api.put('team-a', 'hook-b', { config: hook('max_alerts: 5') });
    await eventually(() => app!.mux.runtime().targets.get('hook-b') !== b, 'the changed Secret to be swapped in');
    expect(app!.mux.runtime().targets.get('hook-a')).to.equal(a);
    expect(app!.mux.runtime().targets.get('audit')).to.equal(audit);
    expect(a.health.snapshot()).to.include({ failed: 1, lastError: 'connection refused' });

    api.put('team-a', 'hook-c', { config: hook() });
    await eventually(() => targetNames().includes('hook-c'), 'the new Secret to be swapped in');
    api.delete('team-a', 'hook-b');
    await eventually(() => !targetNames().includes('hook-b'), 'the deleted Secret to be swapped out');
    expect(app!.mux.runtime().targets.get('hook-a')).to.equal(a);
  });

  it('keeps discovered targets across a file reload, and a file target wins a name clash', async () => {
    api.put('team-a', 'hook-a', { config: hook() });
    await start();
    app!.setConfig(configText('  - {name: audit, type: log}\n  - {name: hook-a, type: log}'));
    const reloaded = await app!.post('/-/reload', undefined, ADMIN);
    expect(reloaded.status).to.equal(200);
    expect(app!.mux.runtime().targets.get('hook-a')?.config.type).to.equal('log');
    const status = await app!.get('/api/v1/discovery', ADMIN);
    expect(status.body.secrets[0]).to.include({ ok: false, error: 'target name "hook-a" is already used by a target of the config file' });

    app!.setConfig(configText());
    expect((await app!.post('/-/reload', undefined, ADMIN)).status).to.equal(200);
    expect(app!.mux.runtime().targets.get('hook-a')?.config.type).to.equal('webhook');
  });

  it('stops the discovery and closes its watch when the app closes', async () => {
    await start();
    await eventually(() => api.openWatches === 1, 'the watch');
    await app!.close();
    app = undefined;
    await eventually(() => api.openWatches === 0, 'the watch to be closed');
  });
});
