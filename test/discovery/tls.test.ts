import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { stringify as toYaml } from 'yaml';
import { Registry } from 'prom-client';
import { inClusterConnection, loadKubeconfig } from '../../src/discovery/kubeconfig.js';
import { KubernetesDiscovery } from '../../src/discovery/kubernetes.js';
import { nopLogger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { config } from '../helpers/fixtures.js';
import { K8sDouble, TLS } from './k8s-double.js';
import type { KubeConnection } from '../../src/discovery/client.js';

const FILE = config('storage: {path: ":memory:"}\ntargets:\n  - {name: audit, type: log}');
const HOOK = 'type: webhook\nurl: https://hooks.example.com/x\n';
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

/**
 * Discovery over TLS, as every real API server speaks it: the connection comes from the real loaders
 * (a kubeconfig file, the in-cluster service-account directory) and the double serves HTTPS with a
 * certificate for 127.0.0.1 signed by the fixture CA (test/fixtures/tls).
 */
describe('Kubernetes discovery over TLS (HTTPS API double, fixture CA)', () => {
  let api: K8sDouble;
  let dir: string;
  let discovery: KubernetesDiscovery | undefined;

  beforeEach(async () => {
    api = await new K8sDouble('sa-token', { tls: true }).start();
    api.put('team-a', 'hook-a', { config: HOOK });
    dir = mkdtempSync(join(tmpdir(), 'alertmux-tls-'));
  });
  afterEach(async () => {
    await discovery?.stop();
    discovery = undefined;
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Start discovery of namespace team-a over `connection`; resolves after its first attempt. */
  async function discover(connection: KubeConnection): Promise<KubernetesDiscovery> {
    discovery = new KubernetesDiscovery({
      connection,
      namespaces: ['team-a'],
      labelSelector: 'alertmux.io/target=true',
      intervalMs: 60_000,
      backoff: { initialMs: 60_000, maxMs: 60_000 },
      random: () => 1,
    });
    await discovery.start({ metrics: createMetrics(new Registry()), logger: nopLogger(), onChange: () => undefined });
    return discovery;
  }
  const names = () => discovery!.merge(FILE).targets.map((t) => t.name);

  /** A kubeconfig file whose current context uses `cluster` and `user`. */
  function kubeconfig(cluster: Record<string, unknown>, user: Record<string, unknown>): string {
    const path = join(dir, 'kubeconfig');
    writeFileSync(
      path,
      toYaml({
        apiVersion: 'v1',
        kind: 'Config',
        'current-context': 'test',
        clusters: [{ name: 'c', cluster: { server: api.url, ...cluster } }],
        users: [{ name: 'u', user }],
        contexts: [{ name: 'test', context: { cluster: 'c', user: 'u', namespace: 'team-a' } }],
      }),
    );
    return path;
  }

  it('verifies the API server against certificate-authority-data and authenticates with the token', async () => {
    await discover(loadKubeconfig(kubeconfig({ 'certificate-authority-data': b64(TLS['ca.crt']) }, { token: 'sa-token' })));
    expect(names()).to.deep.equal(['audit', 'hook-a']);
    expect(discovery!.status().namespaces[0]).to.include({ state: 'watching' });
    expect(api.requests[0]?.authorization).to.equal('Bearer sa-token');
  });

  it('reads the CA from a certificate-authority file, relative to the kubeconfig', async () => {
    writeFileSync(join(dir, 'ca.crt'), TLS['ca.crt']);
    await discover(loadKubeconfig(kubeconfig({ 'certificate-authority': 'ca.crt' }, { token: 'sa-token' })));
    expect(names()).to.deep.equal(['audit', 'hook-a']);
  });

  it('authenticates with a client certificate and key (client-certificate-data, client-key-data) and no token', async () => {
    const user = { 'client-certificate-data': b64(TLS['client.crt']), 'client-key-data': b64(TLS['client.key']) };
    await discover(loadKubeconfig(kubeconfig({ 'certificate-authority-data': b64(TLS['ca.crt']) }, user)));
    expect(names()).to.deep.equal(['audit', 'hook-a']);
    expect(api.certificateClients).to.be.at.least(1);
    expect(api.requests[0]?.authorization).to.equal(undefined);
  });

  it('refuses a server its CA did not sign: the namespace fails with the TLS reason and no target is taken', async () => {
    await discover(loadKubeconfig(kubeconfig({}, { token: 'sa-token' })));
    expect(names()).to.deep.equal(['audit']);
    const ns = discovery!.status().namespaces[0]!;
    expect(ns.state).to.equal('failing');
    expect(ns.lastError).to.include({ reason: 'network' });
    expect(ns.lastError?.message).to.match(/^cannot reach the API server \((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\)$/);
    expect(api.requests).to.have.length(0); // nothing, the token least of all, was sent to the unverified server
  });

  it('connects without verifying only with insecure-skip-tls-verify', async () => {
    await discover(loadKubeconfig(kubeconfig({ 'insecure-skip-tls-verify': true }, { token: 'sa-token' })));
    expect(names()).to.deep.equal(['audit', 'hook-a']);
  });

  it('in a pod: verifies with the service account ca.crt and sends its token, from KUBERNETES_SERVICE_HOST/PORT', async () => {
    writeFileSync(join(dir, 'token'), 'sa-token\n');
    writeFileSync(join(dir, 'ca.crt'), TLS['ca.crt']);
    writeFileSync(join(dir, 'namespace'), 'team-a\n');
    const port = new URL(api.url).port;
    const connection = inClusterConnection({ KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: port }, undefined, dir);
    expect(connection.server).to.equal(`https://127.0.0.1:${port}`);
    await discover(connection);
    expect(names()).to.deep.equal(['audit', 'hook-a']);
    expect(api.requests[0]?.authorization).to.equal('Bearer sa-token');
  });
});
