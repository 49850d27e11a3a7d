import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { ConfigError } from '../../src/config/load.js';
import { createKubernetesDiscovery } from '../../src/discovery/kubernetes.js';
import { KubeconfigError } from '../../src/discovery/kubeconfig.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { nopLogger } from '../../src/observability/logger.js';
import { config } from '../helpers/fixtures.js';
import { K8sDouble } from './k8s-double.js';

describe('discovery.kubernetes in the config', () => {
  it('fills in the label selector, a 5m re-list interval (as ms) and no namespaces by default', () => {
    const c = config('discovery: {kubernetes: {}}');
    expect(c.discovery?.kubernetes).to.deep.equal({ namespaces: [], label_selector: 'alertmux.io/target=true', interval: 300_000 });
  });

  it('is absent unless configured', () => {
    expect(config('targets: []').discovery?.kubernetes).to.equal(undefined);
  });

  it('rejects unknown fields, bad namespaces and bad durations', () => {
    expect(() => config('discovery: {kubernetes: {namespace: x}}')).to.throw(ConfigError, /line 1:26: discovery\.kubernetes: unknown field `namespace`; did you mean `namespaces`\?/);
    expect(() => config('discovery: {kubernetes: {namespaces: [Team_A]}}')).to.throw(ConfigError, /discovery\.kubernetes\.namespaces\[0\]: must match pattern/);
    expect(() => config('discovery: {kubernetes: {interval: soon}}')).to.throw(ConfigError, /discovery\.kubernetes\.interval: must be a duration/);
  });

  it('needs the in-cluster environment when no kubeconfig is named', () => {
    const settings = config('discovery: {kubernetes: {}}').discovery!.kubernetes!;
    expect(() => createKubernetesDiscovery(settings, {}, '/etc/alertmux')).to.throw(KubeconfigError, /KUBERNETES_SERVICE_HOST is not set/);
  });

  it('connects through a kubeconfig named relative to the config file and discovers the labelled Secrets', async () => {
    const api = await new K8sDouble('kc-token').start();
    const dir = mkdtempSync(join(tmpdir(), 'alertmux-kube-'));
    writeFileSync(
      join(dir, 'kubeconfig'),
      `current-context: c\ncontexts: [{name: c, context: {cluster: k, user: u, namespace: team-a}}]\nclusters: [{name: k, cluster: {server: "${api.url}"}}]\nusers: [{name: u, user: {token: kc-token}}]\n`,
    );
    api.put('team-a', 'hook-a', { config: 'type: webhook\nurl: https://hooks.example.com/a\n' }, { team: 'a', 'alertmux.io/target': 'true' });
    api.put('team-a', 'hook-b', { config: 'type: webhook\nurl: https://hooks.example.com/b\n' }, { team: 'b', 'alertmux.io/target': 'true' });
    const settings = config('discovery: {kubernetes: {kubeconfig: kubeconfig, label_selector: "team=b"}}').discovery!.kubernetes!;
    const discovery = createKubernetesDiscovery(settings, {}, dir);
    try {
      await discovery.start({ metrics: createMetrics(new Registry()), logger: nopLogger(), onChange: () => undefined });
      expect(discovery.merge(config('targets: []')).targets.map((t) => t.name)).to.deep.equal(['hook-b']);
      expect(api.requests[0]?.path).to.equal('/api/v1/namespaces/team-a/secrets'); // the context's namespace
    } finally {
      await discovery.stop();
      await api.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
