import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, posix, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { collectDefaultMetrics } from 'prom-client';
import { parseConfig } from '../../src/config/load.js';
import { fixture } from '../helpers/fixtures.js';
import { loopbackTarget, startApp, type LoopbackTarget, type TestApp } from '../helpers/servers.js';
import type { SecretSource } from '../../src/config/secrets.js';
import type { Config } from '../../src/config/types.js';
import { targetKinds } from '../../src/publishers/registry.js';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const EXAMPLES = join(ROOT, 'examples');

/** Every YAML file under examples/, plus the image's and the embedded default config. */
function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? yamlFiles(join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}
const FILES = [...yamlFiles(EXAMPLES), join(ROOT, 'docker', 'alertmux.yml'), join(ROOT, 'config', 'alertmux.yml')];

// Loosely typed YAML documents (Kubernetes objects, rule files), read as JSON.parse would give them.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = Record<string, any>;
const docsOf = (file: string) =>
  parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => {
      if (d.errors.length) throw d.errors[0];
      return d.toJS() as unknown;
    })
    .filter((d): d is Doc => !!d && typeof d === 'object');
const kubeObjects = (file: string) => docsOf(file).filter((d) => d['apiVersion'] && d['kind']);

/** Rule groups of the plain rules file and of the PrometheusRule. */
const rulesFile = parseYaml(readFileSync(join(EXAMPLES, 'prometheus', 'alertmux-rules.yml'), 'utf8')) as Doc;
const prometheusRule = kubeObjects(join(EXAMPLES, 'kubernetes', 'prometheusrule.yaml')).find((d) => d['kind'] === 'PrometheusRule') as Doc;
const dashboard = JSON.parse(readFileSync(join(EXAMPLES, 'grafana', 'alertmux-dashboard.json'), 'utf8')) as Doc;
const rules = (rulesFile['groups'] as Doc[]).flatMap((g) => g['rules'] as Doc[]);

/** Every PromQL text of the dashboard (panel targets, variable queries), wherever it is nested. */
function dashboardQueries(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => dashboardQueries(n, out));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if ((k === 'expr' || k === 'query' || k === 'definition') && typeof v === 'string') out.push(v);
      else dashboardQueries(v, out);
    }
  }
  return out;
}

/** Metric names a PromQL expression uses: alertmux's own, and the process/Node.js ones prom-client exports. */
const METRIC = /\b(?:alertmux|process|nodejs)_[a-z0-9_]+/g;
const metricsIn = (exprs: string[]) => [...new Set(exprs.flatMap((e) => e.match(METRIC) ?? []))].sort();

describe('examples', () => {
  describe('the Grafana dashboard and the alert rules', () => {
    let app: TestApp;
    let broken: LoopbackTarget;
    let exported: Map<string, string>;

    before(async () => {
      broken = await loopbackTarget(() => ({ status: 500 }));
      app = await startApp(
        `storage: {path: ':memory:'}\nretry: {initial_backoff: 1h}\ntargets:\n  - {name: logs, type: log}\n  - {name: legacy, type: webhook, url: '${broken.url}/hook'}\n`,
      );
      collectDefaultMetrics({ register: app.registry });
      const res = await app.post('/webhook', fixture());
      expect(res.status).to.equal(202);
      const text = (await app.get('/metrics')).text;
      // name → type, with the series names a histogram or summary adds.
      exported = new Map();
      for (const [, name = '', type = ''] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
        exported.set(name, type);
        const parts = type === 'histogram' ? ['_bucket', '_sum', '_count'] : type === 'summary' ? ['_sum', '_count'] : [];
        for (const suffix of parts) exported.set(`${name}${suffix}`, type);
      }
    });

    after(async () => {
      await app.close();
      await broken.close();
    });

    it('uses only metric names the running service exports', () => {
      const used = metricsIn([...dashboardQueries(dashboard), ...rules.map((r) => String(r['expr']))]);
      expect(used.length).to.be.greaterThan(15);
      expect(used.filter((name) => !exported.has(name))).to.deep.equal([]);
    });

    it('selects only label names those metrics have', () => {
      const labelsOf = (name: string) => {
        const base = name.replace(/_(bucket|sum|count)$/, '');
        const metric = app.registry.getSingleMetric(exported.has(base) && base !== name ? base : name) as unknown as { labelNames?: string[] } | undefined;
        return new Set([...(metric?.labelNames ?? []), 'job', 'instance', 'namespace', 'pod', ...(name.endsWith('_bucket') ? ['le'] : [])]);
      };
      const problems: string[] = [];
      for (const expr of [...dashboardQueries(dashboard), ...rules.map((r) => String(r['expr']))]) {
        for (const [, name = '', selector = ''] of expr.matchAll(/\b((?:alertmux|process|nodejs)_[a-z0-9_]+)\{([^}]*)\}/g)) {
          const labels = labelsOf(name);
          for (const [, label = ''] of selector.matchAll(/([a-z_]+)\s*(?:=~|!~|!=|=)/g)) if (!labels.has(label)) problems.push(`${name}{${label}}`);
        }
      }
      expect(problems).to.deep.equal([]);
    });

    it('alert on dead letters, unhealthy targets, failed reloads, the failure ratio and old pending deliveries', () => {
      const byMetric = (metric: string) => rules.filter((r) => String(r['expr']).includes(metric)).map((r) => r['alert']);
      expect(byMetric('alertmux_dead_letters_total')).to.have.length.greaterThan(0);
      expect(byMetric('alertmux_target_health')).to.have.length.greaterThan(0);
      expect(byMetric('alertmux_config_last_reload_successful')).to.have.length.greaterThan(0);
      expect(byMetric('alertmux_notifications_failed_total')).to.have.length.greaterThan(0);
      expect(byMetric('alertmux_delivery_oldest_pending_age_seconds')).to.have.length.greaterThan(0);
      for (const r of rules) {
        expect(r['alert'], JSON.stringify(r)).to.match(/^Alertmux[A-Za-z]+$/);
        expect(r['labels']?.['severity'], r['alert'] as string).to.be.oneOf(['critical', 'warning', 'info']);
        expect(r['annotations']?.['summary'], r['alert'] as string).to.be.a('string');
        expect(r['annotations']?.['description'], r['alert'] as string).to.be.a('string');
      }
    });

    it('pass promtool check rules (promtool from Debian\'s prometheus package; required under CI)', function () {
      if (spawnSync('promtool', ['--version']).error) {
        if (process.env['CI']) throw new Error('CI is set but promtool is not on PATH: .ci/run must apt-get install prometheus');
        console.log('      (skipped: no promtool on PATH; apt-get install prometheus to run it)');
        this.skip();
      }
      const result = spawnSync('promtool', ['check', 'rules', join(EXAMPLES, 'prometheus', 'alertmux-rules.yml')], { encoding: 'utf8' });
      expect(result.status, result.stdout + result.stderr).to.equal(0);
    });

    it('ship the same rule groups as a PrometheusRule and as a plain rules file', () => {
      expect(prometheusRule['spec']['groups']).to.deep.equal(rulesFile['groups']);
    });

    it('give every dashboard panel a unique id and the datasource variable', () => {
      const panels = dashboard['panels'] as Doc[];
      expect(new Set(panels.map((p) => p['id'])).size).to.equal(panels.length);
      for (const p of panels.filter((p) => p['type'] !== 'row')) {
        expect(p['datasource'], p['title'] as string).to.deep.equal({ type: 'prometheus', uid: '${datasource}' });
        expect(p['targets'], p['title'] as string).to.have.length.greaterThan(0);
      }
    });
  });

  describe('alertmux configs pass check-config', () => {
    for (const file of FILES.filter(existsSync)) {
      const name = relative(ROOT, file);
      const docs = docsOf(file);
      if (isAlertmuxConfig(docs[0]) && docs.length === 1) {
        it(`${name}`, () => {
          const text = readFileSync(file, 'utf8');
          const config = checkFile(text, dirname(file));
          expect(config.targets.length, name).to.be.greaterThan(0);
        });
      }
      for (const map of docs.filter((d) => d['kind'] === 'ConfigMap')) {
        for (const [key, text] of Object.entries((map['data'] ?? {}) as Record<string, string>)) {
          if (!/\.ya?ml$/.test(key) || !isAlertmuxConfig(parseYaml(text) as Doc)) continue;
          it(`${name}: ConfigMap ${map['metadata']['name']} ${key}, with the Secrets its Deployment mounts`, () => checkMounted(dirname(file), map, key));
        }
      }
    }
  });

  describe('the Kubernetes Deployment', () => {
    // The top directory's files: one replica on SQLite (ha/ is tested below).
    const top = join(EXAMPLES, 'kubernetes');
    const objects = readdirSync(top)
      .filter((f) => /\.ya?ml$/.test(f))
      .flatMap((f) => kubeObjects(join(top, f)));
    const deployment = objects.find((o) => o['kind'] === 'Deployment') as Doc;
    const pod = deployment['spec']['template']['spec'] as Doc;
    const container = pod['containers'][0] as Doc;

    it('is ready on /-/ready and alive on /-/healthy', () => {
      expect(container['readinessProbe']['httpGet']['path']).to.equal('/-/ready');
      expect(container['livenessProbe']['httpGet']['path']).to.equal('/-/healthy');
    });

    it('runs as a non-root user with a read-only root filesystem and resource limits', () => {
      expect(pod['securityContext']).to.include({ runAsNonRoot: true });
      expect(pod['securityContext']['runAsUser']).to.be.greaterThan(0);
      expect(container['securityContext']).to.include({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
      expect(container['resources']['requests']).to.have.keys('cpu', 'memory');
      expect(container['resources']['limits']).to.have.property('memory');
    });

    it('keeps the ledger on a volume at /var/lib/alertmux and runs one replica with Recreate', () => {
      const mount = (container['volumeMounts'] as Doc[]).find((m) => m['mountPath'] === '/var/lib/alertmux');
      const volume = (pod['volumes'] as Doc[]).find((v) => v['name'] === mount?.['name']);
      expect(volume?.['persistentVolumeClaim'] ?? volume?.['emptyDir']).to.not.equal(undefined);
      expect(deployment['spec']).to.include({ replicas: 1 });
      expect(deployment['spec']['strategy']['type']).to.equal('Recreate');
    });

    it('is reached by the Service on 9095 and scraped by the ServiceMonitor', () => {
      const service = objects.find((o) => o['kind'] === 'Service') as Doc;
      const monitor = objects.find((o) => o['kind'] === 'ServiceMonitor') as Doc;
      expect(service['spec']['ports'][0]).to.include({ port: 9095, targetPort: 'http' });
      expect(monitor['spec']['endpoints'][0]).to.include({ port: 'http', path: '/metrics' });
      expect(monitor['spec']['selector']['matchLabels']).to.deep.equal(service['metadata']['labels']);
    });
  });

  describe('the Kubernetes example of three replicas on PostgreSQL (examples/kubernetes/ha)', () => {
    const dir = join(EXAMPLES, 'kubernetes', 'ha');
    const objects = yamlFiles(dir).flatMap(kubeObjects);
    const deployment = objects.find((o) => o['kind'] === 'Deployment') as Doc;
    const pod = deployment['spec']['template']['spec'] as Doc;
    const container = pod['containers'][0] as Doc;
    const env = (name: string) => (container['env'] as Doc[]).find((e) => e['name'] === name);
    const map = objects.find((o) => o['kind'] === 'ConfigMap') as Doc;
    const raw = parseYaml(map['data']['alertmux.yml'] as string) as Doc;

    it('runs three replicas, named after their pods, spread over nodes and zones, one replaced at a time', () => {
      expect(deployment['spec']['replicas']).to.equal(3);
      expect(env('ALERTMUX_REPLICA')?.['valueFrom']?.['fieldRef']).to.deep.equal({ fieldPath: 'metadata.name' });
      expect(deployment['spec']['strategy']).to.deep.equal({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
      const labels = pod['topologySpreadConstraints'][0]['labelSelector']['matchLabels'];
      expect(labels).to.deep.equal(deployment['spec']['selector']['matchLabels']);
      const anti = pod['affinity']['podAntiAffinity']['preferredDuringSchedulingIgnoredDuringExecution'][0]['podAffinityTerm'];
      expect(anti).to.deep.include({ topologyKey: 'kubernetes.io/hostname' });
      expect(anti['labelSelector']['matchLabels']).to.deep.equal(labels);
    });

    it('keeps no ledger volume: the ledger is the database', () => {
      expect((pod['volumes'] as Doc[]).filter((v) => v['persistentVolumeClaim'])).to.deep.equal([]);
      expect(objects.filter((o) => o['kind'] === 'PersistentVolumeClaim')).to.deep.equal([]);
    });

    it('keeps two replicas through disruptions, with a PodDisruptionBudget selecting the pods', () => {
      const pdb = objects.find((o) => o['kind'] === 'PodDisruptionBudget') as Doc;
      expect(pdb['spec']['minAvailable']).to.equal(2);
      expect(pdb['spec']['selector']['matchLabels']).to.deep.equal(deployment['spec']['template']['metadata']['labels']);
    });

    it('is ready on /-/ready (false while the ledger cannot commit) and alive on /-/healthy (not on the database)', () => {
      expect(container['readinessProbe']['httpGet']['path']).to.equal('/-/ready');
      expect(container['livenessProbe']['httpGet']['path']).to.equal('/-/healthy');
      expect(pod['securityContext']).to.include({ runAsNonRoot: true });
      expect(container['securityContext']).to.include({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
    });

    it('uses driver postgres with the password from a Secret through ${env:PGPASSWORD}, none in the ConfigMap', () => {
      expect(raw['storage']['driver']).to.equal('postgres');
      expect(raw['storage']['url']).to.match(/^postgres:\/\/alertmux:\$\{env:PGPASSWORD\}@[^/]+\/alertmux\?sslmode=verify-full/);
      const ref = env('PGPASSWORD')?.['valueFrom']?.['secretKeyRef'] as Doc;
      const secret = objects.find((o) => o['kind'] === 'Secret' && o['metadata']['name'] === ref['name']);
      expect(secret?.['stringData']).to.have.property(ref['key'] as string);
      const config = checkMountedConfig(dir, map, 'alertmux.yml');
      expect(config.warnings).to.deep.equal([]);
      expect(config.secrets).to.include(secret?.['stringData'][ref['key']]);
    });

    it('lists every manifest of the directory in its kustomization, and is reached through one Service', () => {
      const kustomization = parseYaml(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as Doc;
      const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml');
      expect([...(kustomization['resources'] as string[])].sort()).to.deep.equal(files.sort());
      const service = objects.find((o) => o['kind'] === 'Service') as Doc;
      expect(service['spec']['selector']).to.deep.equal(deployment['spec']['selector']['matchLabels']);
      expect(service['spec']['ports'][0]).to.include({ port: 9095, targetPort: 'http' });
    });
  });

  describe('the Alertmanager receiver', () => {
    const file = join(EXAMPLES, 'alertmanager.yml');
    const am = parseYaml(readFileSync(file, 'utf8')) as Doc;

    it('posts to alertmux with a bearer token from a file and sends resolved notifications', () => {
      const receiver = (am['receivers'] as Doc[]).find((r) => r['name'] === am['route']['receiver']) as Doc;
      const webhook = receiver['webhook_configs'][0] as Doc;
      expect(webhook['url']).to.equal('http://alertmux:9095/webhook');
      expect(webhook['send_resolved']).to.equal(true);
      expect(webhook['http_config']['authorization']).to.include({ type: 'Bearer' });
      expect(webhook['http_config']['authorization']['credentials_file']).to.match(/^\//);
    });

    it('passes amtool check-config (when amtool is installed)', function () {
      if (spawnSync('amtool', ['--version']).error) this.skip();
      const result = spawnSync('amtool', ['check-config', file], { encoding: 'utf8' });
      expect(result.status, result.stdout + result.stderr).to.equal(0);
    });
  });
});

/** An alertmux config, as opposed to a Kubernetes object, rule file, Alertmanager config or dashboard. */
function isAlertmuxConfig(doc: Doc | undefined): boolean {
  if (!doc || doc['apiVersion'] || doc['groups'] || doc['route'] || doc['receivers'] || doc['panels']) return false;
  return ['targets', 'targets_dir', 'listen', 'storage', 'discovery'].some((k) => k in doc);
}

/** `${env:X}` and `${file:/p}` resolve to plausible fakes (URLs where the name says URL, 32 characters for a PagerDuty routing key). */
function fakeSecrets(): SecretSource {
  const plain = (name: string) => `fake${name.replace(/[^A-Za-z0-9]/g, '')}0123456789abcdef`;
  const fake = (name: string) =>
    /url/i.test(name)
      ? `https://hooks.example.com/fake/${name.replace(/[^A-Za-z0-9]/g, '')}`
      : /routing/i.test(name)
        ? plain(name).padEnd(32, '0').slice(0, 32)
        : plain(name);
  return {
    env: new Proxy({} as Record<string, string>, { get: (_t, key) => (typeof key === 'string' ? fake(key) : undefined) }),
    readFile: (path) => fake(basename(path)),
  };
}

/** Parse a config file's text with fake secrets; a targets_dir that does not exist here becomes an empty directory. */
function checkFile(text: string, baseDir: string): Config {
  const raw = parseYaml(text) as Doc;
  if (!raw['targets_dir'] || existsSync(resolve(baseDir, raw['targets_dir'] as string))) return parseConfig(text, { ...fakeSecrets(), baseDir, kinds: targetKinds });
  const dir = mkdtempSync(join(tmpdir(), 'alertmux-targets-'));
  try {
    return parseConfig(JSON.stringify({ ...raw, targets_dir: dir }), { ...fakeSecrets(), baseDir, kinds: targetKinds });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Check a ConfigMap-embedded config as the pod sees it: the files are what the
 * Deployment of the same directory mounts (ConfigMaps and Secrets of that
 * directory), `${file:...}` must name one of them, and targets_dir holds the
 * mounted target Secrets.
 */
function checkMounted(dir: string, map: Doc, key: string): void {
  checkMountedConfig(dir, map, key);
}

/** The environment a Deployment's first container gets: values, Secret keys of that directory, the pod's own fields. */
function podEnv(deployment: Doc, objects: Doc[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of (deployment['spec']['template']['spec']['containers'][0]['env'] ?? []) as Doc[]) {
    const ref = e['valueFrom']?.['secretKeyRef'] as Doc | undefined;
    if (typeof e['value'] === 'string') env[e['name'] as string] = e['value'] as string;
    else if (e['valueFrom']?.['fieldRef']) env[e['name'] as string] = 'alertmux-7d9f8-abcde';
    else if (ref) {
      const secret = objects.find((o) => o['kind'] === 'Secret' && o['metadata']['name'] === ref['name']);
      expect(secret, `Secret ${String(ref['name'])} of env ${String(e['name'])}`).to.not.equal(undefined);
      const data = secret?.['stringData']?.[ref['key']] ?? Buffer.from((secret?.['data']?.[ref['key']] ?? '') as string, 'base64').toString('utf8');
      env[e['name'] as string] = data as string;
    }
  }
  return env;
}

/** checkMounted's check, returning the loaded config. */
function checkMountedConfig(dir: string, map: Doc, key: string): Config {
  const objects = yamlFiles(dir).flatMap(kubeObjects);
  const deployment = objects.find((o) => o['kind'] === 'Deployment' && usesConfigMap(o, map['metadata']['name'] as string));
  expect(deployment, `a Deployment in ${dir} mounting ConfigMap ${map['metadata']['name']}`).to.not.equal(undefined);
  const container = deployment?.['spec']['template']['spec']['containers'][0] as Doc;
  const files = podFiles(deployment as Doc, objects);
  const args = (container['args'] ?? []) as string[];
  const configPath = args[args.indexOf('--config') + 1] ?? '';
  expect(files.get(configPath), `--config ${configPath} is the ConfigMap's ${key}`).to.equal(map['data'][key]);

  const raw = parseYaml(map['data'][key] as string) as Doc;
  const work = mkdtempSync(join(tmpdir(), 'alertmux-pod-'));
  try {
    const targetsDir = raw['targets_dir'] as string | undefined;
    let mounted = 0;
    if (targetsDir) {
      for (const [path, content] of files) {
        if (!path.startsWith(`${targetsDir}/`)) continue;
        const local = join(work, posix.relative(targetsDir, path));
        mkdirSync(dirname(local), { recursive: true });
        writeFileSync(local, content);
        mounted++;
      }
    }
    const readFile = (path: string) => {
      const content = files.get(path);
      if (content === undefined) throw Object.assign(new Error(`no such file in the pod: ${path}`), { code: 'ENOENT' });
      return content;
    };
    const config = parseConfig(JSON.stringify({ ...raw, ...(targetsDir ? { targets_dir: work } : {}) }), {
      env: podEnv(deployment as Doc, objects),
      kinds: targetKinds,
      readFile,
      baseDir: posix.dirname(configPath),
    });
    expect(config.targets.length).to.be.greaterThan(0);
    expect(config.targets.length).to.equal(mounted + ((raw['targets'] as unknown[] | undefined)?.length ?? 0));
    return config;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function usesConfigMap(deployment: Doc, name: string): boolean {
  return ((deployment['spec']['template']['spec']['volumes'] ?? []) as Doc[]).some((v) => v['configMap']?.['name'] === name);
}

/** The files a Deployment's first container sees from its ConfigMap and Secret volumes: path → content. */
function podFiles(deployment: Doc, objects: Doc[]): Map<string, string> {
  const pod = deployment['spec']['template']['spec'] as Doc;
  const files = new Map<string, string>();
  for (const m of pod['containers'][0]['volumeMounts'] as Doc[]) {
    const volume = (pod['volumes'] as Doc[]).find((v) => v['name'] === m['name']) as Doc;
    const source = volume['configMap']
      ? objects.find((o) => o['kind'] === 'ConfigMap' && o['metadata']['name'] === volume['configMap']['name'])
      : volume['secret']
        ? objects.find((o) => o['kind'] === 'Secret' && o['metadata']['name'] === volume['secret']['secretName'])
        : undefined;
    if (!source) continue;
    const decoded = Object.entries((source['data'] ?? {}) as Record<string, string>).map(([k, v]) => [k, source['kind'] === 'Secret' ? Buffer.from(v, 'base64').toString('utf8') : v]);
    const data = { ...Object.fromEntries(decoded), ...((source['stringData'] ?? {}) as Record<string, string>) } as Record<string, string>;
    if (m['subPath']) files.set(m['mountPath'] as string, data[m['subPath'] as string] ?? '');
    else for (const [k, v] of Object.entries(data)) files.set(posix.join(m['mountPath'] as string, k), v);
  }
  return files;
}
