import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { parseAllDocuments } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import { parseSecret } from '../../src/discovery/secret.js';
import type { SecretSource } from '../../src/config/secrets.js';
import type { KubeSecret } from '../../src/discovery/client.js';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

/** Every ```yaml (or ```yml) block of README.md and docs/*.md, with the line its fence is on. */
function yamlBlocks(): Array<{ file: string; line: number; text: string }> {
  const files = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
  return files.flatMap((file) => {
    const source = readFileSync(join(ROOT, file), 'utf8');
    return [...source.matchAll(/^```ya?ml[^\n]*\n([\s\S]*?)^```/gm)].map((m) => ({
      file,
      line: source.slice(0, m.index).split('\n').length,
      text: m[1] ?? '',
    }));
  });
}

// Loosely typed YAML, as JSON.parse would give it.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = Record<string, any>;

/**
 * The alertmux config a block shows, or undefined when it shows something else (a
 * Kubernetes object, an Alertmanager config, a template fragment). A list of targets,
 * as the target docs show them, is checked as the `targets:` of a config.
 */
function asAlertmuxConfig(doc: unknown): Doc | undefined {
  if (Array.isArray(doc) && doc.every((t) => t && typeof t === 'object' && 'name' in t && 'type' in t)) return { targets: doc };
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return undefined;
  const d = doc as Doc;
  if (d['apiVersion'] || d['groups'] || d['route'] || d['receivers']) return undefined;
  return ['targets', 'targets_dir', 'listen', 'storage', 'discovery', 'auth', 'dispatch'].some((k) => k in d) ? d : undefined;
}

/**
 * A placeholder for a secret: a URL for a field named like one, 32 characters for a PagerDuty routing key,
 * else letters and digits (fits signing secrets and keys).
 */
const placeholder = (field: string) =>
  /url$/i.test(field) ? 'https://placeholder.example.com/secret' : /routing/i.test(field) ? 'placeholder0123456789abcdef01234' : 'placeholder0123456789abcdef';

/**
 * Every field that is just a secret reference, or a `<value>` for the reader to fill in (as the generated
 * docs/configuration.md writes required fields), replaced by a placeholder of the field's kind.
 */
function withPlaceholders(value: unknown, field = ''): unknown {
  if (typeof value === 'string') return /^(\$\{(env|file):[^}]+\}|<[a-z_]+>)$/.test(value) ? placeholder(field) : value;
  if (Array.isArray(value)) return value.map((v) => withPlaceholders(v, field));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withPlaceholders(v, k)]));
  return value;
}

/** References inside longer strings (`Bearer ${env:TOKEN}`) resolve to a placeholder too. */
const placeholders: SecretSource = {
  env: new Proxy({} as Record<string, string>, { get: (_t, key) => (typeof key === 'string' ? placeholder(key) : undefined) }),
  readFile: (path) => placeholder(basename(path)),
};

describe('YAML examples of README.md and docs/', () => {
  const blocks = yamlBlocks();

  it('are found (README.md has its main config example)', () => {
    expect(blocks.filter((b) => b.file === 'README.md').length).to.be.greaterThan(1);
    expect(blocks.length).to.be.greaterThan(15);
  });

  for (const block of blocks) {
    const where = `${block.file}:${block.line}`;
    it(`${where} parses${checksConfig(block.text) ? ' and passes config validation (secrets as placeholders)' : ''}`, () => {
      let docs: unknown[] = [];
      expect(() => (docs = loadAll(block.text)), where).to.not.throw();
      for (const doc of docs) {
        const secret = doc as Doc;
        if (secret?.['kind'] === 'Secret' && secret['stringData']?.['config']) {
          // A target Secret for discovery: read as alertmux reads it from the API (values base64).
          const data = Object.fromEntries(Object.entries(secret['stringData'] as Record<string, string>).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
          const parsed = parseSecret({ metadata: secret['metadata'] as KubeSecret['metadata'], data }, 'default');
          expect(parsed.error, where).to.equal(undefined);
          expect(parsed.target, where).to.not.equal(undefined);
        }
        const config = asAlertmuxConfig(doc);
        if (!config) continue;
        // A targets_dir of the example's machine is an empty directory here.
        const dir = config['targets_dir'] ? mkdtempSync(join(tmpdir(), 'visible-docs-')) : undefined;
        try {
          const parsed = parseConfig(JSON.stringify(withPlaceholders(dir ? { ...config, targets_dir: dir } : config)), { ...placeholders, baseDir: ROOT });
          if (config['targets']) expect(parsed.targets.length, where).to.equal((config['targets'] as unknown[]).length);
        } finally {
          if (dir) rmSync(dir, { recursive: true, force: true });
        }
      }
    });
  }
});

/** Every document of a block, read by the YAML parser alertmux reads its config with; throws on the first error. */
function loadAll(text: string): unknown[] {
  return parseAllDocuments(text, { merge: true }).map((doc) => {
    if (doc.errors.length) throw doc.errors[0];
    return doc.toJS() as unknown;
  });
}

/** Whether a block holds an alertmux config or target Secret (for the test's title; a block that does not parse says no). */
function checksConfig(text: string): boolean {
  try {
    return loadAll(text).some((d) => asAlertmuxConfig(d) !== undefined || (d as Doc | undefined)?.['kind'] === 'Secret');
  } catch {
    return false;
  }
}
