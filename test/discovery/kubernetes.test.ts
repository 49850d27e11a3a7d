import { expect } from 'chai';
import { Registry } from 'prom-client';
import { KubernetesDiscovery, type KubernetesDiscoveryOptions, type Timers } from '../../src/discovery/kubernetes.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { nopLogger } from '../../src/observability/logger.js';
import { config } from '../helpers/fixtures.js';
import { eventually } from '../helpers/servers.js';
import { K8sDouble } from './k8s-double.js';
import type { Config } from '../../src/config/types.js';
import type { WebhookTarget } from '../../src/publishers/webhook.js';

const FILE = config('storage: {path: ":memory:"}\ntargets:\n  - {name: audit, type: log}');
const hook = (name?: string, extra = '') => `${name ? `name: ${name}\n` : ''}type: webhook\nurl: https://hooks.example.com/${name ?? 'x'}\n${extra}`;

/** Real timers that remember which are still pending (not unref'd: a leaked one would also hold mocha open). */
function trackedTimers(): Timers & { live: Set<NodeJS.Timeout> } {
  const live = new Set<NodeJS.Timeout>();
  return {
    live,
    set: (fn, ms) => {
      const handle = setTimeout(() => {
        live.delete(handle);
        fn();
      }, ms);
      live.add(handle);
      return handle;
    },
    clear: (handle) => {
      clearTimeout(handle as NodeJS.Timeout);
      live.delete(handle as NodeJS.Timeout);
    },
  };
}

describe('Kubernetes Secret discovery (against a loopback API double)', () => {
  let api: K8sDouble;
  let discovery: KubernetesDiscovery | undefined;
  let registry: Registry;
  let changes: number;
  let token: string;
  let timers: ReturnType<typeof trackedTimers>;

  beforeEach(async () => {
    api = await new K8sDouble('sa-token').start();
    registry = new Registry();
    changes = 0;
    token = 'sa-token';
    timers = trackedTimers();
  });
  afterEach(async () => {
    await discovery?.stop();
    discovery = undefined;
    await api.close();
  });

  async function start(options: Partial<KubernetesDiscoveryOptions> = {}): Promise<KubernetesDiscovery> {
    discovery = new KubernetesDiscovery({
      connection: { server: api.url, token: () => token, namespace: 'team-a' },
      namespaces: ['team-a'],
      labelSelector: 'alertmux.io/target=true',
      intervalMs: 60_000,
      backoff: { initialMs: 5, maxMs: 20 },
      timers,
      random: () => 1,
      ...options,
    });
    await discovery.start({ metrics: createMetrics(registry), logger: nopLogger(), onChange: () => void changes++ });
    return discovery;
  }
  const merged = (file: Config = FILE) => discovery!.merge(file);
  const names = (file?: Config) => merged(file).targets.map((t) => t.name);
  const metric = async (name: string, labels: Record<string, string> = {}) =>
    (await registry.getSingleMetric(name)?.get())?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;

  it('turns the config key of each labelled Secret into a target named after the Secret unless it names itself', async () => {
    api.put('team-a', 'pd-oncall', { config: hook() });
    api.put('team-a', 'other', { config: hook('named-itself') });
    api.put('team-a', 'unlabelled', { config: hook() }, { app: 'x' });
    api.put('team-b', 'elsewhere', { config: hook() });
    await start();
    expect(names()).to.deep.equal(['audit', 'pd-oncall', 'named-itself']); // file targets first, then Secrets oldest first
    const list = api.requests.find((r) => r.query.get('watch') === null);
    expect(list?.path).to.equal('/api/v1/namespaces/team-a/secrets');
    expect(list?.query.get('labelSelector')).to.equal('alertmux.io/target=true');
    expect(list?.authorization).to.equal('Bearer sa-token');
    expect(discovery!.status()).to.include({ synced: true, targets: 2, invalid: 0 });
  });

  it('reads ${file:KEY} from the sibling key of the same Secret and treats every sibling value as a secret', async () => {
    api.put('team-a', 'slack', { config: 'type: webhook\nurl: ${file:url}\nheaders: {X-Token: "${file:token}"}\n', url: 'https://hooks.example.com/T0/B0/s3cr3t\n', token: 'tok-123' });
    await start();
    const config = merged();
    const target = config.targets.find((t) => t.name === 'slack') as WebhookTarget;
    expect(target.url).to.equal('https://hooks.example.com/T0/B0/s3cr3t');
    expect(target.headers).to.deep.equal({ 'X-Token': 'tok-123' });
    expect(config.secrets).to.include.members(['https://hooks.example.com/T0/B0/s3cr3t', 'tok-123']);
  });

  it('adds, changes and removes targets as the watch reports Secrets added, modified and deleted', async () => {
    await start();
    expect(names()).to.deep.equal(['audit']);
    api.put('team-a', 'hook-a', { config: hook() });
    await eventually(() => names().includes('hook-a'), 'ADDED to add the target');
    expect(changes).to.equal(1);

    api.put('team-a', 'hook-a', { config: hook(undefined, 'max_alerts: 7') });
    await eventually(() => (merged().targets.find((t) => t.name === 'hook-a') as WebhookTarget | undefined)?.max_alerts === 7, 'MODIFIED to change it');
    expect(changes).to.equal(2);

    api.delete('team-a', 'hook-a');
    await eventually(() => !names().includes('hook-a'), 'DELETED to remove it');
    expect(changes).to.equal(3);
    const watch = api.requests.find((r) => r.query.get('watch') === '1');
    expect(watch?.query.get('allowWatchBookmarks')).to.equal('true');
    expect(watch?.query.get('resourceVersion')).to.match(/^\d+$/);
  });

  it('removes the target of a Secret that loses its label', async () => {
    api.put('team-a', 'hook-a', { config: hook() });
    await start();
    expect(names()).to.include('hook-a');
    api.put('team-a', 'hook-a', { config: hook() }, { 'alertmux.io/target': 'false' });
    await eventually(() => !names().includes('hook-a'), 'the label change to remove the target');
  });

  it('reports each invalid Secret with its reason and skips it while the valid ones work', async () => {
    api.put('team-a', 'good', { config: hook() });
    api.put('team-a', 'no-config', { url: 'https://x.example.com' });
    api.put('team-a', 'bad-yaml', { config: 'type: webhook\n url: [' });
    api.put('team-a', 'unknown-field', { config: `${hook()}colour: blue\n` });
    api.put('team-a', 'missing-key', { config: 'type: webhook\nurl: ${file:url}\n', token: 'tok-999' });
    api.put('team-a', 'reads-env', { config: 'type: webhook\nurl: ${env:ALERTMUX_ADMIN_TOKEN}\n' });
    api.put('team-a', 'reads-disk', { config: 'type: webhook\nurl: ${file:/etc/passwd}\n' });
    api.put('team-a', 'writes-disk', { config: 'type: file\npath: /etc/cron.d/x\n' });
    api.put('team-a', 'bad-matcher', { config: `${hook()}match: ['severity=~"(']\n` });
    api.put('team-a', 'leaks', { config: 'type: webhook\nurl: ${file:url}\nsigning_secret: ${file:signing}\n', url: 'https://ok.example.com', signing: 'not base64 !!' });
    await start();
    expect(names()).to.deep.equal(['audit', 'good']);
    const status = discovery!.status();
    expect(status).to.include({ targets: 1, invalid: 9 });
    const errors = Object.fromEntries(status.secrets.map((s) => [s.name, s.error]));
    expect(errors['good']).to.equal(undefined);
    expect(errors['no-config']).to.equal('the Secret has no "config" key');
    expect(errors['bad-yaml']).to.match(/^line 1:7: Nested mappings are not allowed/);
    expect(errors['unknown-field']).to.match(/^line \d+:1: unknown field `colour`$/);
    expect(errors['missing-key']).to.match(/^line 2:6: url: cannot read secret file .*url \(no such key in the Secret\)$/);
    expect(errors['reads-env']).to.equal('line 2:6: url: environment variable ALERTMUX_ADMIN_TOKEN is not set');
    expect(errors['reads-disk']).to.match(/^line 2:6: url: cannot read secret file \/etc\/passwd \(not a key of this Secret\)/);
    expect(errors['writes-disk']).to.match(/type "file" cannot come from a Secret/);
    expect(errors['bad-matcher']).to.match(/^line \d+:\d+: match\[0\]: /);
    expect(errors['leaks']).to.match(/^line 3:\d+: signing_secret: must match pattern/);
    expect(JSON.stringify(status)).not.to.include('not base64 !!').and.not.to.include('tok-999');
    const invalid = status.secrets.find((s) => s.name === 'no-config')!;
    expect(invalid).to.include({ namespace: 'team-a', ok: false });
    expect(invalid.resourceVersion).to.match(/^\d+$/);
    expect(await metric('alertmux_discovery_invalid_targets')).to.equal(9);
    expect(await metric('alertmux_discovery_targets')).to.equal(1);
  });

  it('reports a target name that clashes with a file target or an older Secret, and keeps the existing owner', async () => {
    api.put('team-a', 'first', { config: hook('shared') });
    api.put('team-b', 'second', { config: hook('shared') });
    api.put('team-a', 'audit', { config: hook() });
    await start({ namespaces: ['team-a', 'team-b'] });
    const config = merged();
    expect(config.targets.map((t) => t.name)).to.deep.equal(['audit', 'shared']);
    expect(config.targets[0]?.type).to.equal('log'); // the file's target, not the Secret's webhook
    const byName = Object.fromEntries(discovery!.status().secrets.map((s) => [`${s.namespace}/${s.name}`, s]));
    expect(byName['team-a/first']).to.include({ ok: true, target: 'shared' });
    expect(byName['team-b/second']).to.include({ ok: false, error: 'target name "shared" is already used by Secret team-a/first' });
    expect(byName['team-a/audit']).to.include({ ok: false, error: 'target name "audit" is already used by a target of the config file' });
  });

  it('lists again when the watch reports 410 Gone in an ERROR event, picking up what happened meanwhile', async () => {
    await start();
    await eventually(() => api.openWatches === 1, 'the watch');
    api.put('team-a', 'missed', { config: hook() }, undefined, { silent: true });
    api.expire();
    await eventually(() => names().includes('missed'), 'the re-list after 410');
    expect(api.requests.filter((r) => r.query.get('watch') === null)).to.have.length(2);
    expect(await metric('alertmux_discovery_errors_total', { reason: 'gone' })).to.equal(1);
    expect(discovery!.status().namespaces[0]?.state).to.equal('watching');
  });

  it('lists again when a watch request is answered with HTTP 410 Gone', async () => {
    api.goneAsStatus = true;
    await start();
    await eventually(() => api.openWatches === 1, 'the watch');
    api.put('team-a', 'missed', { config: hook() }, undefined, { silent: true });
    api.compact();
    api.endWatches(); // the reconnect from the old resourceVersion is answered 410
    await eventually(() => names().includes('missed'), 'the re-list');
    // The re-list's watch may open a moment after the targets change.
    await eventually(() => api.requests.length >= 5, 'the watch after the re-list');
    expect(api.requests.map((r) => (r.query.get('watch') ? 'watch' : 'list'))).to.deep.equal(['list', 'watch', 'watch', 'list', 'watch']);
    expect(await metric('alertmux_discovery_errors_total', { reason: 'gone' })).to.equal(1);
  });

  it('reports 401 Unauthorized per namespace, keeps retrying with backoff and recovers when the token is valid again', async () => {
    token = 'expired-token';
    api.put('team-a', 'hook-a', { config: hook() });
    await start(); // resolves after the first (failed) attempt: alertmux starts without the API
    expect(names()).to.deep.equal(['audit']);
    const ns = discovery!.status().namespaces[0]!;
    expect(ns).to.include({ namespace: 'team-a', state: 'failing' });
    expect(ns.lastError).to.include({ reason: 'unauthorized', message: '401: Unauthorized' });
    expect(discovery!.status().synced).to.equal(false);
    await eventually(async () => ((await metric('alertmux_discovery_errors_total', { reason: 'unauthorized' })) ?? 0) >= 2, 'a retry');
    expect(JSON.stringify(discovery!.status())).not.to.include('expired-token');

    token = 'sa-token';
    await eventually(() => names().includes('hook-a'), 'the list after the token is fixed');
    expect(changes).to.equal(1);
    expect(discovery!.status().namespaces[0]?.state).to.equal('watching');
  });

  it('reports 403 Forbidden with the API server message for a namespace it may not read, and serves the others', async () => {
    api.forbidden.add('team-b');
    api.put('team-a', 'hook-a', { config: hook() });
    await start({ namespaces: ['team-a', 'team-b'] });
    expect(names()).to.deep.equal(['audit', 'hook-a']);
    const b = discovery!.status().namespaces.find((n) => n.namespace === 'team-b')!;
    expect(b.state).to.equal('failing');
    expect(b.lastError?.reason).to.equal('forbidden');
    expect(b.lastError?.message).to.match(/^403: secrets is forbidden: .* cannot list resource "secrets"/);
  });

  it('picks up a change the watch missed at the next periodic full re-list', async () => {
    api.put('team-a', 'hook-a', { config: hook() });
    await start({ intervalMs: 50 });
    api.put('team-a', 'hook-a', { config: hook(undefined, 'max_alerts: 3') }, undefined, { silent: true });
    api.put('team-a', 'hook-b', { config: hook() }, undefined, { silent: true });
    await eventually(
      () => names().includes('hook-b') && (merged().targets.find((t) => t.name === 'hook-a') as WebhookTarget).max_alerts === 3,
      'the periodic re-list',
    );
    expect(api.requests.filter((r) => r.query.get('watch') === null).length).to.be.at.least(2);
  });

  it('resumes the watch from the last resourceVersion it saw (bookmarks included) when the server ends it', async () => {
    await start();
    await eventually(() => api.openWatches === 1, 'the watch');
    api.put('team-a', 'hook-a', { config: hook() });
    await eventually(() => names().includes('hook-a'), 'the event');
    api.put('team-b', 'elsewhere', { config: hook() }); // moves the resourceVersion on without an event here
    api.bookmark();
    const bookmarked = api.put('team-b', 'elsewhere', { config: hook() }).metadata.resourceVersion;
    api.bookmark();
    await new Promise((resolve) => setImmediate(resolve));
    await eventually(async () => {
      api.endWatches();
      await new Promise((resolve) => setTimeout(resolve, 5));
      return api.requests.filter((r) => r.query.get('watch') === '1').at(-1)?.query.get('resourceVersion') === bookmarked;
    }, 'a watch from the bookmark');
    expect(api.requests.filter((r) => r.query.get('watch') === null)).to.have.length(1); // no re-list needed
  });

  it('closes its watch connection and leaves no timer or socket behind when stopped', async () => {
    const sockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
    const baseline = sockets();
    await start({ intervalMs: 60_000 });
    await eventually(() => api.openWatches === 1, 'the watch');
    expect(timers.live.size).to.equal(1); // the periodic re-list
    await discovery!.stop();
    expect(timers.live.size).to.equal(0);
    await eventually(() => api.openWatches === 0, 'the double to see the watch closed');
    await eventually(() => sockets() === baseline, 'sockets back to the baseline');
  });

  it('stops while it is backing off after a failure without waiting for the backoff', async () => {
    token = 'wrong';
    await start({ backoff: { initialMs: 60_000, maxMs: 60_000 } });
    expect(timers.live.size).to.equal(1); // the backoff sleep
    await discovery!.stop();
    expect(timers.live.size).to.equal(0);
  });
});
