import { expect } from 'chai';
import { inClusterConnection, KubeconfigError, loadKubeconfig } from '../../src/discovery/kubeconfig.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** A readFile over an in-memory set of files that records what was read. */
function files(entries: Record<string, string>) {
  const read: string[] = [];
  const readFile = (path: string) => {
    read.push(path);
    const text = entries[path];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    return text;
  };
  return { readFile, read, entries };
}

const KUBECONFIG = `apiVersion: v1
kind: Config
current-context: prod
contexts:
  - name: dev
    context: {cluster: dev, user: dev}
  - name: prod
    context: {cluster: prod, user: alertmux, namespace: monitoring}
clusters:
  - name: dev
    cluster: {server: https://dev.example.com:6443, insecure-skip-tls-verify: true}
  - name: prod
    cluster:
      server: https://prod.example.com:6443
      certificate-authority-data: ${b64('PROD CA')}
users:
  - name: dev
    user: {token: dev-token}
  - name: alertmux
    user:
      client-certificate: certs/client.crt
      client-key-data: ${b64('CLIENT KEY')}
`;

describe('kubeconfig and in-cluster connections', () => {
  it('connects as the current context says: server, CA data, client certificate file (relative) and key data, namespace', () => {
    const fs = files({ '/home/op/.kube/config': KUBECONFIG, '/home/op/.kube/certs/client.crt': 'CLIENT CERT' });
    const c = loadKubeconfig('/home/op/.kube/config', fs.readFile);
    expect(c).to.include({
      server: 'https://prod.example.com:6443',
      ca: 'PROD CA',
      cert: 'CLIENT CERT',
      key: 'CLIENT KEY',
      insecureSkipTlsVerify: false,
      namespace: 'monitoring',
      token: undefined,
    });
  });

  it('uses a token, insecure-skip-tls-verify and the default namespace when the context says so', () => {
    const fs = files({ '/k/config': KUBECONFIG.replace('current-context: prod', 'current-context: dev') });
    const c = loadKubeconfig('/k/config', fs.readFile);
    expect(c).to.include({ server: 'https://dev.example.com:6443', insecureSkipTlsVerify: true, namespace: 'default', ca: undefined });
    expect(c.token?.()).to.equal('dev-token');
  });

  it('reads a tokenFile on every request, so a rotated token is picked up', () => {
    const text = KUBECONFIG.replace('user: {token: dev-token}', 'user: {tokenFile: token}').replace('current-context: prod', 'current-context: dev');
    const fs = files({ '/k/config': text, '/k/token': 'one\n' });
    const c = loadKubeconfig('/k/config', fs.readFile);
    expect(c.token?.()).to.equal('one');
    fs.entries['/k/token'] = 'two\n';
    expect(c.token?.()).to.equal('two');
  });

  it('refuses a kubeconfig it cannot use, saying why', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /has no current-context/],
      [KUBECONFIG.replace('current-context: prod', 'current-context: staging'), /no context named "staging"/],
      [KUBECONFIG.replace('client-certificate: certs/client.crt', 'exec: {command: aws}'), /exec or auth-provider plugin/],
      [KUBECONFIG.replace('certs/client.crt', 'missing.crt'), /cannot read a file it names \(ENOENT\)/],
    ];
    for (const [text, message] of cases) {
      expect(() => loadKubeconfig('/k/config', files({ '/k/config': text }).readFile), String(message)).to.throw(KubeconfigError, message);
    }
    expect(() => loadKubeconfig('/nowhere', files({}).readFile)).to.throw(KubeconfigError, /cannot load kubeconfig \/nowhere: ENOENT/);
  });

  it('builds the in-cluster connection from the service environment and the mounted service account, re-reading the token', () => {
    const sa = '/var/run/secrets/kubernetes.io/serviceaccount';
    const fs = files({ [`${sa}/token`]: 'token-1', [`${sa}/ca.crt`]: 'CLUSTER CA', [`${sa}/namespace`]: 'monitoring' });
    const c = inClusterConnection({ KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, fs.readFile);
    expect(c).to.include({ server: 'https://10.96.0.1:443', ca: 'CLUSTER CA', namespace: 'monitoring' });
    expect(c.token?.()).to.equal('token-1');
    fs.entries[`${sa}/token`] = 'token-2';
    expect(c.token?.()).to.equal('token-2');
    expect(inClusterConnection({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '6443' }, fs.readFile).server).to.equal('https://[fd00::1]:6443');
  });

  it('refuses the in-cluster connection outside a pod or without a service account token', () => {
    expect(() => inClusterConnection({}, files({}).readFile)).to.throw(KubeconfigError, /KUBERNETES_SERVICE_HOST is not set/);
    expect(() => inClusterConnection({ KUBERNETES_SERVICE_HOST: '10.96.0.1' }, files({}).readFile)).to.throw(KubeconfigError, /service account's token .* \(ENOENT\)/);
  });
});
