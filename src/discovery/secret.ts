import { posix } from 'node:path';
import { formatProblem, parseTarget } from '../config/load.js';
import { createRedactor } from '../publishers/redaction.js';
import type { KubeSecret } from './client.js';
import type { TargetConfig } from '../publishers/registry.js';

/** The key of a Secret holding the target (YAML or JSON of one target), as in a Secret mounted into targets_dir. */
export const CONFIG_KEY = 'config';
/** Target types a Secret may not define: they act on alertmux's own disk. */
const LOCAL_TYPES = new Set(['file']);

/** What one Secret produced: a target, or why it has none. */
export interface DiscoveredSecret {
  namespace: string;
  name: string;
  resourceVersion: string;
  /** Creation time (ms); the older of two Secrets naming the same target keeps it. */
  createdAt: number;
  target?: TargetConfig;
  /** Secret values of the target, for redaction. */
  secrets: string[];
  error?: string;
}

/**
 * Turn a Secret into a target, validated like a targets_dir file. `${file:KEY}` in its
 * `config` reads the sibling key KEY of the same Secret, exactly what it means when the
 * Secret is mounted as a directory; `${env:...}` and paths outside the Secret are refused,
 * so a Secret cannot read alertmux's own environment or disk.
 */
export function parseSecret(secret: KubeSecret, fallbackNamespace: string): DiscoveredSecret {
  const namespace = secret.metadata.namespace ?? fallbackNamespace;
  const name = secret.metadata.name;
  const entry: DiscoveredSecret = {
    namespace,
    name,
    resourceVersion: secret.metadata.resourceVersion ?? '',
    createdAt: Date.parse(secret.metadata.creationTimestamp ?? '') || 0,
    secrets: [],
  };
  const data = Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
  const text = data[CONFIG_KEY];
  if (text === undefined) return { ...entry, error: `the Secret has no "${CONFIG_KEY}" key` };

  const dir = posix.join('/', namespace, name);
  const readFile = (path: string) => {
    const key = posix.relative(dir, path);
    if (key.includes('/') || key.startsWith('..')) throw Object.assign(new Error('outside the Secret'), { code: 'not a key of this Secret' });
    if (key === CONFIG_KEY || data[key] === undefined) throw Object.assign(new Error('no such key'), { code: 'no such key in the Secret' });
    return data[key];
  };
  // Validated and checked (matchers, templates) like a targets_dir file; problems say the line of the `config` key.
  const parsed = parseTarget(text, name, { env: {}, readFile, baseDir: dir });
  const { target, secrets } = parsed;
  const problems = parsed.problems.map((p) => formatProblem({ ...p, target: undefined }));
  if (target && LOCAL_TYPES.has(target.type)) problems.push(`type "${target.type}" cannot come from a Secret (it writes to alertmux's disk)`);
  // Every value of the Secret is treated as secret, whether or not the target marks it so.
  for (const [k, v] of Object.entries(data)) if (k !== CONFIG_KEY && v.trim()) secrets.add(v.replace(/\r?\n$/, ''));
  const values = [...secrets].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
  if (problems.length || !target) {
    const redact = createRedactor(values);
    return { ...entry, secrets: values, error: redact(problems.join('; ')) };
  }
  return { ...entry, target: deepFreeze(target), secrets: values };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
