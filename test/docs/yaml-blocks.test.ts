import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { parseAllDocuments } from 'yaml';
import { checkConfig } from '../../src/commands/check-config.js';
import { configSchema } from '../../src/config/schema.js';
import { parseSecret } from '../../src/discovery/secret.js';
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

/** Every YAML file under examples/. */
function exampleFiles(dir = join(ROOT, 'examples')): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? exampleFiles(join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [join(dir, e.name)] : []))
    .sort();
}

// Loosely typed YAML, as JSON.parse would give it.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = Record<string, any>;

const TOP_LEVEL = new Set(Object.keys(configSchema.properties));

/**
 * How a YAML document is recognised as an alertmux config (the rule this test checks by):
 * - a mapping with at least one top-level key of the alertmux config schema (`targets`, `targets_dir`,
 *   `listen`, `deadman`, ...) and none that marks another tool's file (`apiVersion`/`kind`: Kubernetes;
 *   `route`/`receivers`: Alertmanager; `groups`: Prometheus rules) is a whole config, checked as written: an
 *   unknown or misspelt key beside the known ones is then a check-config error, not a reason to skip;
 * - a list whose every item has `name` and `type` is a list of targets, as the target docs show them, and is
 *   checked as the `targets:` of an otherwise empty config;
 * - anything else (a Kubernetes object, an Alertmanager config, a few fields of one target such as `match:`
 *   or `template:`) is a fragment and only has to parse. A block that shows alertmux and Alertmanager config
 *   side by side must be split, one file per block.
 * Returns the config's text, or undefined for a fragment.
 */
function configText(doc: unknown, text: string): string | undefined {
  if (Array.isArray(doc)) {
    if (!doc.length || !doc.every((t) => t && typeof t === 'object' && 'name' in t && 'type' in t)) return undefined;
    return `targets:\n${text.replace(/^(?=.)/gm, '  ')}`;
  }
  if (!doc || typeof doc !== 'object') return undefined;
  const keys = Object.keys(doc);
  if (['apiVersion', 'kind', 'route', 'receivers', 'groups'].some((k) => keys.includes(k))) return undefined;
  return keys.some((k) => TOP_LEVEL.has(k)) ? text : undefined;
}

/**
 * `alertmux check-config --no-secrets` on a config's text, in-process: secret references are checked for syntax
 * only, as in CI without the secrets. A `targets_dir` names a directory of the reader's machine: it is pointed at
 * `targetsDir` (prepared by `prepare`), else at an empty directory. Returns the exit code and what it printed.
 */
function check(text: string, prepare?: (targetsDir: string) => void): { code: number; output: string } {
  const work = mkdtempSync(join(tmpdir(), 'alertmux-docs-'));
  try {
    const targetsDir = join(work, 'targets.d');
    mkdirSync(targetsDir);
    prepare?.(targetsDir);
    const file = join(work, 'alertmux.yml');
    writeFileSync(file, text.replace(/^targets_dir:.*$/m, `targets_dir: ${JSON.stringify(targetsDir)}`));
    const lines: string[] = [];
    const code = checkConfig([file], { env: {}, syntaxOnly: true }, (s) => lines.push(s), (s) => lines.push(s));
    return { code, output: lines.join('\n') };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Every document of a text, read by the YAML parser alertmux reads its config with; throws on the first error. */
function loadAll(text: string): unknown[] {
  return parseAllDocuments(text, { merge: true }).map((doc) => {
    if (doc.errors.length) throw doc.errors[0];
    return doc.toJS() as unknown;
  });
}

/** A target Secret for discovery must be read as alertmux reads it from the API (values base64). */
function expectDiscoverySecret(secret: Doc, where: string): void {
  const data = Object.fromEntries(Object.entries(secret['stringData'] as Record<string, string>).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
  const parsed = parseSecret({ metadata: secret['metadata'] as KubeSecret['metadata'], data }, 'default');
  expect(parsed.error, where).to.equal(undefined);
  expect(parsed.target, where).to.not.equal(undefined);
}

describe('YAML examples of README.md and docs/', () => {
  const blocks = yamlBlocks();

  it('are found (README.md has its main config example)', () => {
    expect(blocks.filter((b) => b.file === 'README.md').length).to.be.greaterThan(1);
    expect(blocks.length).to.be.greaterThan(15);
  });

  it('include alertmux configs, and README.md its main one with targets', () => {
    const configs = blocks.filter((b) => kindOf(b.text) === 'config');
    expect(configs.length).to.be.greaterThan(15);
    expect(configs.some((b) => b.file === 'README.md' && /^targets:/m.test(b.text))).to.equal(true);
  });

  for (const block of blocks) {
    const where = `${block.file}:${block.line}`;
    const kind = kindOf(block.text);
    it(`${where} parses${kind === 'config' ? ' and passes check-config --no-secrets' : kind === 'secret' ? ' and is a valid target Secret' : ''}`, () => {
      let docs: unknown[] = [];
      expect(() => (docs = loadAll(block.text)), where).to.not.throw();
      for (const doc of docs) {
        const d = doc as Doc | undefined;
        if (d?.['kind'] === 'Secret' && d['stringData']?.['config']) expectDiscoverySecret(d, where);
      }
      const configs = docs.filter((d) => configText(d, block.text) !== undefined);
      if (!configs.length) return;
      expect(docs, `${where}: an alertmux config is the only document of its block`).to.have.length(1);
      const { code, output } = check(configText(docs[0], block.text)!);
      expect(code, `${where}:\n${output}`).to.equal(0);
    });
  }
});

describe('alertmux configs of examples/ pass check-config --no-secrets', () => {
  const found: string[] = [];
  for (const file of exampleFiles()) {
    const name = relative(ROOT, file);
    const docs = loadAll(readFileSync(file, 'utf8')).filter((d): d is Doc => !!d && typeof d === 'object');
    if (docs.length === 1 && configText(docs[0], '') !== undefined) {
      found.push(name);
      it(name, () => {
        const { code, output } = check(readFileSync(file, 'utf8'));
        expect(code, output).to.equal(0);
      });
    }
    for (const map of docs.filter((d) => d['kind'] === 'ConfigMap')) {
      for (const [key, text] of Object.entries((map['data'] ?? {}) as Record<string, string>)) {
        if (!/\.ya?ml$/.test(key) || configText(loadAll(text)[0], text) === undefined) continue;
        found.push(`${name} ${key}`);
        it(`${name}: ConfigMap ${map['metadata']['name']} ${key}, with the target Secrets its Deployment mounts under targets_dir`, () => {
          const targetsDir = (loadAll(text)[0] as Doc)['targets_dir'] as string | undefined;
          const mounted: string[] = [];
          const { code, output } = check(text, (dir) => {
            if (targetsDir) mounted.push(...mountTargets(dirname(file), targetsDir, dir));
          });
          expect(code, output).to.equal(0);
          if (targetsDir) {
            expect(mounted.length, 'target Secrets mounted under targets_dir').to.be.greaterThan(0);
            expect(output).to.contain(`SUCCESS: ${mounted.length} target(s)`);
          }
        });
      }
    }
  }

  it('include examples/alertmux.yml and the Kubernetes ConfigMap', () => {
    expect(found).to.include('examples/alertmux.yml');
    expect(found.some((f) => f.startsWith('examples/kubernetes/'))).to.equal(true);
  });
});

/**
 * Write the Secrets that a Deployment of `dir` (its own files) mounts under `targetsDir` (as the pod sees them) into `local`;
 * returns the files written.
 */
function mountTargets(dir: string, targetsDir: string, local: string): string[] {
  // The directory's own files: a sub-directory (examples/kubernetes/ha) is another deployment of its own.
  const own = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).map((f) => join(dir, f));
  const objects = own.flatMap((f) => loadAll(readFileSync(f, 'utf8')) as Doc[]).filter((o) => o?.['kind']);
  const written: string[] = [];
  for (const deployment of objects.filter((o) => o['kind'] === 'Deployment')) {
    const pod = deployment['spec']['template']['spec'] as Doc;
    for (const m of pod['containers'].flatMap((c: Doc) => c['volumeMounts'] ?? []) as Doc[]) {
      const at = m['mountPath'] as string;
      if (!at.startsWith(`${targetsDir}/`)) continue;
      const volume = (pod['volumes'] as Doc[]).find((v) => v['name'] === m['name']);
      const secret = objects.find((o) => o['kind'] === 'Secret' && o['metadata']['name'] === volume?.['secret']?.['secretName']);
      expect(secret, `the Secret of volume ${m['name']}`).to.not.equal(undefined);
      const data = {
        ...Object.fromEntries(Object.entries((secret!['data'] ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')])),
        ...((secret!['stringData'] ?? {}) as Record<string, string>),
      };
      for (const [key, content] of Object.entries(data)) {
        const path = join(local, posix.relative(targetsDir, at), key);
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, content);
        written.push(path);
      }
    }
  }
  return written;
}

/** What a block is checked as (for the test's title; a block that does not parse is neither). */
function kindOf(text: string): 'config' | 'secret' | 'other' {
  try {
    const docs = loadAll(text);
    if (docs.some((d) => configText(d, text) !== undefined)) return 'config';
    return docs.some((d) => (d as Doc | undefined)?.['kind'] === 'Secret') ? 'secret' : 'other';
  } catch {
    return 'other';
  }
}
