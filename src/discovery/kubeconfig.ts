import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { KubeConnection } from './client.js';

/** Where a pod finds its service account. https://kubernetes.io/docs/tasks/run-application/access-api-from-pod/ */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

type ReadFile = (path: string) => string;
const readText: ReadFile = (path) => readFileSync(path, 'utf8');

/** A kubeconfig or in-cluster setup that cannot be used. */
export class KubeconfigError extends Error {
  override name = 'KubeconfigError';
}

/**
 * The in-cluster connection: API host from KUBERNETES_SERVICE_HOST/PORT (`env` is
 * passed in by main.ts), token (re-read on every request), CA and namespace from
 * the mounted service account.
 */
export function inClusterConnection(env: Record<string, string | undefined>, readFile: ReadFile = readText, dir = SERVICE_ACCOUNT_DIR): KubeConnection {
  const host = env['KUBERNETES_SERVICE_HOST'];
  const port = env['KUBERNETES_SERVICE_PORT'] ?? '443';
  if (!host) throw new KubeconfigError('not running in a Kubernetes pod (KUBERNETES_SERVICE_HOST is not set); set discovery.kubernetes.kubeconfig');
  const read = (name: string) => {
    try {
      return readFile(`${dir}/${name}`);
    } catch (err) {
      throw new KubeconfigError(`cannot read the service account's ${name} in ${dir} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  };
  read('token'); // fail at start rather than on the first request
  const namespace = (() => {
    try {
      return readFile(`${dir}/namespace`).trim();
    } catch {
      return undefined;
    }
  })();
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    token: () => read('token').trim(),
    ca: read('ca.crt'),
    namespace,
  };
}

type Fields = Record<string, unknown>;

/**
 * The connection of a kubeconfig file's current context: cluster server, CA (data or
 * file), user token (or token file) or client certificate and key, insecure-skip-tls-verify.
 * Relative file paths are relative to the kubeconfig. Exec and auth-provider plugins are not supported.
 */
export function loadKubeconfig(path: string, readFile: ReadFile = readText): KubeConnection {
  let doc: Fields;
  try {
    doc = (parseYaml(readFile(path)) ?? {}) as Fields;
  } catch (err) {
    throw new KubeconfigError(`cannot load kubeconfig ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message.split('\n')[0]}`);
  }
  const base = dirname(resolve(path));
  const pick = (list: string, name: unknown, key: 'cluster' | 'user' | 'context'): Fields => {
    const entry = ((doc[list] ?? []) as Fields[]).find((e) => e['name'] === name)?.[key] as Fields | undefined;
    if (!entry) throw new KubeconfigError(`kubeconfig ${path}: no ${key} named "${String(name)}"`);
    return entry;
  };
  const contextName = doc['current-context'];
  if (!contextName) throw new KubeconfigError(`kubeconfig ${path} has no current-context`);
  const context = pick('contexts', contextName, 'context');
  const cluster = pick('clusters', context['cluster'], 'cluster');
  const user = context['user'] === undefined ? {} : pick('users', context['user'], 'user');
  if (typeof cluster['server'] !== 'string') throw new KubeconfigError(`kubeconfig ${path}: cluster "${String(context['cluster'])}" has no server`);
  if (user['exec'] || user['auth-provider']) throw new KubeconfigError(`kubeconfig ${path}: user "${String(context['user'])}" uses an exec or auth-provider plugin, which alertmux does not run; use a token or a client certificate`);

  const material = (fields: Fields, data: string, file: string): string | undefined => {
    if (typeof fields[data] === 'string') return Buffer.from(fields[data], 'base64').toString('utf8');
    if (typeof fields[file] === 'string') return readFile(resolve(base, fields[file]));
    return undefined;
  };
  const token = typeof user['token'] === 'string' ? user['token'] : undefined;
  const tokenFile = typeof user['tokenFile'] === 'string' ? resolve(base, user['tokenFile']) : undefined;
  try {
    return {
      server: cluster['server'],
      ca: material(cluster, 'certificate-authority-data', 'certificate-authority'),
      cert: material(user, 'client-certificate-data', 'client-certificate'),
      key: material(user, 'client-key-data', 'client-key'),
      insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
      token: token ? () => token : tokenFile ? () => readFile(tokenFile).trim() : undefined,
      namespace: typeof context['namespace'] === 'string' ? context['namespace'] : 'default',
    };
  } catch (err) {
    throw new KubeconfigError(`kubeconfig ${path}: cannot read a file it names (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}
